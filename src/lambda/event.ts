// A direct invocation's event (console, CLI, pipeline): checked field by field before any call, defaults applied.
import { InvalidEventError } from '../errors.js';
import { describe, truncate, type FieldSyntax } from '../fields.js';
import {
  ACTION_FIELDS,
  buildRequest,
  notUsedBy,
  readAction,
  type ActionRequest,
  type RequestFields,
} from '../deployment/request.js';

const KNOWN: ReadonlySet<string> = new Set(Object.values(ACTION_FIELDS).flat());
const ALLOWED = `allowed fields: ${[...KNOWN].join(', ')}`;
const JSON_ONLY: FieldSyntax = { strings: false };

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

function fieldsOf(fields: Readonly<Record<string, unknown>>): RequestFields {
  return {
    get: (field) => (Object.hasOwn(fields, field) ? fields[field] : undefined),
    named: (field) => field,
    syntax: JSON_ONLY,
  };
}
