// metadata.managedFields as kube-apiserver keeps them: one entry per manager identity, updated by every write
// (Update) and replaced by every apply (Apply), with apply conflicts reported in kube-apiserver's words.
// Sources: apimachinery pkg/util/managedfields/internal/managedfields.go (BuildManagerIdentifier, the entry order),
// managedfieldsupdater.go (when `time` moves), stripmeta.go (fields nobody owns), conflict.go (the 409 text);
// structured-merge-diff merge/update.go (Updater.Update, Updater.Apply, prune).
import { FieldSet, pathString, type FieldPath } from './fieldpath.js';
import { isObject, jsonEqual, type Json, type JsonObject } from './json.js';
import type { Resource } from './schema.js';
import { compare, ensureNamedFieldsAreMembers, merge, removeItems, toFieldSet } from './typed.js';

export type Operation = 'Apply' | 'Update';

export interface Manager {
  readonly manager: string;
  readonly operation: Operation;
  /** Not part of an appliers' identity: an applier keeps its entry across API versions. */
  readonly apiVersion: string;
  readonly subresource?: string;
}

interface ManagedEntry extends Manager {
  readonly set: FieldSet;
  readonly time: string | undefined;
}

/** Manager identity string → entry. */
export type Managed = Map<string, ManagedEntry>;

/** BuildManagerIdentifier: the entry as JSON without fieldsType, fieldsV1, time, and (for appliers) apiVersion. */
export function managerIdentifier(manager: Manager): string {
  const id: Record<string, string> = { manager: manager.manager, operation: manager.operation };
  if (manager.operation === 'Update' && manager.apiVersion !== '') id['apiVersion'] = manager.apiVersion;
  if (manager.subresource !== undefined && manager.subresource !== '') id['subresource'] = manager.subresource;
  return JSON.stringify(id);
}

/** Fields nobody owns (stripmeta.go). */
const STRIPPED = FieldSet.of(
  [{ field: 'apiVersion' }],
  [{ field: 'kind' }],
  [{ field: 'metadata' }],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields'].map(
    (name): FieldPath => [{ field: 'metadata' }, { field: name }],
  ),
  [{ field: 'metadata' }, { field: 'resourceVersion' }],
);

/** Fields a request to the main resource or to `status` does not own (the strategies' ResetFieldsFor). */
export function resetFields(resource: Resource, subresource: string | undefined): FieldSet {
  if (subresource === 'status') {
    return resource === 'pods'
      ? FieldSet.of([{ field: 'spec' }])
      : FieldSet.of([{ field: 'spec' }], [{ field: 'metadata' }, { field: 'labels' }]);
  }
  return FieldSet.of([{ field: 'status' }]);
}

export function decodeManaged(object: JsonObject): Managed {
  const managed: Managed = new Map();
  const entries = isObject(object['metadata']) ? object['metadata']['managedFields'] : undefined;
  if (!Array.isArray(entries)) return managed;
  for (const entry of entries) {
    if (!isObject(entry)) continue;
    const { manager, operation, apiVersion, subresource, time } = entry;
    if (typeof manager !== 'string' || (operation !== 'Apply' && operation !== 'Update')) continue;
    const decoded: ManagedEntry = {
      manager,
      operation,
      apiVersion: typeof apiVersion === 'string' ? apiVersion : '',
      ...(typeof subresource === 'string' ? { subresource } : {}),
      time: typeof time === 'string' ? time : undefined,
      set: FieldSet.fromFieldsV1(entry['fieldsV1']),
    };
    managed.set(managerIdentifier(decoded), decoded);
  }
  return managed;
}

/** The managedFields list, in kube-apiserver's order: Apply before Update, then by time, manager, version,
 * subresource (sortEncodedManagedFields). */
export function encodeManaged(managed: Managed): Json[] {
  const seconds = (time: string | undefined): number => (time === undefined ? 0 : Date.parse(time) / 1000);
  return [...managed.values()]
    .filter((entry) => !entry.set.isEmpty())
    .sort(
      (p, q) =>
        cmp(p.operation, q.operation) ||
        seconds(p.time) - seconds(q.time) ||
        cmp(p.manager, q.manager) ||
        cmp(p.apiVersion, q.apiVersion) ||
        cmp(p.subresource ?? '', q.subresource ?? ''),
    )
    .map((entry) => {
      const encoded: JsonObject = { manager: entry.manager, operation: entry.operation, apiVersion: entry.apiVersion };
      if (entry.time !== undefined) encoded['time'] = entry.time;
      encoded['fieldsType'] = 'FieldsV1';
      encoded['fieldsV1'] = entry.set.toFieldsV1();
      if (entry.subresource !== undefined) encoded['subresource'] = entry.subresource;
      return encoded;
    });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The object without metadata.managedFields, for comparisons. */
export function withoutManagedFields(object: JsonObject): JsonObject {
  const metadata = isObject(object['metadata']) ? { ...object['metadata'] } : {};
  delete metadata['managedFields'];
  return { ...object, metadata };
}

/** The managed fields after a write (create, update, status update) by `manager` that turned `live` into
 * `next` (managedfieldsupdater.go Update with the "current-operation" manager, then Updater.Update). */
export function recordUpdate(
  resource: Resource,
  live: JsonObject,
  next: JsonObject,
  managedBefore: Managed,
  manager: Manager,
  time: string,
): Managed {
  const ignored = resetFields(resource, manager.subresource);
  const { added, removed, modified } = compare(resource, withoutManagedFields(live), withoutManagedFields(next));
  const changed = modified.union(added).recursiveDifference(ignored);
  const managed: Managed = new Map();
  for (const [id, entry] of managedBefore) {
    const set = entry.set.difference(changed).difference(removed);
    if (!set.isEmpty()) managed.set(id, { ...entry, set });
  }
  const current = changed.difference(removed).difference(STRIPPED);
  if (current.isEmpty()) return managed;
  const id = managerIdentifier(manager);
  const previous = managed.get(id);
  managed.set(id, { ...manager, set: previous ? previous.set.union(current) : current, time });
  return managed;
}

export interface ApplyConflict {
  readonly manager: string;
  readonly path: FieldPath;
}

export type ApplyOutcome =
  | { readonly ok: true; readonly object: JsonObject; readonly managed: Managed; readonly changed: boolean }
  | { readonly ok: false; readonly conflicts: readonly ApplyConflict[] };

/** An apply of `config` by `manager` to `live` (Updater.Apply): merge, prune what the applier dropped and nobody
 * else owns, then conflicts with every other manager whose fields the merge changes, unless forced. The object
 * returned is not defaulted yet; `changed` is false when the merge left the object as it was. */
export function recordApply(
  resource: Resource,
  live: JsonObject,
  config: JsonObject,
  managedBefore: Managed,
  manager: Manager,
  force: boolean,
  time: string,
): ApplyOutcome {
  const ignored = resetFields(resource, manager.subresource);
  const id = managerIdentifier(manager);
  const liveObject = withoutManagedFields(live);
  const lastSet = managedBefore.get(id)?.set;
  const configSet = toFieldSet(resource, config).recursiveDifference(ignored);
  const managers: Managed = new Map(managedBefore);
  managers.set(id, { ...manager, set: configSet, time: managedBefore.get(id)?.time });

  let next = merge(resource, liveObject, config);
  if (lastSet !== undefined && !lastSet.isEmpty()) {
    let owned = new FieldSet();
    for (const entry of managers.values()) owned = owned.union(entry.set);
    const toRemove = ensureNamedFieldsAreMembers(resource, lastSet).difference(
      ensureNamedFieldsAreMembers(resource, owned),
    );
    if (!toRemove.isEmpty()) next = removeItems(resource, next, toRemove);
  }

  const comparison = compare(resource, liveObject, next);
  const changedByApply = comparison.modified.union(comparison.added).recursiveDifference(ignored);
  const conflicts: ApplyConflict[] = [];
  const result: Managed = new Map();
  for (const [otherId, entry] of managers) {
    if (otherId === id) continue;
    const conflicting = entry.set.intersection(changedByApply);
    for (const path of conflicting.paths()) conflicts.push({ manager: otherId, path });
    const set = entry.set.difference(conflicting).difference(comparison.removed);
    if (!set.isEmpty()) result.set(otherId, { ...entry, set });
  }
  if (conflicts.length > 0 && !force) {
    return { ok: false, conflicts: conflicts.sort((a, b) => cmp(a.manager, b.manager)) };
  }
  const changed = !jsonEqual(liveObject, next);
  const applierSet = configSet.difference(STRIPPED);
  const previousTime = managedBefore.get(id)?.time;
  if (!applierSet.isEmpty()) {
    result.set(id, { ...manager, set: applierSet, time: changed ? time : previousTime });
  }
  return { ok: true, object: next, managed: result, changed };
}

/** printManager: the manager's name, its subresource, and for an Update its API version. */
export function describeManager(id: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(id);
  } catch {
    return JSON.stringify(id);
  }
  if (typeof parsed !== 'object' || parsed === null) return JSON.stringify(id);
  const field = (name: string): string => {
    const value: unknown = Reflect.get(parsed, name);
    return typeof value === 'string' ? value : '';
  };
  let text = JSON.stringify(field('manager'));
  if (field('subresource') !== '') text += ` with subresource ${JSON.stringify(field('subresource'))}`;
  if (field('operation') === 'Update') text += ` using ${field('apiVersion')}`;
  return text;
}

/** The 409 message for apply conflicts (getConflictMessage). */
export function conflictMessage(conflicts: readonly ApplyConflict[]): string {
  const [only] = conflicts;
  if (conflicts.length === 1 && only !== undefined) {
    return `Apply failed with 1 conflict: conflict with ${describeManager(only.manager)}: ${pathString(only.path)}`;
  }
  const byManager = new Map<string, string[]>();
  for (const { manager, path } of conflicts) {
    byManager.set(manager, [...(byManager.get(manager) ?? []), pathString(path)]);
  }
  const lines: string[] = [];
  for (const manager of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${describeManager(manager)}:`);
    for (const path of byManager.get(manager) ?? []) lines.push(`- ${path}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}
