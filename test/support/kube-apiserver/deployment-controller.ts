// The deployment controller, one sync at a time, after kube-controller-manager's (pkg/controller/deployment:
// deployment_controller.go syncDeployment, sync.go, rolling.go, recreate.go, progress.go, and
// util/deployment_util.go for the annotations, conditions, reasons and messages).
import type { ControllerContext } from './cluster.js';
import {
  canonicalJson,
  clone,
  dropKey,
  ensureObject,
  isObject,
  jsonEqual,
  numberAt,
  stringAt,
  valueAt,
  type Json,
  type JsonObject,
} from './json.js';
import type { Manager } from './managed-fields.js';
import {
  annotation,
  condition,
  controlledBy,
  creationMs,
  nameOf,
  scaledValue,
  specReplicas,
  statusNumber,
  uidOf,
  type Condition,
} from './objects.js';
import { deleteObject } from './deletion.js';
import { createAs, isBeingDeleted, timestamp, updateAs, type StoredObject } from './store.js';

export const CONTROLLER_MANAGER: Manager = {
  manager: 'kube-controller-manager',
  operation: 'Update',
  apiVersion: 'apps/v1',
};
const CONTROLLER_MANAGER_STATUS: Manager = { ...CONTROLLER_MANAGER, subresource: 'status' };

export const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const POD_TEMPLATE_HASH = 'pod-template-hash';
/** Annotations a Deployment does not pass on to its ReplicaSets (annotationsToSkip). */
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

type RS = StoredObject;

export function syncDeployment(ctx: ControllerContext, namespace: string, name: string): void {
  const d = ctx.store.get('deployments', namespace, name);
  if (d === undefined) return;
  const rsList = (): RS[] => ctx.store.list('replicasets', namespace).filter((rs) => controlledBy(rs, uidOf(d)));
  if (isBeingDeleted(d)) {
    const all = getAllReplicaSetsAndSyncRevision(ctx, d, rsList(), false);
    syncDeploymentStatus(ctx, [...all.oldRSs, ...optional(all.newRS)], all.newRS, all.d);
    return;
  }
  if (valueAt(d, 'spec', 'paused') === true || isScalingEvent(ctx, d, rsList())) {
    sync(ctx, ctx.store.get('deployments', namespace, name) ?? d, rsList());
    return;
  }
  const current = ctx.store.get('deployments', namespace, name) ?? d;
  if (stringAt(current, 'spec', 'strategy', 'type') === 'Recreate') rolloutRecreate(ctx, current, rsList);
  else rolloutRolling(ctx, current, rsList());
}

const optional = (rs: RS | undefined): RS[] => (rs === undefined ? [] : [rs]);

// ---- replica set bookkeeping (sync.go) ----

interface AllReplicaSets {
  readonly d: StoredObject;
  readonly newRS: RS | undefined;
  readonly oldRSs: RS[];
}

function getAllReplicaSetsAndSyncRevision(
  ctx: ControllerContext,
  d: StoredObject,
  rsList: RS[],
  createIfNotExisted: boolean,
): AllReplicaSets {
  const existing = findNewReplicaSet(d, rsList);
  const oldRSs = rsList.filter((rs) => rs !== existing);
  return { ...getNewReplicaSet(ctx, d, rsList, oldRSs, existing, createIfNotExisted), oldRSs };
}

/** FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's, ignoring the hash label. */
function findNewReplicaSet(d: StoredObject, rsList: RS[]): RS | undefined {
  return byCreation(rsList).find((rs) =>
    equalIgnoreHash(valueAt(rs, 'spec', 'template'), valueAt(d, 'spec', 'template')),
  );
}

function equalIgnoreHash(a: Json | undefined, b: Json | undefined): boolean {
  const strip = (template: Json | undefined): string => {
    if (!isObject(template)) return '';
    const copy = clone(template);
    const labels = valueAt(copy, 'metadata', 'labels');
    if (isObject(labels)) dropKey(labels, POD_TEMPLATE_HASH);
    return canonicalJson(copy);
  };
  return strip(a) === strip(b);
}

function toJsonObject(value: Json | undefined): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

function byCreation(rsList: RS[]): RS[] {
  return [...rsList].sort((a, b) => creationMs(a) - creationMs(b) || (nameOf(a) < nameOf(b) ? -1 : 1));
}

function revisionOf(rs: RS): number {
  const value = Number(annotation(rs, REVISION) ?? '0');
  return Number.isInteger(value) ? value : 0;
}

function getNewReplicaSet(
  ctx: ControllerContext,
  d: StoredObject,
  rsList: RS[],
  oldRSs: RS[],
  existing: RS | undefined,
  createIfNotExisted: boolean,
): { d: StoredObject; newRS: RS | undefined } {
  const newRevision = String(Math.max(0, ...oldRSs.map(revisionOf)) + 1);
  if (existing !== undefined) {
    const draft = clone(existing);
    const annotationsUpdated = setNewReplicaSetAnnotations(d, draft, newRevision, true);
    const minReady = numberAt(d, 'spec', 'minReadySeconds') ?? 0;
    if (annotationsUpdated || (numberAt(existing, 'spec', 'minReadySeconds') ?? 0) !== minReady) {
      const updated = updateAs(
        ctx,
        'replicasets',
        existing,
        (rs) => {
          rs.metadata['annotations'] = draft.metadata['annotations'] ?? {};
          setMinReadySeconds(rs, minReady);
        },
        CONTROLLER_MANAGER,
      );
      return { d, newRS: updated };
    }
    const revision = annotation(existing, REVISION) ?? newRevision;
    const needsRevision = annotation(d, REVISION) !== revision;
    const progressing = condition(d, 'Progressing');
    const needsCondition = hasProgressDeadline(d) && progressing === undefined;
    if (needsRevision || needsCondition) {
      d = writeDeploymentStatus(ctx, d, (draftD, status) => {
        if (needsRevision) ensureObject(draftD.metadata, 'annotations')[REVISION] = revision;
        if (needsCondition) {
          setCondition(
            status,
            newCondition(
              ctx,
              'Progressing',
              'True',
              'FoundNewReplicaSet',
              `Found new replica set "${nameOf(existing)}"`,
            ),
          );
        }
      });
    }
    return { d, newRS: existing };
  }
  if (!createIfNotExisted) return { d, newRS: undefined };

  const template = clone(toJsonObject(valueAt(d, 'spec', 'template')) ?? {});
  const hash = computeHash(template, numberAt(d, 'status', 'collisionCount'));
  ensureObject(template, 'metadata', 'labels')[POD_TEMPLATE_HASH] = hash;
  const selector = clone(toJsonObject(valueAt(d, 'spec', 'selector')) ?? {});
  ensureObject(selector, 'matchLabels')[POD_TEMPLATE_HASH] = hash;
  const rsName = `${nameOf(d)}-${hash}`;
  const newRS: StoredObject = {
    metadata: {
      name: rsName,
      namespace: stringAt(d, 'metadata', 'namespace') ?? '',
      labels: clone(ensureObject(template, 'metadata', 'labels')),
      ownerReferences: [controllerRef(d, 'Deployment')],
    },
    spec: { replicas: 0, selector, template },
  };
  setMinReadySeconds(newRS, numberAt(d, 'spec', 'minReadySeconds') ?? 0);
  const replicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
  ensureObject(newRS, 'spec')['replicas'] = replicas;
  setNewReplicaSetAnnotations(d, newRS, newRevision, false);
  const clash =
    rsList.find((rs) => nameOf(rs) === rsName) ??
    ctx.store.get('replicasets', stringAt(d, 'metadata', 'namespace') ?? '', rsName);
  if (clash !== undefined) {
    // A hash collision: the controller bumps status.collisionCount and tries again on the next sync.
    writeDeploymentStatus(ctx, d, (_draft, status) => {
      status['collisionCount'] = (numberAt(status, 'collisionCount') ?? 0) + 1;
    });
    return { d, newRS: undefined };
  }
  const created = createAs(ctx, 'replicasets', newRS, CONTROLLER_MANAGER);
  d = writeDeploymentStatus(ctx, d, (draftD, status) => {
    ensureObject(draftD.metadata, 'annotations')[REVISION] = newRevision;
    if (hasProgressDeadline(d)) {
      setCondition(
        status,
        newCondition(ctx, 'Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${rsName}"`),
      );
    }
  });
  return { d, newRS: created };
}

function setMinReadySeconds(rs: StoredObject, minReady: number): void {
  const spec = ensureObject(rs, 'spec');
  if (minReady > 0) spec['minReadySeconds'] = minReady;
  else delete spec['minReadySeconds'];
}

export function controllerRef(owner: StoredObject, kind: string): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    name: nameOf(owner),
    uid: uidOf(owner),
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** controller.ComputeHash: FNV-32a of the template and collision count, in the alphabet of generated names. Here
 * the template is hashed as canonical JSON (kube-controller-manager hashes its Go value), so the value differs
 * from a real cluster's while the shape (1 to 10 characters of "bcdfghjklmnpqrstvwxz2456789") is the same. */
export function computeHash(template: JsonObject, collisionCount: number | undefined): string {
  let hash = 0x811c9dc5;
  const bytes = [...Buffer.from(canonicalJson(template), 'utf8')];
  if (collisionCount !== undefined) {
    const count = Buffer.alloc(8);
    count.writeUInt32LE(collisionCount >>> 0, 0);
    bytes.push(...count);
  }
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const alphanums = 'bcdfghjklmnpqrstvwxz2456789';
  return [...String(hash)].map((digit) => alphanums[digit.charCodeAt(0) % alphanums.length] ?? 'b').join('');
}

/** SetNewReplicaSetAnnotations: the Deployment's annotations, the revision (and its history), and on creation the
 * desired and max replicas. */
function setNewReplicaSetAnnotations(d: StoredObject, rs: StoredObject, newRevision: string, exists: boolean): boolean {
  const annotations = ensureObject(rs.metadata, 'annotations');
  let changed = false;
  for (const [key, value] of Object.entries(ensureCopy(d.metadata['annotations']))) {
    if (ANNOTATIONS_TO_SKIP.has(key) || annotations[key] === value) continue;
    annotations[key] = value;
    changed = true;
  }
  const oldRevision = typeof annotations[REVISION] === 'string' ? annotations[REVISION] : undefined;
  const oldValue = Number(oldRevision ?? '0');
  if (oldValue < Number(newRevision)) {
    annotations[REVISION] = newRevision;
    changed = true;
    if (oldRevision !== undefined) {
      const history = typeof annotations[REVISION_HISTORY] === 'string' ? annotations[REVISION_HISTORY] : '';
      annotations[REVISION_HISTORY] = history === '' ? oldRevision : `${history},${oldRevision}`;
    }
  }
  if (!exists && setReplicasAnnotations(rs, specReplicas(d), specReplicas(d) + maxSurge(d))) changed = true;
  return changed;
}

function ensureCopy(value: Json | undefined): Record<string, string> {
  const object = toJsonObject(value) ?? {};
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(object)) if (typeof item === 'string') out[key] = item;
  return out;
}

function setReplicasAnnotations(rs: StoredObject, desired: number, max: number): boolean {
  const annotations = ensureObject(rs.metadata, 'annotations');
  let changed = false;
  if (annotations[DESIRED_REPLICAS] !== String(desired)) {
    annotations[DESIRED_REPLICAS] = String(desired);
    changed = true;
  }
  if (annotations[MAX_REPLICAS] !== String(max)) {
    annotations[MAX_REPLICAS] = String(max);
    changed = true;
  }
  return changed;
}

// ---- sizes (util/deployment_util.go) ----

function isRollingUpdate(d: StoredObject): boolean {
  return stringAt(d, 'spec', 'strategy', 'type') !== 'Recreate';
}

/** ResolveFenceposts: surge rounds up, unavailable rounds down, and both zero means one unavailable. */
function fenceposts(d: StoredObject): { surge: number; unavailable: number } {
  const desired = specReplicas(d);
  const surge = scaledValue(valueAt(d, 'spec', 'strategy', 'rollingUpdate', 'maxSurge') ?? 0, desired, true);
  let unavailable = scaledValue(valueAt(d, 'spec', 'strategy', 'rollingUpdate', 'maxUnavailable') ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function maxSurge(d: StoredObject): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

function maxUnavailable(d: StoredObject): number {
  const desired = specReplicas(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  return Math.min(fenceposts(d).unavailable, desired);
}

const sum = (rsList: RS[], read: (rs: RS) => number): number => rsList.reduce((total, rs) => total + read(rs), 0);
const specCount = (rs: RS): number => specReplicas(rs, 0);

function newRSNewReplicas(d: StoredObject, allRSs: RS[], newRS: RS): number {
  if (!isRollingUpdate(d)) return specReplicas(d);
  const maxTotal = specReplicas(d) + maxSurge(d);
  const current = sum(allRSs, specCount);
  if (current >= maxTotal) return specCount(newRS);
  return specCount(newRS) + Math.min(maxTotal - current, specReplicas(d) - specCount(newRS));
}

function scaleReplicaSet(
  ctx: ControllerContext,
  rs: RS,
  newScale: number,
  d: StoredObject,
): { scaled: boolean; rs: RS } {
  const sizeNeedsUpdate = specCount(rs) !== newScale;
  const desired = specReplicas(d);
  const max = desired + maxSurge(d);
  const annotationsNeedUpdate =
    annotation(rs, DESIRED_REPLICAS) !== String(desired) || annotation(rs, MAX_REPLICAS) !== String(max);
  if (!sizeNeedsUpdate && !annotationsNeedUpdate) return { scaled: false, rs };
  const updated = updateAs(
    ctx,
    'replicasets',
    ctx.store.get('replicasets', stringAt(rs, 'metadata', 'namespace') ?? '', nameOf(rs)) ?? rs,
    (draft) => {
      ensureObject(draft, 'spec')['replicas'] = newScale;
      setReplicasAnnotations(draft, desired, max);
    },
    CONTROLLER_MANAGER,
  );
  return { scaled: sizeNeedsUpdate, rs: updated };
}

function scaleReplicaSetAndRecordEvent(
  ctx: ControllerContext,
  rs: RS,
  newScale: number,
  d: StoredObject,
): { scaled: boolean; rs: RS } {
  if (specCount(rs) === newScale) return { scaled: false, rs };
  return scaleReplicaSet(ctx, rs, newScale, d);
}

const active = (rsList: RS[]): RS[] => rsList.filter((rs) => specCount(rs) > 0);

// ---- scaling events (sync.go isScalingEvent, sync, scale) ----

function isScalingEvent(ctx: ControllerContext, d: StoredObject, rsList: RS[]): boolean {
  const { newRS, oldRSs } = getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  return active([...oldRSs, ...optional(newRS)]).some((rs) => {
    const desired = annotation(rs, DESIRED_REPLICAS);
    return desired !== undefined && Number(desired) !== specReplicas(d);
  });
}

function sync(ctx: ControllerContext, d0: StoredObject, rsList: RS[]): void {
  const { d, newRS, oldRSs } = getAllReplicaSetsAndSyncRevision(ctx, d0, rsList, false);
  scale(ctx, d, newRS, oldRSs);
  if (valueAt(d, 'spec', 'paused') === true) cleanupDeployment(ctx, oldRSs, d);
  syncDeploymentStatus(ctx, [...oldRSs, ...optional(newRS)], newRS, d);
}

function scale(ctx: ControllerContext, d: StoredObject, newRS: RS | undefined, oldRSs: RS[]): void {
  const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
  if (activeOrLatest !== undefined) {
    if (specCount(activeOrLatest) !== specReplicas(d))
      scaleReplicaSetAndRecordEvent(ctx, activeOrLatest, specReplicas(d), d);
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const old of active(oldRSs)) scaleReplicaSetAndRecordEvent(ctx, old, 0, d);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const allRSs = active([...oldRSs, ...optional(newRS)]);
  const allowedSize = specReplicas(d) > 0 ? specReplicas(d) + maxSurge(d) : 0;
  const toAdd = allowedSize - sum(allRSs, specCount);
  const newerFirst = (a: RS, b: RS): number => specCount(b) - specCount(a) || creationMs(b) - creationMs(a);
  const olderFirst = (a: RS, b: RS): number => specCount(b) - specCount(a) || creationMs(a) - creationMs(b);
  if (toAdd > 0) allRSs.sort(newerFirst);
  if (toAdd < 0) allRSs.sort(olderFirst);
  let added = 0;
  const sizes = new Map<string, number>();
  for (const rs of allRSs) {
    if (toAdd === 0) {
      sizes.set(nameOf(rs), specCount(rs));
      continue;
    }
    const proportion = replicaSetProportion(rs, d, toAdd, added);
    sizes.set(nameOf(rs), specCount(rs) + proportion);
    added += proportion;
  }
  allRSs.forEach((rs, index) => {
    let size = sizes.get(nameOf(rs)) ?? specCount(rs);
    if (index === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
    scaleReplicaSet(ctx, rs, size, d);
  });
}

function replicaSetProportion(rs: RS, d: StoredObject, toAdd: number, added: number): number {
  if (specCount(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  let fraction: number;
  if (specReplicas(d) === 0) fraction = -specCount(rs);
  else {
    const maxNow = specReplicas(d) + maxSurge(d);
    let before = Number(annotation(rs, MAX_REPLICAS) ?? '0');
    if (!Number.isInteger(before) || before === 0) before = statusNumber(d, 'replicas');
    fraction = before === 0 ? 0 : Math.round((specCount(rs) * maxNow) / before) - specCount(rs);
  }
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function findActiveOrLatest(newRS: RS | undefined, oldRSs: RS[]): RS | undefined {
  if (newRS === undefined && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => creationMs(b) - creationMs(a));
  const all = active([...newestFirst, ...optional(newRS)]);
  if (all.length === 0) return newRS ?? newestFirst[0];
  return all.length === 1 ? all[0] : undefined;
}

function isSaturated(d: StoredObject, rs: RS | undefined): boolean {
  if (rs === undefined) return false;
  const desired = Number(annotation(rs, DESIRED_REPLICAS) ?? 'NaN');
  return (
    specCount(rs) === specReplicas(d) &&
    desired === specReplicas(d) &&
    statusNumber(rs, 'availableReplicas') === specReplicas(d)
  );
}

// ---- rolling update (rolling.go) ----

function rolloutRolling(ctx: ControllerContext, d0: StoredObject, rsList: RS[]): void {
  const { d, newRS, oldRSs } = getAllReplicaSetsAndSyncRevision(ctx, d0, rsList, true);
  if (newRS === undefined) return;
  const allRSs = [...oldRSs, newRS];
  if (reconcileNewReplicaSet(ctx, allRSs, newRS, d)) {
    syncRolloutStatus(ctx, allRSs, newRS, d);
    return;
  }
  if (reconcileOldReplicaSets(ctx, allRSs, active(oldRSs), newRS, d)) {
    syncRolloutStatus(ctx, allRSs, newRS, d);
    return;
  }
  if (deploymentComplete(d, toJsonObject(d['status']) ?? {})) cleanupDeployment(ctx, oldRSs, d);
  syncRolloutStatus(ctx, allRSs, newRS, d);
}

function reconcileNewReplicaSet(ctx: ControllerContext, allRSs: RS[], newRS: RS, d: StoredObject): boolean {
  if (specCount(newRS) === specReplicas(d)) return false;
  if (specCount(newRS) > specReplicas(d)) return scaleReplicaSetAndRecordEvent(ctx, newRS, specReplicas(d), d).scaled;
  return scaleReplicaSetAndRecordEvent(ctx, newRS, newRSNewReplicas(d, allRSs, newRS), d).scaled;
}

function reconcileOldReplicaSets(
  ctx: ControllerContext,
  allRSs: RS[],
  oldRSs: RS[],
  newRS: RS,
  d: StoredObject,
): boolean {
  if (sum(oldRSs, specCount) === 0) return false;
  const allPods = sum(allRSs, specCount);
  const minAvailable = specReplicas(d) - maxUnavailable(d);
  const newUnavailable = specCount(newRS) - statusNumber(newRS, 'availableReplicas');
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  const { oldRSs: cleaned, count: cleanedUp } = cleanupUnhealthyReplicas(ctx, oldRSs, d, maxScaledDown);
  const scaledDown = scaleDownOldReplicaSetsForRollingUpdate(ctx, [...cleaned, newRS], cleaned, d);
  return cleanedUp + scaledDown > 0;
}

function cleanupUnhealthyReplicas(
  ctx: ControllerContext,
  oldRSs: RS[],
  d: StoredObject,
  maxCleanup: number,
): { oldRSs: RS[]; count: number } {
  const sorted = byCreation(oldRSs);
  let total = 0;
  for (let i = 0; i < sorted.length; i += 1) {
    const rs = sorted[i];
    if (rs === undefined || total >= maxCleanup) break;
    if (specCount(rs) === 0 || specCount(rs) === statusNumber(rs, 'availableReplicas')) continue;
    const count = Math.min(maxCleanup - total, specCount(rs) - statusNumber(rs, 'availableReplicas'));
    sorted[i] = scaleReplicaSetAndRecordEvent(ctx, rs, specCount(rs) - count, d).rs;
    total += count;
  }
  return { oldRSs: sorted, count: total };
}

function scaleDownOldReplicaSetsForRollingUpdate(
  ctx: ControllerContext,
  allRSs: RS[],
  oldRSs: RS[],
  d: StoredObject,
): number {
  const minAvailable = specReplicas(d) - maxUnavailable(d);
  const available = sum(allRSs, (rs) => statusNumber(rs, 'availableReplicas'));
  if (available <= minAvailable) return 0;
  const toScaleDown = available - minAvailable;
  let total = 0;
  for (const rs of byCreation(oldRSs)) {
    if (total >= toScaleDown) break;
    if (specCount(rs) === 0) continue;
    const count = Math.min(specCount(rs), toScaleDown - total);
    scaleReplicaSetAndRecordEvent(ctx, rs, specCount(rs) - count, d);
    total += count;
  }
  return total;
}

// ---- recreate (recreate.go) ----

function rolloutRecreate(ctx: ControllerContext, d0: StoredObject, rsList: () => RS[]): void {
  let { d, newRS, oldRSs } = getAllReplicaSetsAndSyncRevision(ctx, d0, rsList(), false);
  let allRSs = [...oldRSs, ...optional(newRS)];
  let scaledDown = false;
  for (const rs of active(oldRSs)) if (scaleReplicaSetAndRecordEvent(ctx, rs, 0, d).scaled) scaledDown = true;
  if (scaledDown) {
    syncRolloutStatus(ctx, allRSs, newRS, d);
    return;
  }
  const oldPodsRunning = ctx.store
    .list('pods', stringAt(d, 'metadata', 'namespace') ?? '')
    .some(
      (pod) =>
        oldRSs.some((rs) => controlledBy(pod, uidOf(rs))) &&
        !['Failed', 'Succeeded'].includes(stringAt(pod, 'status', 'phase') ?? ''),
    );
  if (oldPodsRunning) {
    syncRolloutStatus(ctx, allRSs, newRS, d);
    return;
  }
  if (newRS === undefined) {
    ({ d, newRS, oldRSs } = getAllReplicaSetsAndSyncRevision(ctx, d, rsList(), true));
    allRSs = [...oldRSs, ...optional(newRS)];
  }
  if (newRS !== undefined) scaleReplicaSetAndRecordEvent(ctx, newRS, specReplicas(d), d);
  if (deploymentComplete(d, toJsonObject(d['status']) ?? {})) cleanupDeployment(ctx, oldRSs, d);
  syncRolloutStatus(ctx, allRSs, newRS, d);
}

// ---- cleanup (sync.go cleanupDeployment) ----

function cleanupDeployment(ctx: ControllerContext, oldRSs: RS[], d: StoredObject): void {
  const limit = numberAt(d, 'spec', 'revisionHistoryLimit');
  if (limit === undefined) return;
  const cleanable = oldRSs.filter((rs) => !isBeingDeleted(rs));
  const diff = cleanable.length - limit;
  if (diff <= 0) return;
  const byRevision = [...cleanable].sort((a, b) => revisionOf(a) - revisionOf(b));
  for (const rs of byRevision.slice(0, diff)) {
    const observed = numberAt(rs, 'status', 'observedGeneration') ?? 0;
    const generation = numberAt(rs, 'metadata', 'generation') ?? 0;
    if (statusNumber(rs, 'replicas') !== 0 || specCount(rs) !== 0 || generation > observed) continue;
    deleteObject(ctx, 'replicasets', rs, {});
  }
}

// ---- status (sync.go calculateStatus, syncDeploymentStatus; progress.go syncRolloutStatus) ----

function calculateStatus(allRSs: RS[], newRS: RS | undefined, d: StoredObject): JsonObject {
  const available = sum(allRSs, (rs) => statusNumber(rs, 'availableReplicas'));
  const total = sum(allRSs, specCount);
  const status: JsonObject = {};
  setIfNonZero(status, 'observedGeneration', numberAt(d, 'metadata', 'generation') ?? 0);
  setIfNonZero(
    status,
    'replicas',
    sum(allRSs, (rs) => statusNumber(rs, 'replicas')),
  );
  setIfNonZero(status, 'updatedReplicas', newRS === undefined ? 0 : statusNumber(newRS, 'replicas'));
  setIfNonZero(
    status,
    'readyReplicas',
    sum(allRSs, (rs) => statusNumber(rs, 'readyReplicas')),
  );
  setIfNonZero(status, 'availableReplicas', available);
  setIfNonZero(status, 'unavailableReplicas', Math.max(0, total - available));
  const previous = valueAt(d, 'status', 'conditions');
  if (Array.isArray(previous) && previous.length > 0) status['conditions'] = clone(previous);
  const collisionCount = numberAt(d, 'status', 'collisionCount');
  if (collisionCount !== undefined) status['collisionCount'] = collisionCount;
  return status;
}

/** DeploymentStatus fields are all omitempty: a zero is not written. */
function setIfNonZero(status: JsonObject, field: string, value: number): void {
  if (value !== 0) status[field] = value;
}

function setAvailability(ctx: ControllerContext, status: JsonObject, d: StoredObject): void {
  const available = numberAt(status, 'availableReplicas') ?? 0;
  if (available >= specReplicas(d) - maxUnavailable(d)) {
    setCondition(
      status,
      newCondition(ctx, 'Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
    );
  } else {
    setCondition(
      status,
      newCondition(
        ctx,
        'Available',
        'False',
        'MinimumReplicasUnavailable',
        'Deployment does not have minimum availability.',
      ),
    );
  }
}

function syncDeploymentStatus(ctx: ControllerContext, allRSs: RS[], newRS: RS | undefined, d: StoredObject): void {
  const status = calculateStatus(allRSs, newRS, d);
  setAvailability(ctx, status, d);
  writeDeploymentStatus(ctx, d, (_draft, draftStatus) => replaceStatus(draftStatus, status));
}

function syncRolloutStatus(ctx: ControllerContext, allRSs: RS[], newRS: RS | undefined, d0: StoredObject): void {
  const d = ctx.store.get('deployments', stringAt(d0, 'metadata', 'namespace') ?? '', nameOf(d0)) ?? d0;
  const oldStatus = toJsonObject(d['status']) ?? {};
  const status = calculateStatus(allRSs, newRS, d);
  setAvailability(ctx, status, d);
  if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
  const current = condition(d, 'Progressing');
  const isComplete =
    (numberAt(status, 'replicas') ?? 0) === (numberAt(status, 'updatedReplicas') ?? 0) &&
    current?.['reason'] === 'NewReplicaSetAvailable';
  if (hasProgressDeadline(d) && !isComplete) {
    const rsName = newRS === undefined ? undefined : nameOf(newRS);
    if (deploymentComplete(d, status)) {
      const message =
        rsName === undefined
          ? `Deployment "${nameOf(d)}" has successfully progressed.`
          : `ReplicaSet "${rsName}" has successfully progressed.`;
      setCondition(status, newCondition(ctx, 'Progressing', 'True', 'NewReplicaSetAvailable', message));
      ctx.progress.set(uidOf(d), ctx.now());
    } else if (deploymentProgressing(oldStatus, status)) {
      const message =
        rsName === undefined ? `Deployment "${nameOf(d)}" is progressing.` : `ReplicaSet "${rsName}" is progressing.`;
      const progressing = newCondition(ctx, 'Progressing', 'True', 'ReplicaSetUpdated', message);
      if (current !== undefined) {
        if (current.status === 'True' && current['lastTransitionTime'] !== undefined) {
          progressing['lastTransitionTime'] = current['lastTransitionTime'];
        }
        removeCondition(status, 'Progressing');
      }
      setCondition(status, progressing);
      ctx.progress.set(uidOf(d), ctx.now());
    } else if (deploymentTimedOut(ctx, d, status)) {
      const message =
        rsName === undefined
          ? `Deployment "${nameOf(d)}" has timed out progressing.`
          : `ReplicaSet "${rsName}" has timed out progressing.`;
      setCondition(status, newCondition(ctx, 'Progressing', 'False', 'ProgressDeadlineExceeded', message));
    }
  }
  if (jsonEqual(oldStatus, status)) {
    requeueStuckDeployment(ctx, d, status);
    return;
  }
  writeDeploymentStatus(ctx, d, (_draft, draftStatus) => replaceStatus(draftStatus, status));
}

function replaceStatus(target: JsonObject, source: JsonObject): void {
  for (const key of Object.keys(target)) dropKey(target, key);
  Object.assign(target, source);
}

function hasProgressDeadline(d: StoredObject): boolean {
  const seconds = numberAt(d, 'spec', 'progressDeadlineSeconds');
  return seconds !== undefined && seconds !== 2147483647;
}

function deadlineMs(ctx: ControllerContext, d: StoredObject): number {
  return ctx.settings.progressDeadlineMs ?? (numberAt(d, 'spec', 'progressDeadlineSeconds') ?? 600) * 1000;
}

/** DeploymentComplete: every replica updated and available, and the latest generation observed. */
function deploymentComplete(d: StoredObject, status: JsonObject): boolean {
  const desired = specReplicas(d);
  return (
    (numberAt(status, 'updatedReplicas') ?? 0) === desired &&
    (numberAt(status, 'replicas') ?? 0) === desired &&
    (numberAt(status, 'availableReplicas') ?? 0) === desired &&
    (numberAt(status, 'observedGeneration') ?? 0) >= (numberAt(d, 'metadata', 'generation') ?? 0)
  );
}

function deploymentProgressing(oldStatus: JsonObject, status: JsonObject): boolean {
  const n = (s: JsonObject, field: string): number => numberAt(s, field) ?? 0;
  return (
    n(status, 'updatedReplicas') > n(oldStatus, 'updatedReplicas') ||
    n(status, 'replicas') - n(status, 'updatedReplicas') < n(oldStatus, 'replicas') - n(oldStatus, 'updatedReplicas') ||
    n(status, 'readyReplicas') > n(oldStatus, 'readyReplicas') ||
    n(status, 'availableReplicas') > n(oldStatus, 'availableReplicas')
  );
}

/** The time the Progressing condition was last updated, as the controller reads it: from the object (at second
 * precision), or to the millisecond when a test sets progressDeadlineMs. */
function lastProgressMs(ctx: ControllerContext, d: StoredObject, progressing: Condition): number {
  if (ctx.settings.progressDeadlineMs !== undefined) {
    const exact = ctx.progress.get(uidOf(d));
    if (exact !== undefined) return exact;
  }
  return Date.parse(typeof progressing['lastUpdateTime'] === 'string' ? progressing['lastUpdateTime'] : '') || 0;
}

function deploymentTimedOut(ctx: ControllerContext, d: StoredObject, status: JsonObject): boolean {
  if (!hasProgressDeadline(d)) return false;
  const progressing = conditionOf(status, 'Progressing');
  if (progressing === undefined || progressing['reason'] === 'NewReplicaSetAvailable') return false;
  if (progressing['reason'] === 'ProgressDeadlineExceeded') return true;
  return lastProgressMs(ctx, d, progressing) + deadlineMs(ctx, d) < ctx.now();
}

function requeueStuckDeployment(ctx: ControllerContext, d: StoredObject, status: JsonObject): void {
  const current = condition(d, 'Progressing');
  if (!hasProgressDeadline(d) || current === undefined) return;
  if (deploymentComplete(d, status) || current['reason'] === 'ProgressDeadlineExceeded') return;
  const after = lastProgressMs(ctx, d, current) + deadlineMs(ctx, d) - ctx.now();
  // The controller adds a second (or, for a test's millisecond deadline, a millisecond) against clock skew.
  const slack = ctx.settings.progressDeadlineMs === undefined ? 1000 : 1;
  const namespace = stringAt(d, 'metadata', 'namespace') ?? '';
  const name = nameOf(d);
  ctx.schedule(`deployment/${namespace}/${name}`, Math.max(0, after) + slack, () =>
    syncDeployment(ctx, namespace, name),
  );
}

// ---- conditions (util/deployment_util.go) ----

function newCondition(
  ctx: ControllerContext,
  type: string,
  status: string,
  reason: string,
  message: string,
): Condition {
  const now = timestamp(ctx.now());
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

function conditionOf(status: JsonObject, type: string): Condition | undefined {
  return condition({ status }, type);
}

/** SetDeploymentCondition: nothing if status and reason are the same; the transition time kept if the status is. */
function setCondition(status: JsonObject, next: Condition): void {
  const current = conditionOf(status, next.type);
  if (current !== undefined && current.status === next.status && current['reason'] === next['reason']) return;
  const updated: Condition = { ...next };
  if (current !== undefined && current.status === next.status && current['lastTransitionTime'] !== undefined) {
    updated['lastTransitionTime'] = current['lastTransitionTime'];
  }
  removeCondition(status, next.type);
  const list = Array.isArray(status['conditions']) ? status['conditions'] : [];
  status['conditions'] = [...list, updated];
}

function removeCondition(status: JsonObject, type: string): void {
  const list = Array.isArray(status['conditions']) ? status['conditions'] : [];
  const kept = list.filter((c) => !(isObject(c) && c['type'] === type));
  if (kept.length > 0) status['conditions'] = kept;
  else delete status['conditions'];
}

/** UpdateStatus of the Deployment by kube-controller-manager; returns the stored Deployment. */
function writeDeploymentStatus(
  ctx: ControllerContext,
  d: StoredObject,
  change: (draft: StoredObject, status: JsonObject) => void,
): StoredObject {
  const live = ctx.store.get('deployments', stringAt(d, 'metadata', 'namespace') ?? '', nameOf(d)) ?? d;
  return updateAs(
    ctx,
    'deployments',
    live,
    (draft) => change(draft, ensureObject(draft, 'status')),
    CONTROLLER_MANAGER_STATUS,
  );
}
