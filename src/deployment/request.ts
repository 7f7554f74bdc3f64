// What an invocation may ask of a Deployment: the actions, their fields and their rules, with every default applied.
// The Lambda edge (src/lambda/) reads events and custom resource properties into these; the actions take them.
import { DEFAULT_IMAGE, DEFAULT_NAME, DEFAULT_REPLICAS } from '../constants.js';
import { InvalidEventError } from '../errors.js';
import { describe, readFlag, readImage, readLabel, readReplicas, type FieldSyntax } from '../fields.js';

/** What the function can do with the Deployment an event names. */
export const ACTIONS = ['create', 'apply', 'get', 'delete'] as const;
export type Action = (typeof ACTIONS)[number];

/** The Deployment to create or apply. */
export interface DeploymentSpec {
  readonly name: string;
  readonly namespace: string;
  /** Undefined: the apply leaves replicas to the other field managers that own them (an autoscaler, kubectl scale). */
  readonly replicas: number | undefined;
  readonly image: string;
  /** Set on the Deployment; the custom resource records there which stack resource created it. */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** What one invocation asks for, with every default applied. An apply has no defaults: what it leaves out, it keeps
 * as the cluster has it (or, when the apply creates the Deployment, takes the defaults create takes). */
export type ActionRequest =
  | (DeploymentSpec & { readonly replicas: number } & {
      readonly action: 'create';
      readonly dryRun: boolean;
      readonly wait: boolean;
    })
  | (Omit<DeploymentSpec, 'replicas' | 'image'> & {
      readonly action: 'apply';
      /** Undefined when the event leaves them out. */
      readonly replicas: number | undefined;
      readonly image: string | undefined;
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

/** The event fields by name, as the request builder reads them; `named` gives a field's name as the user wrote it
 * (a CloudFormation property is PascalCase). */
export interface RequestFields {
  readonly get: (field: string) => unknown;
  readonly named: (field: string) => string;
  readonly syntax: FieldSyntax;
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
  if (action === 'create') {
    const replicas = readReplicas(get('replicas'), named('replicas'), DEFAULT_REPLICAS, syntax);
    const image = readImage(get('image'), named('image'), DEFAULT_IMAGE);
    return { action, name, namespace, replicas, image, dryRun, wait };
  }
  return {
    action,
    name,
    namespace,
    replicas: readReplicas(get('replicas'), named('replicas'), undefined, syntax),
    image: readImage(get('image'), named('image'), undefined),
    dryRun,
    wait,
    force: readFlag(get('force'), named('force'), syntax),
  };
}

/** The message for a field the action does not use. */
export function notUsedBy(action: Action, takes: readonly string[]): string {
  return `is not used by action "${action}", which takes ${takes.filter((field) => field !== 'action').join(', ')}`;
}

/** The action a field names, `create` when absent. Throws InvalidEventError. */
export function readAction(value: unknown, field: string): Action {
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
