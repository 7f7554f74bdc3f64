import { describe, expect, it } from '@jest/globals';
import { deleteGroups, installGroups, pruneOrder, stageOf, type Orderable } from '../../../src/manifests/order.js';

// The expected orders below come from the upstream rules, not from our code:
// - Helm's install order: `InstallOrder` in helm pkg/release/v1/util/kind_sorter.go (helm/helm
//   3dfc4f3cf67f58970c0803cd2183be00d8bc1671), a stable sort by kind (`sort.SliceStable`), so objects of one kind keep
//   the manifest's order; kinds it does not know after the ones it does.
// - Flux's staged apply: `ApplyAllStaged` in fluxcd/pkg ssa/manager_apply.go: first `utils.IsClusterDefinition`
//   (a CustomResourceDefinition of apiextensions.k8s.io, a Namespace of v1, a ClusterRole of rbac.authorization.k8s.io),
//   then `utils.IsClassDefinition` (any kind ending in "Class", whatever its group), then the rest (ssa/utils/is.go).
// - Deleting: Helm's `UninstallOrder` removes "validation before mutation to ensure webhooks don't block removal", and
//   Flux's `DeleteAll` (ssa/manager_delete.go) deletes in the reverse of its `ReconcileOrder` (ssa/sort.go): webhook
//   configurations first, then kinds it does not list (custom resources among them), then its listed kinds reversed
//   (the *Class kinds, Namespaces and CustomResourceDefinitions last).

/** Helm's `InstallOrder`, as kind_sorter.go lists it. */
const HELM_INSTALL_ORDER = [
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
] as const;

/** Flux's `IsClusterDefinition` kinds (built-in only: each predicate checks the apiVersion's group). */
const FLUX_DEFINITIONS: ReadonlySet<string> = new Set(['CustomResourceDefinition', 'Namespace', 'ClusterRole']);

interface Fixture extends Orderable {
  readonly name: string;
}

const builtIn = (kind: string, name: string): Fixture => ({ kind, custom: false, name });
const customResource = (kind: string, name: string): Fixture => ({ kind, custom: true, name });
const label = ({ kind, name }: Fixture): string => `${kind}/${name}`;
const labels = (objects: readonly Fixture[]): string[] => objects.map(label);

/** A set as someone might write it, in no useful order: a Namespace, a CRD and two of its resources, RBAC, a
 * workload with its Service, an IngressClass and an Ingress, a PriorityClass, both kinds of webhook configuration and a
 * built-in kind Helm does not know (Lease). */
const MIXED_SET: readonly Fixture[] = [
  builtIn('Deployment', 'web'),
  builtIn('Service', 'web'),
  customResource('Widget', 'first'),
  builtIn('ValidatingWebhookConfiguration', 'widget-policy'),
  builtIn('Ingress', 'web'),
  builtIn('CustomResourceDefinition', 'widgets.example.com'),
  builtIn('RoleBinding', 'web-reader'),
  builtIn('Role', 'web-reader'),
  builtIn('ServiceAccount', 'web'),
  builtIn('ClusterRoleBinding', 'widget-viewer'),
  builtIn('ClusterRole', 'widget-viewer'),
  builtIn('IngressClass', 'nginx'),
  builtIn('Namespace', 'apps'),
  customResource('Widget', 'second'),
  builtIn('PriorityClass', 'critical'),
  builtIn('ConfigMap', 'web-settings'),
  builtIn('MutatingWebhookConfiguration', 'widget-defaults'),
  builtIn('Lease', 'leader'),
];

/** MIXED_SET's install order: Flux's first stage in Helm's order, then its *Class kinds in Helm's order, then the rest
 * in Helm's order, kinds Helm does not know after those it knows (built-in before custom), webhook configurations last
 * (mutating before validating, as Helm). */
const MIXED_SET_INSTALL: readonly (readonly string[])[] = [
  ['Namespace/apps'],
  ['CustomResourceDefinition/widgets.example.com'],
  ['ClusterRole/widget-viewer'],
  ['PriorityClass/critical'],
  ['IngressClass/nginx'],
  ['ServiceAccount/web'],
  ['ConfigMap/web-settings'],
  ['ClusterRoleBinding/widget-viewer'],
  ['Role/web-reader'],
  ['RoleBinding/web-reader'],
  ['Service/web'],
  ['Deployment/web'],
  ['Ingress/web'],
  ['Lease/leader'],
  ['Widget/first', 'Widget/second'],
  ['MutatingWebhookConfiguration/widget-defaults'],
  ['ValidatingWebhookConfiguration/widget-policy'],
];

describe('stageOf', () => {
  it.each<[0 | 1 | 2, string, Fixture]>([
    [0, 'a CustomResourceDefinition', builtIn('CustomResourceDefinition', 'widgets.example.com')],
    [0, 'a Namespace', builtIn('Namespace', 'apps')],
    [0, 'a ClusterRole', builtIn('ClusterRole', 'widget-viewer')],
    [2, 'a ClusterRoleBinding (Flux stages ClusterRoles only)', builtIn('ClusterRoleBinding', 'widget-viewer')],
    [2, 'a Role', builtIn('Role', 'web-reader')],
    [1, 'a PriorityClass', builtIn('PriorityClass', 'critical')],
    [1, 'a StorageClass', builtIn('StorageClass', 'fast')],
    [1, 'an IngressClass', builtIn('IngressClass', 'nginx')],
    [1, 'a RuntimeClass, which Helm does not know', builtIn('RuntimeClass', 'gvisor')],
    [1, 'a custom GatewayClass (the suffix decides, not the group)', customResource('GatewayClass', 'envoy')],
    [2, 'a custom kind named Namespace (Flux wants apiVersion v1)', customResource('Namespace', 'tenant')],
    [2, 'a custom kind named ClusterRole', customResource('ClusterRole', 'viewer')],
    [2, 'a custom kind named CustomResourceDefinition', customResource('CustomResourceDefinition', 'legacy')],
    [2, 'a Deployment', builtIn('Deployment', 'web')],
    [2, 'a custom resource', customResource('Widget', 'first')],
    [2, 'a ValidatingWebhookConfiguration', builtIn('ValidatingWebhookConfiguration', 'widget-policy')],
  ])('returns stage %d when the object is %s', (stage, _label, object) => {
    expect(stageOf(object)).toBe(stage);
  });
});

describe('installGroups', () => {
  it('orders a mixed set by Flux stage, then Helm kind, custom resources and webhooks last when the manifest is unordered', () => {
    const groups = installGroups(MIXED_SET);

    expect(groups.map(labels)).toEqual(MIXED_SET_INSTALL);
  });

  it('gives the same order when the manifest lists the set in reverse', () => {
    const groups = installGroups([...MIXED_SET].reverse());

    expect(groups.map((group) => group.map(({ kind }) => kind))).toEqual(
      MIXED_SET_INSTALL.map((group) => group.map((entry) => entry.split('/')[0])),
    );
  });

  it("applies every kind of Helm's list in Helm's order within each Flux stage when all are given in reverse", () => {
    const manifest = [...HELM_INSTALL_ORDER].reverse().map((kind) => builtIn(kind, kind.toLowerCase()));

    const groups = installGroups(manifest);

    const definitions = HELM_INSTALL_ORDER.filter((kind) => FLUX_DEFINITIONS.has(kind));
    const classes = HELM_INSTALL_ORDER.filter((kind) => !FLUX_DEFINITIONS.has(kind) && kind.endsWith('Class'));
    const rest = HELM_INSTALL_ORDER.filter((kind) => !FLUX_DEFINITIONS.has(kind) && !kind.endsWith('Class'));
    expect(definitions).toEqual(['Namespace', 'CustomResourceDefinition', 'ClusterRole']);
    expect(classes).toEqual(['PriorityClass', 'StorageClass', 'IngressClass']);
    expect(groups.map((group) => group.map(({ kind }) => kind))).toEqual(
      [...definitions, ...classes, ...rest].map((kind) => [kind]),
    );
  });

  it('never mixes stages in a group and never returns to an earlier stage when given the mixed set', () => {
    const stages = installGroups(MIXED_SET).map((group) => [...new Set(group.map(stageOf))]);

    expect(stages.every((group) => group.length === 1)).toBe(true);
    const flat = stages.flat();
    expect(flat).toEqual([...flat].sort((a, b) => a - b));
  });

  it('keeps the manifest order of objects of one kind when other kinds are interleaved', () => {
    const manifest = [
      builtIn('Service', 'b'),
      builtIn('Deployment', 'x'),
      customResource('Widget', 'z'),
      builtIn('Service', 'a'),
      customResource('Widget', 'm'),
      builtIn('Deployment', 'y'),
    ];

    const groups = installGroups(manifest);

    expect(groups.map(labels)).toEqual([
      ['Service/b', 'Service/a'],
      ['Deployment/x', 'Deployment/y'],
      ['Widget/z', 'Widget/m'],
    ]);
  });

  it('applies a custom resource after every built-in kind when its kind has a built-in name', () => {
    // Helm sorts by kind name alone and would put this custom "Deployment" among the Deployments.
    const manifest = [
      customResource('Deployment', 'rollout'),
      builtIn('Lease', 'leader'),
      builtIn('Deployment', 'web'),
    ];

    const groups = installGroups(manifest);

    expect(groups.map(labels)).toEqual([['Deployment/web'], ['Lease/leader'], ['Deployment/rollout']]);
  });

  it('applies a custom *Class with the classes when its CRD and resources of other kinds are in the set', () => {
    const manifest = [
      customResource('Gateway', 'public'),
      customResource('GatewayClass', 'envoy'),
      builtIn('CustomResourceDefinition', 'gatewayclasses.gateway.networking.k8s.io'),
      builtIn('Service', 'web'),
    ];

    const flat = installGroups(manifest).flat();

    expect(labels(flat)).toEqual([
      'CustomResourceDefinition/gatewayclasses.gateway.networking.k8s.io',
      'GatewayClass/envoy',
      'Service/web',
      'Gateway/public',
    ]);
  });

  it('applies webhook configurations after custom resources and kinds Helm does not know when all are in one set', () => {
    const manifest = [
      builtIn('ValidatingWebhookConfiguration', 'policy'),
      builtIn('MutatingWebhookConfiguration', 'defaults'),
      customResource('Widget', 'first'),
      builtIn('Lease', 'leader'),
    ];

    const flat = installGroups(manifest).flat();

    expect(labels(flat)).toEqual([
      'Lease/leader',
      'Widget/first',
      'MutatingWebhookConfiguration/defaults',
      'ValidatingWebhookConfiguration/policy',
    ]);
  });

  it('returns no groups when the set is empty', () => {
    expect(installGroups([])).toEqual([]);
  });
});

describe('pruneOrder', () => {
  it('prunes in the reverse of the install order, each kind in manifest order, when given the mixed set', () => {
    const order = pruneOrder(MIXED_SET);

    expect(labels(order)).toEqual([...MIXED_SET_INSTALL].reverse().flat());
    expect(labels(order)).toEqual([
      'ValidatingWebhookConfiguration/widget-policy',
      'MutatingWebhookConfiguration/widget-defaults',
      'Widget/first',
      'Widget/second',
      'Lease/leader',
      'Ingress/web',
      'Deployment/web',
      'Service/web',
      'RoleBinding/web-reader',
      'Role/web-reader',
      'ClusterRoleBinding/widget-viewer',
      'ConfigMap/web-settings',
      'ServiceAccount/web',
      'IngressClass/nginx',
      'PriorityClass/critical',
      'ClusterRole/widget-viewer',
      'CustomResourceDefinition/widgets.example.com',
      'Namespace/apps',
    ]);
  });

  it('prunes custom resources before the CRD and Namespace they live in when those leave together', () => {
    const order = pruneOrder([
      builtIn('Namespace', 'apps'),
      builtIn('CustomResourceDefinition', 'widgets.example.com'),
      customResource('Widget', 'first'),
    ]);

    expect(labels(order)).toEqual(['Widget/first', 'CustomResourceDefinition/widgets.example.com', 'Namespace/apps']);
  });
});

describe('deleteGroups', () => {
  it('deletes webhooks, then custom resources, then the rest in reverse install order when given the mixed set', () => {
    const { webhooks, custom, rest } = deleteGroups(MIXED_SET);

    expect(labels(webhooks)).toEqual([
      'ValidatingWebhookConfiguration/widget-policy',
      'MutatingWebhookConfiguration/widget-defaults',
    ]);
    expect(labels(custom)).toEqual(['Widget/first', 'Widget/second']);
    expect(labels(rest)).toEqual([
      'Lease/leader',
      'Ingress/web',
      'Deployment/web',
      'Service/web',
      'RoleBinding/web-reader',
      'Role/web-reader',
      'ClusterRoleBinding/widget-viewer',
      'ConfigMap/web-settings',
      'ServiceAccount/web',
      'IngressClass/nginx',
      'PriorityClass/critical',
      'ClusterRole/widget-viewer',
      'CustomResourceDefinition/widgets.example.com',
      'Namespace/apps',
    ]);
  });

  it('deletes validating webhook configurations before mutating ones when the manifest lists the mutating one first', () => {
    // Helm's UninstallOrder: "we remove validation before mutation to ensure webhooks don't block removal"; Flux's
    // DeleteAll, the reverse of ReconcileOrder.Last, agrees.
    const { webhooks } = deleteGroups([
      builtIn('MutatingWebhookConfiguration', 'defaults'),
      builtIn('ValidatingWebhookConfiguration', 'policy'),
    ]);

    expect(labels(webhooks)).toEqual([
      'ValidatingWebhookConfiguration/policy',
      'MutatingWebhookConfiguration/defaults',
    ]);
  });

  it('deletes custom resources before the custom class they use when the manifest lists the class first', () => {
    // Flux's DeleteAll deletes GatewayClass (in ReconcileOrder.First) after kinds it does not list, such as Gateway;
    // the reverse of our own install order, where the class is applied a stage earlier, says the same.
    const { custom } = deleteGroups([customResource('GatewayClass', 'envoy'), customResource('Gateway', 'public')]);

    expect(labels(custom)).toEqual(['Gateway/public', 'GatewayClass/envoy']);
  });

  it('puts every object in exactly one group when given the mixed set', () => {
    const { webhooks, custom, rest } = deleteGroups(MIXED_SET);

    expect([...labels(webhooks), ...labels(custom), ...labels(rest)].sort()).toEqual(labels(MIXED_SET).sort());
  });
});
