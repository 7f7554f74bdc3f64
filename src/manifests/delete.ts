// delete-manifest: every member of a set removed, in the order that lets operators finish their work: webhook
// configurations first, then custom resources (waited for until they are gone: their operator may need to finalize
// them), then the rest in reverse install order (order.ts deleteGroups); each only if it still carries
// this set's label, with its live uid as the delete's precondition. The record goes last, so that a delete cut short
// (a finalizer that never clears) can be run again to finish.
import { APPLYSET_PART_OF_LABEL, POLL_FIRST_INTERVAL_MS } from '../constants.js';
import { RolloutTimeoutError } from '../errors.js';
import { elapsedMs, type Session } from '../kube/session.js';
import { sleep } from '../retry.js';
import { resourceTypeOf, type ResourceType } from './discovery.js';
import { describeRef, type Member } from './identity.js';
import { deleteObject, metadataMap, readObject, type SetContext } from './objects.js';
import { deleteGroups } from './order.js';
import { applySetId, deleteRecord, readRecord, refuseOtherOwner, writeRecord } from './record.js';
import type { ManifestRequest } from './request.js';
import { countActions, objectResult, refOf, uidOf, type SetObjectResult, type SetResult } from './result.js';

type DeleteRequest = Extract<ManifestRequest, { action: 'delete-manifest' }>;

/** What became of a member: its result, and whether it stays in the set's record. */
interface Outcome {
  readonly entry: SetObjectResult;
  readonly stays: boolean;
}

interface TypedMember extends Member {
  readonly type: ResourceType | undefined;
  readonly custom: boolean;
}

/** Deletes the set (see the file's head); `absent` when it has no record. `owner` is the stack resource acting, if
 * any: a set owned otherwise is a SetConflictError. Throws RolloutTimeoutError, naming what is left and its
 * finalizers, when custom resources outlast the invocation; and the errors of errors.ts. */
export async function deleteManifest(
  session: Session,
  request: DeleteRequest,
  owner: string | undefined = undefined,
): Promise<SetResult> {
  const { set, namespace } = request;
  const context: SetContext = { session, action: request.action, set, setNamespace: namespace, owner };
  const record = await readRecord(context);
  if (record === undefined) {
    return { status: 'absent', set, namespace, counts: {}, objects: [] };
  }
  refuseOtherOwner(context, record);
  const id = applySetId(set, namespace);
  const typed: TypedMember[] = [];
  for (const member of record.members) {
    const type = await resourceTypeOf(session, member.apiVersion, member.kind);
    typed.push({ ...member, type, custom: type?.custom ?? false });
  }
  const { webhooks, custom, rest } = deleteGroups(typed);
  const outcomes = new Map<TypedMember, Outcome>();
  for (const member of webhooks) outcomes.set(member, await deleteMember(context, member, id, request));
  for (const member of custom) outcomes.set(member, await deleteMember(context, member, id, request));
  if (!request.dryRun) {
    await waitUntilGone(
      context,
      custom.filter((member) => outcomes.get(member)?.entry.action === 'deleted'),
    );
  }
  for (const member of rest) outcomes.set(member, await deleteMember(context, member, id, request));
  const objects = [...outcomes.values()].map(({ entry }) => entry);
  if (request.dryRun) {
    return { status: 'dry-run', set, namespace, counts: countActions(objects), objects };
  }
  // CustomResourceDefinitions and Namespaces kept for want of deleteCrdsAndNamespaces stay the set's: its record then
  // lists just them, so that delete-manifest with the flag can finish; otherwise the record goes, last.
  const remaining = [...outcomes].filter(([, { stays }]) => stays).map(([member]) => member);
  if (remaining.length > 0) {
    await writeRecord(context, remaining);
  } else {
    await deleteRecord(context, record.uid);
  }
  return { status: 'deleted', set, namespace, counts: countActions(objects), objects };
}

async function deleteMember(
  context: SetContext,
  member: TypedMember,
  id: string,
  request: DeleteRequest,
): Promise<Outcome> {
  const { type } = member;
  const gone = (message: string): Outcome => ({
    entry: objectResult(member, { action: 'deleted', message }),
    stays: false,
  });
  if (type === undefined) return gone('its kind is no longer served');
  const current = await readObject(context, type, refOf(member));
  if (current === undefined) return gone('already gone');
  const uid = uidOf(current) ?? '';
  const kept = (message: string, stays = false): Outcome => ({
    entry: objectResult({ ...member, uid }, { action: 'kept', message }),
    stays,
  });
  if (metadataMap(current, 'labels')[APPLYSET_PART_OF_LABEL] !== id) {
    return kept("it no longer carries this set's label: left alone");
  }
  if ((member.kind === 'CustomResourceDefinition' || member.kind === 'Namespace') && !request.deleteCrdsAndNamespaces) {
    return kept(
      `deleting a ${member.kind} deletes everything ${member.kind === 'Namespace' ? 'in it' : 'of its kind'}: ` +
        'delete-manifest with "deleteCrdsAndNamespaces": true deletes it (the set\'s record keeps it until then)',
      true,
    );
  }
  const outcome = await deleteObject(context, type, refOf(member), uid, request.dryRun);
  if (outcome === 'replaced') return kept('another object of that name replaced it: left alone');
  return {
    entry: objectResult({ ...member, uid }, { action: 'deleted', ...(request.dryRun ? { verified: true } : {}) }),
    stays: false,
  };
}

/** Polls until each custom resource is gone (or replaced by another of its name); throws RolloutTimeoutError naming
 * those left and their finalizers when the time runs out first. */
async function waitUntilGone(context: SetContext, members: readonly TypedMember[]): Promise<void> {
  let left = [...members];
  while (left.length > 0) {
    const still: { member: TypedMember; finalizers: string[] }[] = [];
    for (const member of left) {
      if (member.type === undefined) continue;
      const current = await readObject(context, member.type, refOf(member));
      if (current !== undefined && (member.uid === undefined || uidOf(current) === member.uid)) {
        const finalizers: unknown = Reflect.get(Object(current['metadata']), 'finalizers');
        still.push({ member, finalizers: Array.isArray(finalizers) ? finalizers.map(String) : [] });
      }
    }
    if (still.length === 0) return;
    if (Date.now() + POLL_FIRST_INTERVAL_MS + 1000 > context.session.deadline) {
      const named = still
        .map(
          ({ member, finalizers }) =>
            `${describeRef(member)}${finalizers.length > 0 ? ` (finalizers: ${finalizers.join(', ')})` : ''}`,
        )
        .join('; ');
      throw new RolloutTimeoutError(
        `set "${context.set}" is still being deleted after ${(elapsedMs(context.session) / 1000).toFixed(1)} s: ` +
          `${named} ${still.length === 1 ? 'is' : 'are'} not gone yet (an operator finalizes them, or a finalizer ` +
          "never clears). The set's record is kept: invoke delete-manifest again to finish, and check the operator " +
          'of those kinds if they stay.',
      );
    }
    left = still.map(({ member }) => member);
    await sleep(POLL_FIRST_INTERVAL_MS);
  }
}
