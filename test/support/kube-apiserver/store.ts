// The stand-in's storage: Deployments, ReplicaSets and Pods by namespace/name, one resourceVersion counter for all
// (as etcd's revision is), watch notifications, and the writes every component makes through the API: a create or
// an update records the writer in metadata.managedFields, bumps resourceVersion, and (for a spec change) generation.
import { randomUUID } from 'node:crypto';
import { clone, isObject, jsonEqual, objectAt, stringAt, type JsonObject } from './json.js';
import { decodeManaged, encodeManaged, recordUpdate, type Manager } from './managed-fields.js';
import type { Resource } from './schema.js';

export interface StoredObject extends JsonObject {
  metadata: JsonObject;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: WatchEventType;
  readonly resource: Resource;
  readonly object: StoredObject;
}

export const KIND: Readonly<Record<Resource, { kind: string; apiVersion: string }>> = {
  deployments: { kind: 'Deployment', apiVersion: 'apps/v1' },
  replicasets: { kind: 'ReplicaSet', apiVersion: 'apps/v1' },
  pods: { kind: 'Pod', apiVersion: 'v1' },
};

/** RFC 3339 at second precision, as metav1.Time marshals. */
export function timestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function asStored(object: JsonObject): StoredObject {
  const metadata = objectAt(object, 'metadata') ?? {};
  return { ...object, metadata };
}

/** A new, empty object of the kind as Go renders it: the live object a create is compared against, so that the
 * fields it always has (spec, strategy, template) are not "added" and carry no `.` in the creator's fields. */
export function emptyObject(resource: Resource): JsonObject {
  const template: JsonObject = { metadata: { creationTimestamp: null }, spec: { containers: null } };
  switch (resource) {
    case 'deployments':
      return { metadata: { creationTimestamp: null }, spec: { selector: null, template, strategy: {} }, status: {} };
    case 'replicasets':
      return { metadata: { creationTimestamp: null }, spec: { selector: null, template }, status: { replicas: 0 } };
    case 'pods':
      return { metadata: { creationTimestamp: null }, spec: { containers: null }, status: {} };
  }
}

export class ObjectStore {
  private readonly objects: Record<Resource, Map<string, StoredObject>> = {
    deployments: new Map(),
    replicasets: new Map(),
    pods: new Map(),
  };
  private revision = 1000;
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  map(resource: Resource): Map<string, StoredObject> {
    return this.objects[resource];
  }

  get(resource: Resource, namespace: string, name: string): StoredObject | undefined {
    return this.objects[resource].get(keyOf(namespace, name));
  }

  /** The objects of a namespace (all namespaces when undefined), in name order, as etcd lists keys. */
  list(resource: Resource, namespace?: string): StoredObject[] {
    return [...this.objects[resource].entries()]
      .filter(([key]) => namespace === undefined || key.startsWith(`${namespace}/`))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object);
  }

  get resourceVersion(): string {
    return String(this.revision);
  }

  /** Stores the object with the next resourceVersion and tells the watchers. */
  put(resource: Resource, object: StoredObject): StoredObject {
    const namespace = stringAt(object, 'metadata', 'namespace') ?? '';
    const name = stringAt(object, 'metadata', 'name') ?? '';
    const key = keyOf(namespace, name);
    const existed = this.objects[resource].has(key);
    this.revision += 1;
    const stored: StoredObject = { ...object, metadata: { ...object.metadata, resourceVersion: this.resourceVersion } };
    this.objects[resource].set(key, stored);
    this.emit({ type: existed ? 'MODIFIED' : 'ADDED', resource, object: stored });
    return stored;
  }

  remove(resource: Resource, namespace: string, name: string): void {
    const key = keyOf(namespace, name);
    const existing = this.objects[resource].get(key);
    if (existing === undefined) return;
    this.objects[resource].delete(key);
    this.revision += 1;
    const object: StoredObject = {
      ...existing,
      metadata: { ...existing.metadata, resourceVersion: this.resourceVersion },
    };
    this.emit({ type: 'DELETED', resource, object });
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  clear(): void {
    for (const map of Object.values(this.objects)) map.clear();
  }

  private emit(event: StoreEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}

export interface SystemWriter {
  readonly store: ObjectStore;
  /** The time of the write, epoch ms. */
  readonly now: () => number;
}

/** A create through the API by a component (a controller): system fields, the creator's managed fields, then
 * what admission adds (`admit`), which nobody owns. */
export function createAs(
  writer: SystemWriter,
  resource: Resource,
  object: JsonObject,
  manager: Manager,
  admit: (object: StoredObject) => void = () => undefined,
): StoredObject {
  const time = timestamp(writer.now());
  const metadata: JsonObject = { ...(objectAt(object, 'metadata') ?? {}), uid: randomUUID(), creationTimestamp: time };
  if (resource !== 'pods') metadata['generation'] = 1;
  const created: StoredObject = { ...object, metadata };
  const managed = recordUpdate(resource, emptyObject(resource), created, new Map(), manager, time);
  created.metadata['managedFields'] = encodeManaged(managed);
  admit(created);
  return writer.store.put(resource, withTypeMeta(resource, created));
}

/** An update through the API by a component, of the main resource or (with subresource `status`) of the status:
 * writes only if something changed; a spec change (or, for a Deployment, an annotation change) bumps generation. */
export function updateAs(
  writer: SystemWriter,
  resource: Resource,
  live: StoredObject,
  change: (draft: StoredObject) => void,
  manager: Manager,
): StoredObject {
  const draft = clone(live);
  change(draft);
  const next = manager.subresource === 'status' ? keepSpec(live, draft) : keepStatus(live, draft);
  return writeUpdate(writer, resource, live, next, manager);
}

/** Stores `next` in place of `live` if it differs, with the writer's managed fields; returns what is stored. */
export function writeUpdate(
  writer: SystemWriter,
  resource: Resource,
  live: StoredObject,
  next: StoredObject,
  manager: Manager,
  dryRun = false,
): StoredObject {
  const time = timestamp(writer.now());
  const managed = recordUpdate(resource, live, next, decodeManaged(live), manager, time);
  const encoded = encodeManaged(managed);
  const metadata: JsonObject = { ...next.metadata };
  if (encoded.length > 0) metadata['managedFields'] = encoded;
  else delete metadata['managedFields'];
  const liveVersion = live.metadata['resourceVersion'];
  if (liveVersion !== undefined) metadata['resourceVersion'] = liveVersion;
  const candidate: StoredObject = { ...next, metadata };
  if (manager.subresource === undefined && generationBumps(resource, live, candidate)) {
    const generation = live.metadata['generation'];
    candidate.metadata['generation'] = (typeof generation === 'number' ? generation : 0) + 1;
  }
  if (jsonEqual(candidate, live)) return live;
  if (dryRun) return candidate;
  return writer.store.put(resource, candidate);
}

/** PrepareForUpdate of the Deployment and ReplicaSet strategies: spec changes bump generation; for a Deployment,
 * annotation changes too (pkg/registry/apps/deployment/strategy.go). Pods carry no generation here. */
export function generationBumps(resource: Resource, live: JsonObject, next: JsonObject): boolean {
  if (resource === 'pods') return false;
  if (!jsonEqual(live['spec'], next['spec'])) return true;
  return (
    resource === 'deployments' &&
    !jsonEqual(objectAt(live, 'metadata', 'annotations') ?? {}, objectAt(next, 'metadata', 'annotations') ?? {})
  );
}

function keepSpec(live: StoredObject, draft: StoredObject): StoredObject {
  const next: StoredObject = { ...draft, metadata: { ...draft.metadata } };
  if (live['spec'] !== undefined) next['spec'] = live['spec'];
  if (live.metadata['labels'] !== undefined) next.metadata['labels'] = live.metadata['labels'];
  else delete next.metadata['labels'];
  return next;
}

function keepStatus(live: StoredObject, draft: StoredObject): StoredObject {
  const next: StoredObject = { ...draft };
  if (live['status'] !== undefined) next['status'] = live['status'];
  return next;
}

export function withTypeMeta(resource: Resource, object: StoredObject): StoredObject {
  const { kind, apiVersion } = KIND[resource];
  const { kind: _kind, apiVersion: _apiVersion, ...rest } = object;
  return { kind, apiVersion, ...rest, metadata: object.metadata };
}

export function isBeingDeleted(object: JsonObject): boolean {
  return isObject(object['metadata']) && typeof object['metadata']['deletionTimestamp'] === 'string';
}
