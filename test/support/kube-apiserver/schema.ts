// The parts of the apps/v1 and core/v1 OpenAPI schemas that server-side apply needs: which objects are atomic or
// granular maps, which lists are associative (and by which keys), which are sets. Everything else is a struct with
// named fields, and a list is atomic unless listed here (k8s.io/api apps/v1 and core/v1 types.go, the
// `+listType`, `+listMapKey`, `+mapType` and `+structType` markers).
import type { Json } from './json.js';

export type Resource = 'deployments' | 'replicasets' | 'pods';

export type NodeKind =
  | { readonly kind: 'struct' }
  | { readonly kind: 'map' }
  | { readonly kind: 'atomic' }
  | { readonly kind: 'set' }
  | { readonly kind: 'list'; readonly keys: readonly string[]; readonly defaults?: Readonly<Record<string, Json>> };

const STRUCT: NodeKind = { kind: 'struct' };
const MAP: NodeKind = { kind: 'map' };
const ATOMIC: NodeKind = { kind: 'atomic' };
const SET: NodeKind = { kind: 'set' };
const byKeys = (keys: string[], defaults?: Record<string, Json>): NodeKind =>
  defaults ? { kind: 'list', keys, defaults } : { kind: 'list', keys };

const OBJECT_META: Readonly<Record<string, NodeKind>> = {
  labels: MAP,
  annotations: MAP,
  ownerReferences: byKeys(['uid']),
  finalizers: SET,
  managedFields: ATOMIC,
};

const CONTAINER: Readonly<Record<string, NodeKind>> = {
  ports: byKeys(['containerPort', 'protocol'], { protocol: 'TCP' }),
  env: byKeys(['name']),
  volumeMounts: byKeys(['mountPath']),
  volumeDevices: byKeys(['devicePath']),
  resizePolicy: byKeys(['resourceName']),
  'resources.limits': MAP,
  'resources.requests': MAP,
  'resources.claims': byKeys(['name']),
};

const POD_SPEC: Readonly<Record<string, NodeKind>> = {
  containers: byKeys(['name']),
  initContainers: byKeys(['name']),
  ephemeralContainers: byKeys(['name']),
  volumes: byKeys(['name']),
  imagePullSecrets: byKeys(['name']),
  hostAliases: byKeys(['ip']),
  topologySpreadConstraints: byKeys(['topologyKey', 'whenUnsatisfiable']),
  resourceClaims: byKeys(['name']),
  schedulingGates: byKeys(['name']),
  nodeSelector: MAP,
  overhead: MAP,
};

const POD_STATUS: Readonly<Record<string, NodeKind>> = {
  conditions: byKeys(['type']),
  podIPs: byKeys(['ip']),
  hostIPs: byKeys(['ip']),
};

/** The kind of node at `typePath` (field names from the object's root; list items add no step). */
export function nodeKind(resource: Resource, typePath: readonly string[]): NodeKind {
  const path = typePath.join('.');
  for (const prefix of resource === 'pods' ? ['metadata'] : ['metadata', 'spec.template.metadata']) {
    if (path.startsWith(`${prefix}.`)) return OBJECT_META[path.slice(prefix.length + 1)] ?? STRUCT;
  }
  const podSpec = resource === 'pods' ? 'spec' : 'spec.template.spec';
  if (path.startsWith(`${podSpec}.`)) {
    const rest = path.slice(podSpec.length + 1);
    const container = /^(?:containers|initContainers|ephemeralContainers)\.(.+)$/.exec(rest);
    if (container?.[1] !== undefined) return CONTAINER[container[1]] ?? STRUCT;
    return POD_SPEC[rest] ?? STRUCT;
  }
  if (resource !== 'pods' && path === 'spec.selector') return ATOMIC;
  if (path === 'status.conditions') return byKeys(['type']);
  if (resource === 'pods' && path.startsWith('status.')) return POD_STATUS[path.slice('status.'.length)] ?? STRUCT;
  return STRUCT;
}
