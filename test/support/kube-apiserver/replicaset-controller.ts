// The replicaset controller (pkg/controller/replicaset/replica_set.go syncReplicaSet, manageReplicas,
// replica_set_utils.go calculateStatus; pkg/controller/controller_utils.go for pod creation and the order pods are
// deleted in), with what admission adds to a new pod (ServiceAccount, DefaultTolerationSeconds, Priority).
import type { ControllerContext } from './cluster.js';
import { controllerRef } from './deployment-controller.js';
import { deleteObject } from './deletion.js';
import {
  arrayAt,
  clone,
  ensureObject,
  isObject,
  numberAt,
  objectAt,
  stringAt,
  type Json,
  type JsonObject,
} from './json.js';
import type { Manager } from './managed-fields.js';
import {
  condition,
  controlledBy,
  creationMs,
  nameOf,
  namespaceOf,
  podIsActive,
  podIsAvailable,
  podIsReady,
  specReplicas,
  uidOf,
} from './objects.js';
import { createAs, isBeingDeleted, updateAs, type StoredObject } from './store.js';

const CONTROLLER_MANAGER: Manager = { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'apps/v1' };
const CONTROLLER_MANAGER_STATUS: Manager = { ...CONTROLLER_MANAGER, subresource: 'status' };
const POD_CREATOR: Manager = { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1' };

export function syncReplicaSet(ctx: ControllerContext, namespace: string, name: string): void {
  const rs = ctx.store.get('replicasets', namespace, name);
  if (rs === undefined) return;
  const pods = ctx.store.list('pods', namespace).filter((pod) => controlledBy(pod, uidOf(rs)));
  const activePods = pods.filter(podIsActive);
  if (!isBeingDeleted(rs)) {
    const diff = activePods.length - specReplicas(rs, 1);
    if (diff < 0) for (let i = 0; i < -diff; i += 1) createPod(ctx, rs);
    if (diff > 0) for (const pod of podsToDelete(activePods, diff)) deleteObject(ctx, 'pods', pod, {});
  }
  const minReady = numberAt(rs, 'spec', 'minReadySeconds') ?? 0;
  const status: JsonObject = { replicas: activePods.length };
  const labels = objectAt(rs, 'spec', 'template', 'metadata', 'labels') ?? {};
  const fullyLabeled = activePods.filter((pod) =>
    Object.entries(labels).every(([key, value]) => stringAt(pod, 'metadata', 'labels', key) === value),
  ).length;
  const ready = activePods.filter(podIsReady).length;
  const available = activePods.filter((pod) => podIsAvailable(pod, minReady, ctx.now())).length;
  if (fullyLabeled > 0) status['fullyLabeledReplicas'] = fullyLabeled;
  if (ready > 0) status['readyReplicas'] = ready;
  if (available > 0) status['availableReplicas'] = available;
  const generation = numberAt(rs, 'metadata', 'generation') ?? 0;
  if (generation > 0) status['observedGeneration'] = generation;
  updateAs(ctx, 'replicasets', rs, (draft) => (draft['status'] = status), CONTROLLER_MANAGER_STATUS);
  if (minReady > 0 && available < ready) {
    const becomesAvailable = activePods
      .map((pod) => Date.parse(stringAt(condition(pod, 'Ready') ?? {}, 'lastTransitionTime') ?? '') + minReady * 1000)
      .filter((at) => Number.isFinite(at) && at > ctx.now());
    if (becomesAvailable.length > 0) {
      ctx.schedule(`replicaset/${namespace}/${name}`, Math.min(...becomesAvailable) - ctx.now(), () =>
        syncReplicaSet(ctx, namespace, name),
      );
    }
  }
}

/** GetPodFromTemplate, then what admission adds: the service account, its token volume, default tolerations. */
function createPod(ctx: ControllerContext, rs: StoredObject): void {
  const template = objectAt(rs, 'spec', 'template') ?? {};
  const rsName = nameOf(rs);
  const metadata: JsonObject = {
    name: `${rsName}-${ctx.random(5)}`,
    generateName: `${rsName}-`,
    namespace: namespaceOf(rs),
    labels: clone(objectAt(template, 'metadata', 'labels') ?? {}),
  };
  const annotations = objectAt(template, 'metadata', 'annotations');
  if (annotations !== undefined) metadata['annotations'] = clone(annotations);
  metadata['ownerReferences'] = [controllerRef(rs, 'ReplicaSet')];
  const spec = clone(objectAt(template, 'spec') ?? {});
  const pod: StoredObject = { metadata, spec, status: { phase: 'Pending', qosClass: qosClass(spec) } };
  const token = `kube-api-access-${ctx.random(5)}`;
  createAs(ctx, 'pods', pod, POD_CREATOR, (created) => admitPod(created, token));
}

function admitPod(pod: StoredObject, token: string): void {
  const spec = ensureObject(pod, 'spec');
  if (spec['serviceAccountName'] === undefined) spec['serviceAccountName'] = 'default';
  spec['serviceAccount'] = spec['serviceAccountName'] ?? 'default';
  if (spec['enableServiceLinks'] === undefined) spec['enableServiceLinks'] = true;
  if (spec['priority'] === undefined) spec['priority'] = 0;
  if (spec['preemptionPolicy'] === undefined) spec['preemptionPolicy'] = 'PreemptLowerPriority';
  const tolerations: Json[] = [...arrayAt(spec, 'tolerations')];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerations.some((toleration) => stringAt(toleration, 'key') === key)) {
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
    }
  }
  spec['tolerations'] = tolerations;
  if (spec['automountServiceAccountToken'] === false) return;
  spec['volumes'] = [
    ...arrayAt(spec, 'volumes'),
    {
      name: token,
      projected: {
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          {
            downwardAPI: {
              items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
            },
          },
        ],
        defaultMode: 420,
      },
    },
  ];
  for (const container of arrayAt(spec, 'containers')) {
    if (!isObject(container)) continue;
    container['volumeMounts'] = [
      ...arrayAt(container, 'volumeMounts'),
      { name: token, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
    ];
  }
}

/** GetPodQOS, for pods without requests or limits (BestEffort) and otherwise Burstable or Guaranteed. */
function qosClass(spec: JsonObject): string {
  const containers = arrayAt(spec, 'containers');
  const resources = containers.map((container) => ({
    requests: objectAt(container, 'resources', 'requests') ?? {},
    limits: objectAt(container, 'resources', 'limits') ?? {},
  }));
  if (
    resources.every(({ requests, limits }) => Object.keys(requests).length === 0 && Object.keys(limits).length === 0)
  ) {
    return 'BestEffort';
  }
  const guaranteed = resources.every(({ requests, limits }) =>
    ['cpu', 'memory'].every((name) => limits[name] !== undefined && (requests[name] ?? limits[name]) === limits[name]),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** getPodsToDelete: unscheduled before scheduled, pending before running, not ready before ready, more restarts
 * before fewer, newer before older. */
function podsToDelete(pods: StoredObject[], count: number): StoredObject[] {
  const phaseRank = (pod: StoredObject): number =>
    ({ Pending: 0, Unknown: 1, Running: 2 })[stringAt(pod, 'status', 'phase') ?? 'Pending'] ?? 0;
  const restarts = (pod: StoredObject): number =>
    arrayAt(pod, 'status', 'containerStatuses').reduce<number>(
      (total, status) => total + (numberAt(status, 'restartCount') ?? 0),
      0,
    );
  const scheduled = (pod: StoredObject): number => (stringAt(pod, 'spec', 'nodeName') === undefined ? 0 : 1);
  return [...pods]
    .sort(
      (a, b) =>
        scheduled(a) - scheduled(b) ||
        phaseRank(a) - phaseRank(b) ||
        Number(podIsReady(a)) - Number(podIsReady(b)) ||
        restarts(b) - restarts(a) ||
        creationMs(b) - creationMs(a),
    )
    .slice(0, count);
}
