// apply-manifest: a set converged to a manifest, as the best appliers do it (fluxcd/pkg ssa: one verb a file, staged
// apply, no write for what is unchanged; kubectl's ApplySet for ownership). In order:
// 1. plan: parse, discover, check; nothing is written if anything is wrong;
// 2. read every object and check who owns it: another set's, or no set's without `adopt`, is a SetConflictError and
//    nothing is changed;
// 3. write the set's record with the old and the new members, so that an apply cut short never leaks an object;
// 4. apply the objects stage by stage (CRDs waited for until Established), each only if it would change: an object
//    nobody has written since this set did (its resourceVersion is the one the record keeps), sent again as it was,
//    would not; any other is checked by a server-side dry run;
// 5. prune the members the manifest no longer has, in reverse order, each only if it still carries this set's label
//    and is the object recorded (its uid, as the delete's precondition);
// 6. write the record with exactly the members;
// 7. judge each object's readiness (readiness.ts), or with `wait` poll until every object is ready.
import { createHash } from 'node:crypto';
import { APPLYSET_PART_OF_LABEL, MANAGED_BY_LABEL, MANAGER, SET_ANNOTATION } from '../constants.js';
import { ClusterAuthorizationError, KubernetesApiError, RolloutTimeoutError, SetConflictError } from '../errors.js';
import type { JsonObject, Rejected } from '../kube/client.js';
import { explainRejection } from '../kube/explain.js';
import { elapsedMs, type Session } from '../kube/session.js';
import { sleep } from '../retry.js';
import type { ReadinessReport } from '../status/kstatus.js';
import { resourceTypeOf, type ResourceType } from './discovery.js';
import { describeRef, refKey, type Member } from './identity.js';
import {
  applyObject,
  deleteObject,
  metadataMap,
  metadataString,
  purposeFor,
  readObject,
  type SetContext,
} from './objects.js';
import { installGroups, pruneOrder, stageOf } from './order.js';
import { memberOf, planSet, type PlannedObject } from './plan.js';
import { judgeReadiness, waitUntilReady } from './readiness.js';
import { applySetId, readRecord, refuseOtherOwner, writeRecord } from './record.js';
import type { InlineManifest, ManifestRequest } from './request.js';
import { countActions, objectResult, refOf, uidOf, type SetObjectResult, type SetResult } from './result.js';

/** What applyOne did to an object: its result, the object as the cluster now has it (undefined after a dry run), and
 * the record's stamp of what the set last wrote to it. */
interface Applied {
  readonly entry: SetObjectResult;
  readonly live: JsonObject | undefined;
  readonly applied: string | undefined;
}

/** An apply-manifest request whose manifest is at hand (source.ts reads one from S3). */
type ApplyRequest = Omit<Extract<ManifestRequest, { action: 'apply-manifest' }>, 'manifest'> & {
  readonly manifest: InlineManifest;
};

/** A CloudFormation stack resource applying its set: `owner` is written in the set's record, and a replacement (a new
 * SetName or Namespace) takes over the objects of the stack resource's old set, `takeOverFrom` (its ApplySet id). */
export interface StackResource {
  readonly owner: string;
  readonly takeOverFrom?: string | undefined;
}

/** Objects of one group applied at the same time, at most. */
const CONCURRENCY = 4;
/** How often a CRD is read while waiting for it to be Established. */
const ESTABLISHED_POLL_MS = 250;
const MAX_REPORTED_CONFLICTS = 5;

/** Applies a set (see the file's head); returns what was done to each object. Throws InvalidManifestError,
 * SetConflictError and the errors of errors.ts; whatever it throws after step 3 leaves the record listing every
 * object it may have made, so that applying again (or delete-manifest) finishes the job. */
export async function applyManifest(
  session: Session,
  request: ApplyRequest,
  stack: StackResource | undefined = undefined,
): Promise<SetResult> {
  const { set, namespace, dryRun } = request;
  const context: SetContext = { session, action: request.action, set, setNamespace: namespace, owner: stack?.owner };
  const id = applySetId(set, namespace);
  const planned = await planSet(session, request.manifest, { set, namespace, applySetId: id });
  const record = await readRecord(context);
  refuseOtherOwner(context, record);
  const previous = record?.members ?? [];
  const wanted = new Set(planned.map((object) => refKey(object.ref)));
  const live = await mapBounded(planned, (object) => readObject(context, object.type, object.ref));
  refuseConflicts(planned, live, [id, ...(stack?.takeOverFrom === undefined ? [] : [stack.takeOverFrom])], request);

  const leaving = previous.filter((member) => !wanted.has(refKey(member)));
  let recorded = previous;
  const before = new Map(previous.map((member) => [refKey(member), member]));
  if (!dryRun) {
    // The union first: an apply cut short from here on leaks nothing, the next one (or a delete) finds it all.
    recorded = await writeRecordIfChanged(context, recorded, [
      ...planned.map((object, index) => {
        const member = before.get(refKey(object.ref));
        return memberOf(object, uidOf(live[index]) ?? member?.uid, member?.applied);
      }),
      ...leaving,
    ]);
  }

  const applied = new Map<string, Applied>();
  let crdsEstablished = false;
  for (const group of installGroups(planned)) {
    if (!crdsEstablished && group.some((object) => stageOf(object) > 0)) {
      if (!dryRun) await waitForCrds(context, planned);
      crdsEstablished = true;
    }
    // A custom resource whose CRD this apply changed is checked by the server again (its schema may prune, default or
    // refuse fields now), whatever the record says.
    const changedKinds = new Set(
      planned
        .filter(
          (object) =>
            isCrd(object) && /^(created|configured)$/.test(applied.get(refKey(object.ref))?.entry.action ?? ''),
        )
        .map((object) => object.ref.name),
    );
    const results = await mapBounded(group, (object) =>
      applyOne(context, object, live[planned.indexOf(object)], request, id, {
        lastApplied: before.get(refKey(object.ref))?.applied,
        trusted: !changedKinds.has(`${object.type.plural}.${object.type.group}`),
      }),
    );
    group.forEach((object, index) => {
      const result = results[index];
      if (result !== undefined) applied.set(refKey(object.ref), result);
    });
  }

  const departed = await pruneMembers(context, leaving, request, id);
  if (!dryRun) {
    await writeRecordIfChanged(context, recorded, [
      ...planned.map((object) => {
        const done = applied.get(refKey(object.ref));
        return memberOf(object, done?.entry.uid, done?.applied);
      }),
      ...departed.filter(({ result }) => result.stays).map(({ member }) => member),
    ]);
  }
  const readiness = dryRun ? [] : await readinessOf(context, planned, applied, request.wait);
  const objects = [
    ...planned.map((object, index) => {
      const entry = applied.get(refKey(object.ref))?.entry ?? objectResult(memberOf(object, undefined));
      const report = readiness[index];
      return report === undefined ? entry : { ...entry, ready: report.ready, readyMessage: report.message };
    }),
    ...departed.map(({ result }) => result.entry),
  ];
  return { status: dryRun ? 'dry-run' : 'applied', set, namespace, counts: countActions(objects), objects };
}

/** Each object's readiness: waited for with `wait`, else judged once from the object as the apply left it. */
async function readinessOf(
  context: SetContext,
  planned: readonly PlannedObject[],
  applied: ReadonlyMap<string, { live: JsonObject | undefined }>,
  wait: boolean,
): Promise<(ReadinessReport | undefined)[]> {
  if (wait) {
    return waitUntilReady(
      context,
      planned,
      'The apply itself is done and stays: fix what is named, then apply again (or wait with get-manifest).',
    );
  }
  return mapBounded(planned, async (object) => {
    const live = applied.get(refKey(object.ref))?.live;
    return live === undefined ? undefined : judgeReadiness(context, { ref: object.ref, type: object.type, live });
  });
}

/** Writes the record with `members`, unless it holds just those already (an unchanged set writes nothing at all);
 * returns what the record now holds. */
async function writeRecordIfChanged(
  context: SetContext,
  current: readonly Member[],
  members: readonly Member[],
): Promise<readonly Member[]> {
  const key = (list: readonly Member[]) =>
    list
      .map((member) => `${refKey(member)}/${member.apiVersion}/${member.uid ?? ''}/${member.applied ?? ''}`)
      .sort()
      .join('\n');
  if (current.length > 0 && key(current) === key(members)) return current;
  await writeRecord(context, members);
  return members;
}

/** Throws SetConflictError, listing them, when any object belongs to another set (but `ours`: this set's id, and
 * the set a replacement takes over from), or to none without `adopt`. */
function refuseConflicts(
  planned: readonly PlannedObject[],
  live: readonly (JsonObject | undefined)[],
  ours: readonly string[],
  request: ApplyRequest,
): void {
  const conflicts = planned.flatMap((object, index) => {
    const current = live[index];
    if (current === undefined) return [];
    const labels = metadataMap(current, 'labels');
    const partOf = labels[APPLYSET_PART_OF_LABEL];
    if (partOf !== undefined && ours.includes(partOf)) return [];
    if (partOf !== undefined) {
      const owner = metadataMap(current, 'annotations')[SET_ANNOTATION];
      return [
        `${describeRef(object.ref)} belongs to ${owner === undefined ? 'another set' : `set ${owner}`} ` +
          `(${APPLYSET_PART_OF_LABEL}: ${partOf})`,
      ];
    }
    if (request.adopt) return [];
    const madeBy =
      labels[MANAGED_BY_LABEL] === MANAGER && object.kind === 'Deployment' ? ' (the Deployment actions made it)' : '';
    return [`${describeRef(object.ref)} exists and belongs to no set${madeBy}`];
  });
  if (conflicts.length === 0) return;
  const shown = conflicts.slice(0, MAX_REPORTED_CONFLICTS).join('; ');
  const more =
    conflicts.length > MAX_REPORTED_CONFLICTS ? ` (and ${conflicts.length - MAX_REPORTED_CONFLICTS} more)` : '';
  throw new SetConflictError(
    `set "${request.set}" in namespace "${request.namespace}" cannot take these objects: ${shown}${more}. Nothing was ` +
      "changed. An object of another set stays that set's (remove it from this manifest, or from the other set " +
      'first); "adopt": true takes over objects that belong to no set, with the fields other managers hold.',
  );
}

/** Applies one object, unless nothing would change: the set wrote this very object and nobody has written it since
 * (`lastApplied`, the record's stamp, unless it is not `trusted` this time), or a server-side dry run says so. A
 * dry-run request always asks the server. */
async function applyOne(
  context: SetContext,
  object: PlannedObject,
  live: JsonObject | undefined,
  request: ApplyRequest,
  id: string,
  record: { readonly lastApplied: string | undefined; readonly trusted: boolean },
): Promise<Applied> {
  const { lastApplied } = record;
  const digest = digestOf(object.object);
  const ours = live !== undefined && metadataMap(live, 'labels')[APPLYSET_PART_OF_LABEL] === id;
  if (!request.dryRun && ours && record.trusted && lastApplied !== undefined && lastApplied === stamp(live, digest)) {
    return { entry: objectResult(memberOf(object, uidOf(live)), { action: 'unchanged' }), live, applied: lastApplied };
  }
  // An object that belongs to no set yet is being adopted: its fields are taken over from their managers.
  const force = request.force || (live !== undefined && !ours);
  const preview = await applyObject(context, object.type, object.ref, object.object, { dryRun: true, force });
  if (preview.kind === 'rejected') {
    if (request.dryRun && object.dependsOnSet && preview.httpStatus === 404) {
      const entry = objectResult(memberOf(object, undefined), {
        action: 'created',
        verified: false,
        message:
          'its CustomResourceDefinition or namespace comes with the set, so the server cannot check it before they exist',
      });
      return { entry, live: undefined, applied: undefined };
    }
    throw refusal(context, object, preview);
  }
  const changes = live === undefined || !sameObject(live, preview.body);
  const would = live === undefined ? 'created' : changes ? 'configured' : 'unchanged';
  if (request.dryRun) {
    const entry = objectResult(memberOf(object, uidOf(live)), { action: would, verified: true });
    return { entry, live: undefined, applied: lastApplied };
  }
  if (!changes) {
    // The stamp stays as it was: a new one would cost a write of the record, for an object that may change again
    // without us (a Deployment's status).
    return { entry: objectResult(memberOf(object, uidOf(live)), { action: 'unchanged' }), live, applied: lastApplied };
  }
  const settled = await applyObject(context, object.type, object.ref, object.object, { dryRun: false, force });
  if (settled.kind === 'rejected') throw refusal(context, object, settled);
  // A retried apply whose first attempt created it, its answer lost, is still the one that created it.
  const created = settled.httpStatus === 201 || (live === undefined && settled.uncertain);
  const entry = objectResult(memberOf(object, uidOf(settled.body)), { action: created ? 'created' : 'configured' });
  return { entry, live: settled.body, applied: stamp(settled.body, digest) };
}

/** The record's stamp of an object as the cluster has it, for the object sent: "<resourceVersion> <digest>". */
function stamp(object: JsonObject, digest: string): string | undefined {
  const resourceVersion = metadataString(object, 'resourceVersion');
  return resourceVersion === undefined ? undefined : `${resourceVersion} ${digest}`;
}

/** The object as the set sends it, digested: the same manifest gives the same digest. */
function digestOf(object: JsonObject): string {
  return createHash('sha256').update(JSON.stringify(object)).digest('base64url');
}

/** A refused apply, as the error the function reports: a field-manager conflict names the fields and managers. */
function refusal(
  context: SetContext,
  object: PlannedObject,
  rejected: Rejected & { attempts: number; exhausted: boolean },
): Error {
  const conflicts = rejected.status.causes.filter((cause) => cause.reason === 'FieldManagerConflict');
  if (rejected.httpStatus === 409 && conflicts.length > 0) {
    const owners = conflicts.map((cause) => `${cause.field ?? '?'}: ${cause.message ?? ''}`).join('; ');
    return new KubernetesApiError(
      409,
      'Conflict',
      rejected.status.message ?? '',
      `applying ${describeRef(object.ref)} (${object.from}) conflicts with other field managers: ${owners}. Pass ` +
        '"force": true to take these fields over (server-side apply force), or change the manifest to agree with ' +
        'them; the objects before it in the order are applied, the rest are not.',
    );
  }
  const explained = explainRejection(rejected, purposeFor(context, object.type, object.ref, 'patch'), context.session);
  // Which document of the manifest to fix, for what the object's own content caused.
  return explained instanceof KubernetesApiError
    ? new KubernetesApiError(
        explained.status,
        explained.reason,
        explained.detail,
        `applying ${describeRef(object.ref)} (${object.from}): ${explained.message}`,
      )
    : explained;
}

function isCrd(object: PlannedObject): boolean {
  return object.kind === 'CustomResourceDefinition' && object.ref.group === 'apiextensions.k8s.io';
}

/** Polls the set's CustomResourceDefinitions until each is Established (a CRD's resources are served only then);
 * throws RolloutTimeoutError when the time runs out first, KubernetesApiError when the names are refused. */
async function waitForCrds(context: SetContext, planned: readonly PlannedObject[]): Promise<void> {
  for (const crd of planned.filter(isCrd)) {
    for (;;) {
      const current = await readObject(context, crd.type, crd.ref);
      const conditions = current?.['status'];
      const list: unknown =
        typeof conditions === 'object' && conditions !== null ? Reflect.get(conditions, 'conditions') : [];
      const condition = (type: string): Record<string, unknown> | undefined => {
        const found: unknown = (Array.isArray(list) ? list : []).find(
          (entry: unknown) => typeof entry === 'object' && entry !== null && Reflect.get(entry, 'type') === type,
        );
        return typeof found === 'object' && found !== null ? { ...found } : undefined;
      };
      if (condition('Established')?.['status'] === 'True') break;
      const names = condition('NamesAccepted');
      if (names?.['status'] === 'False') {
        throw new KubernetesApiError(
          422,
          String(names['reason'] ?? 'NamesNotAccepted'),
          String(names['message'] ?? ''),
          `CustomResourceDefinition "${crd.ref.name}" is not served: its names are refused (${String(names['message'] ?? '')}); ` +
            'change its spec.names. The objects before it in the order are applied, the rest are not.',
        );
      }
      if (Date.now() + ESTABLISHED_POLL_MS + 1000 > context.session.deadline) {
        throw new RolloutTimeoutError(
          `CustomResourceDefinition "${crd.ref.name}" was not Established within the invocation's time ` +
            `(${(elapsedMs(context.session) / 1000).toFixed(1)} s): its resources cannot be applied yet. The objects before ` +
            "it are applied and the set's record lists every object: apply again to finish, or raise the function's Timeout.",
        );
      }
      await sleep(ESTABLISHED_POLL_MS);
    }
  }
}

/** A departed member, and what its result says. `stays` when it remains in the set's record. */
interface Departure {
  readonly member: Member;
  readonly result: { readonly entry: SetObjectResult; readonly stays: boolean };
}

/** Prunes the members the manifest no longer has, in the reverse of the install order. Never by listing: each is read
 * by name, and deleted only if it still carries this set's label and is the object recorded. */
async function pruneMembers(
  context: SetContext,
  leaving: readonly Member[],
  request: ApplyRequest,
  id: string,
): Promise<Departure[]> {
  const typed: (Member & { type: ResourceType | undefined; custom: boolean })[] = [];
  for (const member of leaving) {
    const type = await resourceTypeOf(context.session, member.apiVersion, member.kind);
    typed.push({ ...member, type, custom: type?.custom ?? false });
  }
  const departures: Departure[] = [];
  for (const member of pruneOrder(typed)) {
    departures.push({ member, result: await departure(context, member, member.type, request, id) });
  }
  return departures;
}

async function departure(
  context: SetContext,
  member: Member,
  type: ResourceType | undefined,
  request: ApplyRequest,
  id: string,
): Promise<Departure['result']> {
  const kept = (message: string, stays: boolean, uid = member.uid) => ({
    entry: objectResult({ ...member, uid }, { action: 'kept', message }),
    stays,
  });
  const pruned = (outcome: { message?: string; verified?: boolean }, uid = member.uid) => ({
    entry: objectResult({ ...member, uid }, { action: 'pruned', ...outcome }),
    stays: false,
  });
  // A prune the grants do not allow does not fail the apply: it stays a member, for an apply with the rights.
  const mayNot = (error: ClusterAuthorizationError, uid = member.uid) =>
    kept(
      `the manifest no longer has it, but the function may not prune it: ${error.message} It stays a member, and ` +
        'an apply with those rights prunes it.',
      true,
      uid,
    );
  // Its kind is no longer served (its CRD went): nothing of it is left.
  if (type === undefined) {
    return pruned({ message: 'its kind is no longer served' });
  }
  let current;
  try {
    current = await readObject(context, type, refOf(member));
  } catch (error) {
    if (error instanceof ClusterAuthorizationError) return mayNot(error);
    throw error;
  }
  if (current === undefined) {
    return pruned({ message: 'already gone' });
  }
  const uid = uidOf(current) ?? '';
  if (metadataMap(current, 'labels')[APPLYSET_PART_OF_LABEL] !== id) {
    return kept("it no longer carries this set's label: left alone, and no longer a member", false, uid);
  }
  if (member.uid !== undefined && member.uid !== uid) {
    return kept('another object of that name replaced the one the set made: left alone', false, uid);
  }
  if (!request.prune) {
    return kept('the manifest no longer has it, but "prune" is false: it stays a member', true, uid);
  }
  if ((member.kind === 'CustomResourceDefinition' || member.kind === 'Namespace') && !request.deleteCrdsAndNamespaces) {
    return kept(
      `deleting a ${member.kind} deletes everything ${member.kind === 'Namespace' ? 'in it' : 'of its kind'}: pass ` +
        '"deleteCrdsAndNamespaces": true to delete it; it stays a member until then',
      true,
      uid,
    );
  }
  try {
    // A dry run asks the server too: the delete is authorised and admitted, nothing is deleted.
    const outcome = await deleteObject(context, type, refOf(member), uid, request.dryRun);
    if (outcome === 'replaced') {
      return kept('another object of that name replaced it while the set was pruned: left alone', false, uid);
    }
    return pruned(request.dryRun ? { verified: true } : {}, uid);
  } catch (error) {
    if (error instanceof ClusterAuthorizationError) return mayNot(error, uid);
    throw error;
  }
}

/** Whether the server's answer to a dry-run apply is the object as it is: compared without what the server changes on
 * every write (managedFields, resourceVersion, generation) and without status (fluxcd/pkg ssa/manager_diff.go). */
function sameObject(live: JsonObject, dryRun: JsonObject): boolean {
  return canonical(stripped(live)) === canonical(stripped(dryRun));
}

const CHANGED_ON_EVERY_WRITE: ReadonlySet<string> = new Set(['managedFields', 'resourceVersion', 'generation']);

function stripped(object: JsonObject): JsonObject {
  const { status: _status, metadata, ...rest } = object;
  const entries = Object.entries(typeof metadata === 'object' && metadata !== null ? metadata : {});
  return { ...rest, metadata: Object.fromEntries(entries.filter(([key]) => !CHANGED_ON_EVERY_WRITE.has(key))) };
}

/** JSON with keys sorted, for comparing objects. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === 'object' && inner !== null && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/** `fn` over `items`, at most CONCURRENCY at a time; the results in the items' order. */
export async function mapBounded<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      const item = items[index];
      if (item !== undefined) results[index] = await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}
