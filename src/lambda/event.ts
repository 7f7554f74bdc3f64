// A direct invocation's event (console, CLI, pipeline): checked field by field before any call, defaults applied.
// The Deployment actions and the manifest actions each own their fields and rules; this edge only reads the event.
import { ACTION_FIELDS, ACTIONS as DEPLOYMENT_ACTIONS, buildRequest, type Action } from '../deployment/request.js';
import { InvalidEventError } from '../errors.js';
import { describe, truncate, type FieldSyntax } from '../fields.js';
import { buildManifestRequest, MANIFEST_ACTIONS, MANIFEST_FIELDS, type ManifestAction } from '../manifests/request.js';
import type { FunctionRequest } from '../run.js';

/** Every action a direct event may name, and the fields each takes. */
const FIELDS: Readonly<Record<Action | ManifestAction, readonly string[]>> = { ...ACTION_FIELDS, ...MANIFEST_FIELDS };
const ACTIONS: readonly (Action | ManifestAction)[] = [...DEPLOYMENT_ACTIONS, ...MANIFEST_ACTIONS];
const KNOWN: ReadonlySet<string> = new Set(Object.values(FIELDS).flat());
const ALLOWED = `allowed fields: ${[...KNOWN].join(', ')}`;
const JSON_ONLY: FieldSyntax = { strings: false };

/** Validates a direct invocation event and applies defaults; throws InvalidEventError naming the field at fault. */
export function parseEvent(event: unknown, defaultNamespace: string): FunctionRequest {
  if (event === null || event === undefined) {
    return parseEvent({}, defaultNamespace);
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
  const action = readAnyAction(fields['action']);
  const takes = FIELDS[action];
  const unused = Object.keys(fields).find((key) => !takes.includes(key));
  if (unused !== undefined) {
    throw new InvalidEventError(
      unused,
      `is not used by action "${action}", which takes ${takes.filter((field) => field !== 'action').join(', ')}`,
    );
  }
  const get = (field: string): unknown => (Object.hasOwn(fields, field) ? fields[field] : undefined);
  const named = (field: string): string => field;
  if (isManifestAction(action)) {
    return buildManifestRequest(action, get, named, JSON_ONLY, defaultNamespace);
  }
  return buildRequest({ get, named, syntax: JSON_ONLY }, defaultNamespace);
}

function readAnyAction(value: unknown): Action | ManifestAction {
  if (value === undefined) return 'create';
  const action = ACTIONS.find((candidate) => candidate === value);
  if (action === undefined) {
    throw new InvalidEventError(
      'action',
      `must be one of ${ACTIONS.map((a) => `"${a}"`).join(', ')}, not ${describe(value)}`,
    );
  }
  return action;
}

function isManifestAction(action: string): action is ManifestAction {
  return MANIFEST_ACTIONS.some((candidate) => candidate === action);
}
