// Reading, server-side applying and deleting one object of any kind, as a set does it: the object's JSON sent exactly
// as written (no client library's model in between), with the set's own field manager.
import { SET_MANAGER } from '../constants.js';
import { requestJson, type JsonObject } from '../kube/client.js';
import { explainRejection } from '../kube/explain.js';
import { send, type Purpose, type Session, type Settled } from '../kube/session.js';
import type { ResourceType } from './discovery.js';
import type { ObjectRef } from './identity.js';

/** The set an operation is for, and the action: the words of error messages, and the grants that allow it. */
export interface SetContext {
  readonly session: Session;
  readonly action: string;
  readonly set: string;
  readonly setNamespace: string;
  /** The CloudFormation stack resource acting on the set (`<StackId>#<LogicalResourceId>`); undefined when invoked
   * directly. A set's record names the stack resource that made it, and only that one may change it. */
  readonly owner?: string | undefined;
}

/** The REST path of an object (or, without a name, of its collection). */
export function objectPath(
  type: Pick<ResourceType, 'apiVersion' | 'plural'>,
  namespace: string | undefined,
  name?: string,
): string {
  const base = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  const scoped = namespace === undefined ? base : `${base}/namespaces/${encodeURIComponent(namespace)}`;
  return `${scoped}/${type.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/** The purpose of a request about `ref`, for error messages and the grant that allows it. */
export function purposeFor(context: SetContext, type: ResourceType, ref: ObjectRef, verb: Purpose['verb']): Purpose {
  return {
    action: context.action,
    verb,
    resource: type.group === '' ? type.plural : `${type.plural}.${type.group}`,
    namespace: ref.namespace ?? '',
    name: ref.name,
    grant: { set: context.set, setNamespace: context.setNamespace },
  };
}

/** The object as the cluster has it; undefined when it does not exist (or its kind or namespace does not yet).
 * Throws the errors of errors.ts for anything else. */
export async function readObject(
  context: SetContext,
  type: ResourceType,
  ref: ObjectRef,
): Promise<JsonObject | undefined> {
  const purpose = purposeFor(context, type, ref, 'get');
  const settled = await send(context.session, purpose, (call) =>
    requestJson(call, { method: 'GET', path: objectPath(type, ref.namespace, ref.name) }, (data) =>
      isObjectNamed(data, ref),
    ),
  );
  if (settled.kind === 'ok') return settled.body;
  if (settled.httpStatus === 404) return undefined;
  throw explainRejection(settled, purpose, context.session);
}

/** Server-side applies `object` as the set's field manager, with strict field validation (an unknown field is an
 * error, not dropped); `force` takes over fields other managers own. Returns how it settled: the caller tells
 * conflicts and refusals apart. */
export function applyObject(
  context: SetContext,
  type: ResourceType,
  ref: ObjectRef,
  object: JsonObject,
  options: { readonly dryRun: boolean; readonly force: boolean },
): Promise<Settled<JsonObject>> {
  const query: Record<string, string> = { fieldManager: SET_MANAGER, fieldValidation: 'Strict' };
  if (options.force) query['force'] = 'true';
  if (options.dryRun) query['dryRun'] = 'All';
  return send(context.session, purposeFor(context, type, ref, 'patch'), (call) =>
    requestJson(
      call,
      {
        method: 'PATCH',
        path: objectPath(type, ref.namespace, ref.name),
        query,
        body: object,
        // A JSON document is YAML: server-side apply's content type takes it as it is.
        contentType: 'application/apply-patch+yaml',
      },
      (data) => isObjectNamed(data, ref),
    ),
  );
}

/** Deletes the object only if its uid is still `uid` (a precondition the server checks), in the background (or with
 * `dryRun`, checked and not done). `gone` when it was already gone, `replaced` when another object of that name is
 * there now (the precondition failed). Throws the errors of errors.ts for anything else. */
export async function deleteObject(
  context: SetContext,
  type: ResourceType,
  ref: ObjectRef,
  uid: string,
  dryRun: boolean,
): Promise<'deleted' | 'gone' | 'replaced'> {
  const purpose = purposeFor(context, type, ref, 'delete');
  const body = {
    apiVersion: 'v1',
    kind: 'DeleteOptions',
    propagationPolicy: 'Background',
    preconditions: { uid },
    ...(dryRun ? { dryRun: ['All'] } : {}),
  };
  const settled = await send(context.session, purpose, (call) =>
    requestJson(
      call,
      {
        method: 'DELETE',
        path: objectPath(type, ref.namespace, ref.name),
        body,
        ...(dryRun ? { query: { dryRun: 'All' } } : {}),
      },
      // The server answers a Status when the object is gone, and the object itself while finalizers hold it.
      (data) => data['kind'] === 'Status' || isObjectNamed(data, ref),
    ),
  );
  if (settled.kind === 'ok') return 'deleted';
  // Our own earlier attempt may have deleted it, its answer lost on the way back.
  if (settled.httpStatus === 404) return settled.uncertain ? 'deleted' : 'gone';
  if (settled.httpStatus === 409) return 'replaced';
  throw explainRejection(settled, purpose, context.session);
}

function isObjectNamed(data: JsonObject, ref: ObjectRef): boolean {
  const metadata = data['metadata'];
  return typeof metadata === 'object' && metadata !== null && Reflect.get(metadata, 'name') === ref.name;
}

/** An object's metadata field, when it is a string. */
export function metadataString(object: JsonObject | undefined, field: string): string | undefined {
  const metadata = object?.['metadata'];
  const value: unknown = typeof metadata === 'object' && metadata !== null ? Reflect.get(metadata, field) : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** An object's labels (or annotations). */
export function metadataMap(object: JsonObject | undefined, field: 'labels' | 'annotations'): Record<string, string> {
  const metadata = object?.['metadata'];
  const value: unknown = typeof metadata === 'object' && metadata !== null ? Reflect.get(metadata, field) : undefined;
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}
