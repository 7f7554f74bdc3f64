// A set's record: a ConfigMap `lambda-eks-set-<set>` in the set's namespace, the parent of an ApplySet (KEP-3659,
// kubectl pkg/cmd/apply/applyset.go: its id label and tooling and contents annotations), that lists every member's
// identity, the version it was applied as and, once known, its uid: an exact inventory, so that prune and delete
// read each member by name and never list (as Flux's kustomize-controller keeps one).
import { createHash } from 'node:crypto';
import {
  APPLYSET_GROUP_KINDS_ANNOTATION,
  APPLYSET_ID_LABEL,
  APPLYSET_NAMESPACES_ANNOTATION,
  APPLYSET_PART_OF_LABEL,
  APPLYSET_TOOLING_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGER,
  SET_RECORD_PREFIX,
  SET_TOOLING,
  STACK_RESOURCE_ANNOTATION,
} from '../constants.js';
import { KubernetesApiError, SetConflictError } from '../errors.js';
import type { JsonObject } from '../kube/client.js';
import { explainRejection } from '../kube/explain.js';
import type { ResourceType } from './discovery.js';
import { groupKind, groupOf, type Member } from './identity.js';
import { applyObject, deleteObject, metadataMap, metadataString, readObject, type SetContext } from './objects.js';

/** The record as read: its members, its own uid, and the stack resource that owns the set (if one does). */
export interface SetRecord {
  readonly members: readonly Member[];
  readonly uid: string | undefined;
  readonly owner: string | undefined;
}

const CONFIG_MAPS: ResourceType = {
  apiVersion: 'v1',
  group: '',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
  custom: false,
};

/** The record's name for a set. */
export function recordName(set: string): string {
  return `${SET_RECORD_PREFIX}${set}`;
}

/** The ApplySet id of a set: `applyset-<base64url(sha256(<name>.<namespace>.<Kind>.<group>))>-v1` of its parent. */
export function applySetId(set: string, namespace: string): string {
  const hash = createHash('sha256')
    .update(`${recordName(set)}.${namespace}.ConfigMap.`)
    .digest('base64url');
  return `applyset-${hash}-v1`;
}

function recordRef(context: SetContext) {
  return { group: '', kind: 'ConfigMap', namespace: context.setNamespace, name: recordName(context.set) };
}

/** The set's record; undefined when the set has none. Throws SetConflictError for a ConfigMap of that name that is
 * not a record of this function's (another tool's ApplySet, or anything else). */
export async function readRecord(context: SetContext): Promise<SetRecord | undefined> {
  const object = await readObject(context, CONFIG_MAPS, recordRef(context));
  if (object === undefined) return undefined;
  const tooling = metadataMap(object, 'annotations')[APPLYSET_TOOLING_ANNOTATION];
  const id = metadataMap(object, 'labels')[APPLYSET_ID_LABEL];
  if (id !== applySetId(context.set, context.setNamespace) || !tooling?.startsWith(`${MANAGER}/`)) {
    throw new SetConflictError(
      `ConfigMap "${recordName(context.set)}" in namespace "${context.setNamespace}" is not the record of set ` +
        `"${context.set}" (${tooling === undefined ? 'it is no ApplySet of lambda-eks' : `its tooling is "${tooling}"`}); ` +
        'nothing was changed. Give the set another name, or remove that ConfigMap if nothing uses it.',
    );
  }
  const members = readMembers(object);
  if (members === undefined) {
    throw new SetConflictError(
      `ConfigMap "${recordName(context.set)}" in namespace "${context.setNamespace}", the record of set ` +
        `"${context.set}", was changed by hand: its data.members is not the list of objects the function writes, so ` +
        "it cannot tell which objects are the set's; nothing was changed. Restore data.members, or delete the record " +
        `and the set's objects (labelled ${APPLYSET_PART_OF_LABEL}=${id}) and apply again.`,
    );
  }
  return {
    members,
    uid: metadataString(object, 'uid'),
    owner: metadataMap(object, 'annotations')[STACK_RESOURCE_ANNOTATION],
  };
}

/** Throws SetConflictError when the set is not the acting party's: a CloudFormation stack resource's set changes
 * only through that stack resource, and CloudFormation does not take over a set made otherwise. */
export function refuseOtherOwner(context: SetContext, record: SetRecord | undefined): void {
  if (record === undefined || record.owner === context.owner) return;
  const set = `set "${context.set}" in namespace "${context.setNamespace}"`;
  if (context.owner === undefined) {
    throw new SetConflictError(
      `${set} is managed by CloudFormation (${describeOwner(record.owner ?? '')}): nothing was changed. Change it ` +
        'through its stack, or delete the stack resource first.',
    );
  }
  throw new SetConflictError(
    `${set} exists and ${record.owner === undefined ? 'was made by a direct invocation, not by a stack resource' : `belongs to another stack resource (${describeOwner(record.owner)})`}: nothing was changed. CloudFormation creates ` +
      'sets, it does not take them over: give the resource another SetName (or Namespace).',
  );
}

/** A stack resource, `<StackId>#<LogicalResourceId>`, for messages: `resource Web of stack web-stack`. */
export function describeOwner(owner: string): string {
  const [stackId = '', logicalId = ''] = owner.split('#');
  const stack = /:stack\/([^/]+)\//.exec(stackId)?.[1] ?? stackId;
  return `resource ${logicalId} of stack ${stack}`;
}

/** Writes the record with exactly `members` (server-side apply, as the set's manager). */
export async function writeRecord(context: SetContext, members: readonly Member[]): Promise<void> {
  const namespaces = [...new Set(members.map((member) => member.namespace))].filter(
    (namespace): namespace is string => namespace !== undefined && namespace !== context.setNamespace,
  );
  const groupKinds = [...new Set(members.map((member) => groupKind(member)))].sort();
  const object: JsonObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: recordName(context.set),
      namespace: context.setNamespace,
      labels: { [APPLYSET_ID_LABEL]: applySetId(context.set, context.setNamespace), [MANAGED_BY_LABEL]: MANAGER },
      annotations: {
        ...(context.owner === undefined ? {} : { [STACK_RESOURCE_ANNOTATION]: context.owner }),
        [APPLYSET_TOOLING_ANNOTATION]: SET_TOOLING,
        [APPLYSET_GROUP_KINDS_ANNOTATION]: groupKinds.join(','),
        ...(namespaces.length > 0 ? { [APPLYSET_NAMESPACES_ANNOTATION]: namespaces.sort().join(',') } : {}),
      },
    },
    data: {
      members: JSON.stringify(
        members.map(({ apiVersion, kind, namespace, name, uid, applied }) => ({
          apiVersion,
          kind,
          ...(namespace === undefined ? {} : { namespace }),
          name,
          ...(uid === undefined ? {} : { uid }),
          ...(applied === undefined ? {} : { applied }),
        })),
      ),
    },
  };
  const ref = recordRef(context);
  const settled = await applyObject(context, CONFIG_MAPS, ref, object, { dryRun: false, force: true });
  if (settled.kind === 'ok') return;
  if (settled.httpStatus === 404 && /^namespaces "/.test(settled.status.message ?? '')) {
    throw new KubernetesApiError(
      404,
      'NotFound',
      settled.status.message ?? '',
      `the set's namespace "${context.setNamespace}" does not exist: a set's record lives in a namespace that exists ` +
        'already (create it first, or pass another "namespace"); nothing was applied.',
    );
  }
  throw explainRejection(
    settled,
    {
      ...ref,
      action: context.action,
      verb: 'patch',
      resource: 'configmaps',
      namespace: context.setNamespace,
      grant: { set: context.set, setNamespace: context.setNamespace },
    },
    context.session,
  );
}

/** Deletes the record, if it is still the one read (`uid`). */
export async function deleteRecord(context: SetContext, uid: string | undefined): Promise<void> {
  if (uid === undefined) return;
  await deleteObject(context, CONFIG_MAPS, recordRef(context), uid, false);
}

/** The members the record lists; undefined when data.members is not what writeRecord writes. */
function readMembers(object: JsonObject): Member[] | undefined {
  const data = object['data'];
  const text: unknown = typeof data === 'object' && data !== null ? Reflect.get(data, 'members') : undefined;
  let parsed: unknown;
  try {
    parsed = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const members: Member[] = [];
  for (const entry of parsed) {
    const field = (key: string): unknown =>
      typeof entry === 'object' && entry !== null ? Reflect.get(entry, key) : undefined;
    const [apiVersion, kind, namespace, name, uid, applied] = [
      'apiVersion',
      'kind',
      'namespace',
      'name',
      'uid',
      'applied',
    ].map(field);
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof name !== 'string') return undefined;
    members.push({
      apiVersion,
      group: groupOf(apiVersion),
      kind,
      namespace: typeof namespace === 'string' ? namespace : undefined,
      name,
      uid: typeof uid === 'string' ? uid : undefined,
      // Written by an earlier version without it, or edited: the object is then checked by a dry run, as before.
      ...(typeof applied === 'string' ? { applied } : {}),
    });
  }
  return members;
}
