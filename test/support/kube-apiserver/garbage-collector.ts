// The garbage collector (pkg/controller/garbagecollector/garbagecollector.go attemptToDeleteItem,
// processDeletingDependentsItem, orphanDependents): dependents whose owner is gone are deleted; an owner deleted in
// the foreground has its dependents deleted (in the foreground themselves when they have dependents) and goes when
// the blocking ones are gone; an owner deleted with Orphan has its dependents released first.
import type { ControllerContext } from './cluster.js';
import { deleteObject, FOREGROUND, ORPHAN } from './deletion.js';
import { arrayAt, isObject, stringAt, type JsonObject } from './json.js';
import { ownerReferences, uidOf } from './objects.js';
import type { Resource } from './schema.js';
import { isBeingDeleted, type StoredObject } from './store.js';

const RESOURCES: readonly Resource[] = ['deployments', 'replicasets', 'pods'];

export function collectGarbage(ctx: ControllerContext): void {
  const all = (): { resource: Resource; object: StoredObject }[] =>
    RESOURCES.flatMap((resource) => ctx.store.list(resource).map((object) => ({ resource, object })));
  const dependentsOf = (uid: string): { resource: Resource; object: StoredObject }[] =>
    all().filter(({ object }) => ownerReferences(object).some((ref) => ref.uid === uid));

  const uids = new Set(all().map(({ object }) => uidOf(object)));
  for (const { resource, object } of all()) {
    const owners = ownerReferences(object);
    if (owners.length > 0 && !isBeingDeleted(object) && owners.every((ref) => !uids.has(ref.uid))) {
      deleteObject(ctx, resource, object, {});
    }
  }

  for (const { resource, object } of all()) {
    if (!isBeingDeleted(object)) continue;
    const finalizers = arrayAt(object, 'metadata', 'finalizers');
    const uid = uidOf(object);
    if (finalizers.includes(ORPHAN)) {
      for (const dependent of dependentsOf(uid)) {
        const kept = arrayAt(dependent.object, 'metadata', 'ownerReferences').filter(
          (ref) => !(isObject(ref) && ref['uid'] === uid),
        );
        const metadata: JsonObject = { ...dependent.object.metadata, ownerReferences: kept };
        if (kept.length === 0) delete metadata['ownerReferences'];
        ctx.store.put(dependent.resource, { ...dependent.object, metadata });
      }
      removeFinalizer(ctx, resource, object, ORPHAN);
      continue;
    }
    if (!finalizers.includes(FOREGROUND)) continue;
    const dependents = dependentsOf(uid);
    for (const dependent of dependents) {
      if (isBeingDeleted(dependent.object)) continue;
      const hasDependents = dependentsOf(uidOf(dependent.object)).length > 0;
      deleteObject(ctx, dependent.resource, dependent.object, hasDependents ? { propagationPolicy: 'Foreground' } : {});
    }
    const blocking = dependentsOf(uid).filter(({ object: dependent }) =>
      ownerReferences(dependent).some((ref) => ref.uid === uid && ref.blockOwnerDeletion),
    );
    if (blocking.length === 0) removeFinalizer(ctx, resource, object, FOREGROUND);
  }
}

/** The finalizer taken off; an object left without finalizers while being deleted is removed. */
function removeFinalizer(ctx: ControllerContext, resource: Resource, object: StoredObject, finalizer: string): void {
  const current = ctx.store.get(
    resource,
    stringAt(object, 'metadata', 'namespace') ?? '',
    stringAt(object, 'metadata', 'name') ?? '',
  );
  if (current === undefined) return;
  const left = arrayAt(current, 'metadata', 'finalizers').filter((f) => f !== finalizer);
  if (left.length === 0) {
    ctx.store.remove(
      resource,
      stringAt(current, 'metadata', 'namespace') ?? '',
      stringAt(current, 'metadata', 'name') ?? '',
    );
    return;
  }
  ctx.store.put(resource, { ...current, metadata: { ...current.metadata, finalizers: left } });
}
