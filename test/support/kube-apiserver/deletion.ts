// Deletion as the generic registry does it (apiserver pkg/registry/generic/registry/store.go Delete,
// deletionFinalizersForGarbageCollection, markAsDeleting; pkg/registry/rest/delete.go BeforeDelete; the pod
// strategy's graceful deletion): an object without finalizers goes at once; Foreground and Orphan add their
// finalizer and leave the object, marked with deletionTimestamp, for the garbage collector; a scheduled pod gets
// its grace period and is removed by the kubelet.
import { arrayAt, jsonEqual, numberAt, stringAt, type JsonObject } from './json.js';
import type { Resource } from './schema.js';
import { timestamp, type StoredObject, type SystemWriter } from './store.js';

export type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan';

export interface DeletionRequest {
  readonly propagationPolicy?: PropagationPolicy;
  readonly gracePeriodSeconds?: number;
  readonly dryRun?: boolean;
}

export interface DeletionResult {
  /** True when the object is gone (or, for a dry run, would be). */
  readonly deleted: boolean;
  /** The object as it was removed, or as it now stands being deleted. */
  readonly object: StoredObject;
}

export const FOREGROUND = 'foregroundDeletion';
export const ORPHAN = 'orphan';

export function deleteObject(
  writer: SystemWriter,
  resource: Resource,
  live: StoredObject,
  request: DeletionRequest,
): DeletionResult {
  const namespace = stringAt(live, 'metadata', 'namespace') ?? '';
  const name = stringAt(live, 'metadata', 'name') ?? '';
  const finalizers = arrayAt(live, 'metadata', 'finalizers').filter((f): f is string => typeof f === 'string');
  // deletionFinalizersForGarbageCollection: an explicit policy decides; without one, the object's own finalizers
  // do (and the default for apps/v1, DeleteDependents in the background, adds none).
  const explicit = request.propagationPolicy;
  const orphan = explicit === undefined ? finalizers.includes(ORPHAN) : explicit === 'Orphan';
  const foreground = explicit === undefined ? finalizers.includes(FOREGROUND) : explicit === 'Foreground';
  let next = finalizers.filter((f) => f !== FOREGROUND && f !== ORPHAN);
  if (orphan) next.push(ORPHAN);
  if (foreground) next.push(FOREGROUND);
  if (next.length === finalizers.length && next.every((f) => finalizers.includes(f))) next = finalizers;

  if (resource === 'pods') {
    const scheduled = stringAt(live, 'spec', 'nodeName') !== undefined;
    const grace = scheduled
      ? (request.gracePeriodSeconds ?? numberAt(live, 'spec', 'terminationGracePeriodSeconds') ?? 30)
      : 0;
    if (grace > 0 && next.length === 0) {
      if (live.metadata['deletionTimestamp'] !== undefined) return { deleted: false, object: live };
      const marked: StoredObject = {
        ...live,
        metadata: {
          ...live.metadata,
          deletionTimestamp: timestamp(writer.now() + grace * 1000),
          deletionGracePeriodSeconds: grace,
        },
      };
      return { deleted: false, object: request.dryRun === true ? marked : writer.store.put(resource, marked) };
    }
  }

  if (next.length === 0) {
    if (request.dryRun !== true) writer.store.remove(resource, namespace, name);
    return { deleted: true, object: live };
  }
  const metadata: JsonObject = { ...live.metadata, finalizers: next };
  if (metadata['deletionTimestamp'] === undefined) {
    const generation = numberAt(live, 'metadata', 'generation');
    if (generation !== undefined && generation > 0) metadata['generation'] = generation + 1;
    metadata['deletionTimestamp'] = timestamp(writer.now());
  }
  metadata['deletionGracePeriodSeconds'] = 0;
  const marked: StoredObject = { ...live, metadata };
  if (jsonEqual(marked, live)) return { deleted: false, object: live };
  return { deleted: false, object: request.dryRun === true ? marked : writer.store.put(resource, marked) };
}
