import { DEFAULT_IMAGE, DEFAULT_NAME, DEFAULT_REPLICAS } from '../constants.js';
import { InvalidEventError } from '../errors.js';
import { describe, readFlag, readImage, readLabel, readReplicas, truncate, type FieldSyntax } from './fields.js';

/** What the function can do with the Deployment an event names. */
export const ACTIONS = ['create', 'apply', 'get', 'delete'] as const;
export type Action = (typeof ACTIONS)[number];

/** The Deployment to create or apply. */
export interface DeploymentSpec {
  readonly name: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly image: string;
  /** Set on the Deployment; the custom resource records there which stack resource created it. */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** What one invocation asks for, with every default applied. */
export type ActionRequest =
  | (DeploymentSpec & { readonly action: 'create'; readonly dryRun: boolean; readonly wait: boolean })
  | (DeploymentSpec & {
      readonly action: 'apply';
      readonly dryRun: boolean;
      readonly wait: boolean;
      readonly force: boolean;
    })
  | { readonly action: 'get'; readonly name: string; readonly namespace: string }
  | {
      readonly action: 'delete';
      readonly name: string;
      readonly namespace: string;
      readonly dryRun: boolean;
      readonly wait: boolean;
    };

/** The fields each action takes: any other field in an event is a mistake the user should hear about. */
export const ACTION_FIELDS: Readonly<Record<Action, readonly string[]>> = {
  create: ['action', 'name', 'namespace', 'replicas', 'image', 'dryRun', 'wait'],
  apply: ['action', 'name', 'namespace', 'replicas', 'image', 'dryRun', 'wait', 'force'],
  get: ['action', 'name', 'namespace'],
  delete: ['action', 'name', 'namespace', 'dryRun', 'wait'],
};
const KNOWN: ReadonlySet<string> = new Set(Object.values(ACTION_FIELDS).flat());
const ALLOWED = `allowed fields: ${[...KNOWN].join(', ')}`;
const JSON_ONLY: FieldSyntax = { strings: false };

/** The event fields by name, as the request builder reads them; `named` gives a field's name as the user wrote it
 * (a CloudFormation property is PascalCase). */
export interface RequestFields {
  readonly get: (field: string) => unknown;
  readonly named: (field: string) => string;
  readonly syntax: FieldSyntax;
}

/** Validates a direct invocation event and applies defaults; throws InvalidEventError naming the field at fault. */
export function parseEvent(event: unknown, defaultNamespace: string): ActionRequest {
  if (event === null || event === undefined) {
    return buildRequest(fieldsOf({}), defaultNamespace);
  }
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidEventError('event', `must be a JSON object (or empty), not ${describe(event)}; ${ALLOWED}`);
  }
  const fields: Record<string, unknown> = { ...event };
  for (const key of Object.keys(fields)) {
    if (!KNOWN.has(key)) {
      throw new InvalidEventError(truncate(key), `is not a field this function accepts; ${ALLOWED}`);
    }
  }
  const action = readAction(fields['action'], 'action');
  const unused = Object.keys(fields).find((key) => !ACTION_FIELDS[action].includes(key));
  if (unused !== undefined) {
    throw new InvalidEventError(unused, notUsedBy(action, ACTION_FIELDS[action]));
  }
  return buildRequest(fieldsOf(fields), defaultNamespace);
}

/** The request for validated field names: reads, checks and defaults each value. Throws InvalidEventError. */
export function buildRequest(fields: RequestFields, defaultNamespace: string): ActionRequest {
  const { get, named, syntax } = fields;
  const action = readAction(get('action'), named('action'));
  const name = readLabel(get('name'), named('name'), DEFAULT_NAME);
  const namespace = readLabel(get('namespace'), named('namespace'), defaultNamespace);
  if (action === 'get') {
    return { action, name, namespace };
  }
  const dryRun = readFlag(get('dryRun'), named('dryRun'), syntax);
  const wait = readFlag(get('wait'), named('wait'), syntax);
  if (dryRun && wait) {
    throw new InvalidEventError(
      named('wait'),
      `cannot be combined with ${named('dryRun')}: a dry run changes nothing, so there is nothing to wait for`,
    );
  }
  if (action === 'delete') {
    return { action, name, namespace, dryRun, wait };
  }
  const spec = {
    name,
    namespace,
    replicas: readReplicas(get('replicas'), named('replicas'), DEFAULT_REPLICAS, syntax),
    image: readImage(get('image'), named('image'), DEFAULT_IMAGE),
  };
  if (action === 'create') {
    return { action, ...spec, dryRun, wait };
  }
  return { action, ...spec, dryRun, wait, force: readFlag(get('force'), named('force'), syntax) };
}

/** The message for a field the action does not use. */
export function notUsedBy(action: Action, takes: readonly string[]): string {
  return `is not used by action "${action}", which takes ${takes.filter((field) => field !== 'action').join(', ')}`;
}

function readAction(value: unknown, field: string): Action {
  if (value === undefined) {
    return 'create';
  }
  const action = ACTIONS.find((candidate) => candidate === value);
  if (action === undefined) {
    throw new InvalidEventError(
      field,
      `must be one of ${ACTIONS.map((a) => `"${a}"`).join(', ')}, not ${describe(value)}`,
    );
  }
  return action;
}

function fieldsOf(fields: Readonly<Record<string, unknown>>): RequestFields {
  return {
    get: (field) => (Object.hasOwn(fields, field) ? fields[field] : undefined),
    named: (field) => field,
    syntax: JSON_ONLY,
  };
}
