// The order a set is applied in, pruned and deleted in. Pure.
// - Apply: definitions the rest needs first (CustomResourceDefinitions, Namespaces, ClusterRoles: the first stage of
//   Flux's staged apply, fluxcd/pkg ssa/manager_apply.go ApplyAllStaged), then kinds ending in "Class", then the rest in
//   Helm's install order (helm pkg/release/v1/util/kind_sorter.go), kinds Helm does not know (custom resources among
//   them) after the ones it does, and webhook configurations last, so that a webhook never judges its own set.
// - Prune: the reverse of the install order.
// - Delete: webhook configurations first (validating before mutating, as Helm's UninstallOrder has them), then custom
//   resources (their operator may need to finalize them while it still runs), then the rest in reverse install order,
//   so that Namespaces and CRDs go last (Flux's ssa/manager_delete.go also deletes in reverse of its apply order).

/** Helm's install order of the kinds it knows. */
const HELM_INSTALL_ORDER: readonly string[] = [
  'PriorityClass',
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodSecurityPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'SecretList',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleList',
  'ClusterRoleBinding',
  'ClusterRoleBindingList',
  'Role',
  'RoleList',
  'RoleBinding',
  'RoleBindingList',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
];

const WEBHOOKS: ReadonlySet<string> = new Set([
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
]);

/** What the order needs to know of an object. */
export interface Orderable {
  readonly kind: string;
  /** Its kind is served by a CustomResourceDefinition (of the set, or of the cluster), not by Kubernetes itself. */
  readonly custom: boolean;
}

/** The stage an object is applied in: 0 definitions (wait for CRDs to be Established after it), 1 classes, 2 the
 * rest. */
export function stageOf({ kind, custom }: Orderable): 0 | 1 | 2 {
  if (!custom && (kind === 'CustomResourceDefinition' || kind === 'Namespace' || kind === 'ClusterRole')) {
    return 0;
  }
  return kind.endsWith('Class') ? 1 : 2;
}

/** Where an object goes within the install order: lower first. */
function rankOf(object: Orderable): number {
  const known = object.custom ? -1 : HELM_INSTALL_ORDER.indexOf(object.kind);
  if (WEBHOOKS.has(object.kind) && !object.custom) {
    return 3000 + (known < 0 ? HELM_INSTALL_ORDER.length : known);
  }
  return stageOf(object) * 1000 + (known < 0 ? HELM_INSTALL_ORDER.length + (object.custom ? 1 : 0) : known);
}

/** The objects in install order, grouped: each group's objects may be applied together, a group only once the one
 * before is done. Stable: objects of one kind keep the manifest's order. */
export function installGroups<T extends Orderable>(objects: readonly T[]): T[][] {
  const groups = new Map<number, T[]>();
  for (const object of objects) {
    const rank = rankOf(object);
    groups.set(rank, [...(groups.get(rank) ?? []), object]);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
}

/** The objects in the order a prune deletes them: the reverse of the install order. */
export function pruneOrder<T extends Orderable>(objects: readonly T[]): T[] {
  return installGroups(objects).reverse().flat();
}

/** The objects in the order delete-manifest deletes them, grouped: webhook configurations, then custom resources
 * (waited for until they are gone), then the rest in reverse install order. */
export function deleteGroups<T extends Orderable>(objects: readonly T[]): { webhooks: T[]; custom: T[]; rest: T[] } {
  // Each group in reverse install order too: validating webhooks before mutating ones (helm/helm
  // pkg/release/v1/util/kind_sorter.go UninstallOrder: so that they do not block the removal), a custom *Class after
  // the custom resources that use it.
  const webhooks = pruneOrder(objects.filter((object) => !object.custom && WEBHOOKS.has(object.kind)));
  const custom = pruneOrder(objects.filter((object) => object.custom));
  const rest = pruneOrder(objects.filter((object) => !object.custom && !WEBHOOKS.has(object.kind)));
  return { webhooks, custom, rest };
}
