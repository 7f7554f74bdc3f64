// The Status bodies kube-apiserver answers errors with (apimachinery pkg/api/errors/errors.go: NewForbidden,
// NewNotFound, NewAlreadyExists, NewConflict, NewApplyConflict, NewInvalid, NewBadRequest).
import type { Json, JsonObject } from './json.js';

/** An answer: HTTP status, body, and extra headers. A string body is sent as text/plain. */
export interface Answer {
  readonly status: number;
  readonly body: Json | string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A group and a resource, printed as the server prints them: `deployments.apps`, `pods`. */
export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

export const DEPLOYMENTS: GroupResource = { group: 'apps', resource: 'deployments' };
export const REPLICASETS: GroupResource = { group: 'apps', resource: 'replicasets' };
export const PODS: GroupResource = { group: '', resource: 'pods' };

export function qualified({ group, resource }: GroupResource): string {
  return group === '' ? resource : `${resource}.${group}`;
}

export function failure(code: number, reason: string, message: string, details?: JsonObject): Answer {
  const body: JsonObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message };
  if (reason !== '') body['reason'] = reason;
  if (details !== undefined) body['details'] = details;
  body['code'] = code;
  return { status: code, body };
}

/** details as StatusDetails marshals it: empty fields omitted. */
export function details(name: string, gr: GroupResource, extra: JsonObject = {}): JsonObject {
  const out: JsonObject = {};
  if (name !== '') out['name'] = name;
  if (gr.group !== '') out['group'] = gr.group;
  if (gr.resource !== '') out['kind'] = gr.resource;
  return { ...out, ...extra };
}

export function forbidden(gr: GroupResource, name: string, reason: string, extra?: JsonObject): Answer {
  const subject = name === '' ? `${qualified(gr)}` : `${qualified(gr)} ${JSON.stringify(name)}`;
  return failure(403, 'Forbidden', `${subject} is forbidden: ${reason}`, details(name, gr, extra));
}

export function notFound(gr: GroupResource, name: string): Answer {
  return failure(404, 'NotFound', `${qualified(gr)} ${JSON.stringify(name)} not found`, details(name, gr));
}

export function alreadyExists(gr: GroupResource, name: string): Answer {
  return failure(409, 'AlreadyExists', `${qualified(gr)} ${JSON.stringify(name)} already exists`, details(name, gr));
}

export function conflict(gr: GroupResource, name: string, reason: string): Answer {
  return failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(gr)} ${JSON.stringify(name)}: ${reason}`,
    details(name, gr),
  );
}

export function badRequest(message: string): Answer {
  return failure(400, 'BadRequest', message);
}

export interface FieldError {
  readonly field: string;
  /** `FieldValueInvalid`, `FieldValueRequired`, `FieldValueForbidden`, `FieldValueNotSupported`. */
  readonly reason: string;
  /** The error text after the field: `Invalid value: 2: must be ...`, `Required value`. */
  readonly message: string;
}

/** NewInvalid: `<Kind>.<group> "<name>" is invalid: <field>: <message>`, one cause per error, `[...]` when several. */
export function invalid(kind: string, group: string, name: string, errors: readonly FieldError[]): Answer {
  const qualifiedKind = group === '' ? kind : `${kind}.${group}`;
  const texts = errors.map((error) => `${error.field}: ${error.message}`);
  const summary = texts.length === 1 ? (texts[0] ?? '') : `[${texts.join(', ')}]`;
  const causes = errors.map((error) => ({ reason: error.reason, message: error.message, field: error.field }));
  return failure(422, 'Invalid', `${qualifiedKind} ${JSON.stringify(name)} is invalid: ${summary}`, {
    ...(name === '' ? {} : { name }),
    ...(group === '' ? {} : { group }),
    kind,
    causes,
  });
}

export function success(body: Json, status = 200): Answer {
  return { status, body };
}
