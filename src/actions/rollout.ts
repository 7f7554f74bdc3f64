// Whether a Deployment's rollout is complete, still progressing, or failed: the predicate of `kubectl rollout status`
// (kubernetes/kubectl pkg/polymorphichelpers/rollout_status.go, DeploymentStatusViewer), plus the failures of pods of
// the current revision that make waiting for the progress deadline pointless. Pure: values in, values out.
import { MAX_REPORTED_PODS } from '../constants.js';
import type { V1Deployment, V1Pod, V1ReplicaSet } from '../kube/client.js';

export type RolloutState = 'complete' | 'progressing' | 'failed';

/** A pod of the current revision that cannot become ready, and why, in the kubelet's or scheduler's words. */
export interface FailingPod {
  readonly name: string;
  /** The container at fault; empty for a pod that was never scheduled. */
  readonly container: string;
  readonly reason: string;
  readonly message: string;
}

/** The rollout as the function reports it. */
export interface Rollout {
  readonly state: RolloutState;
  readonly desired: number;
  readonly updated: number;
  readonly ready: number;
  readonly available: number;
  readonly message: string;
  /** When failed: ProgressDeadlineExceeded, or the reason of the first failing pod. */
  readonly reason?: string;
  /** When failed: at most MAX_REPORTED_PODS pods of the current revision that cannot start. */
  readonly pods?: readonly FailingPod[];
}

/** Waiting reasons that will not resolve by waiting (kubelet's container states). ErrImagePull alone is not here: a
 * first pull error may be a registry hiccup; it counts once the kubelet has retried (see `failingPods`). */
const STUCK_REASONS: ReadonlySet<string> = new Set([
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);
const PULL_ERROR = 'ErrImagePull';
const DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';
const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/** The rollout of a Deployment as its status says, in the order `kubectl rollout status` checks it. */
export function deploymentRollout(deployment: V1Deployment): Rollout {
  const status = deployment.status ?? {};
  const counts = {
    desired: deployment.spec?.replicas ?? 1,
    updated: status.updatedReplicas ?? 0,
    ready: status.readyReplicas ?? 0,
    available: status.availableReplicas ?? 0,
  };
  const generation = deployment.metadata?.generation ?? 0;
  const observed = status.observedGeneration ?? 0;
  if (generation > observed) {
    return {
      state: 'progressing',
      ...counts,
      message: `waiting for the deployment controller to observe generation ${generation} (it has seen ${observed})`,
    };
  }
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing');
  if (progressing?.reason === DEADLINE_EXCEEDED) {
    const seconds = deployment.spec?.progressDeadlineSeconds ?? 600;
    return {
      state: 'failed',
      ...counts,
      message: `exceeded its progress deadline (${seconds} s): ${progressing.message ?? 'no progress'}`,
      reason: DEADLINE_EXCEEDED,
      pods: [],
    };
  }
  if (counts.updated < counts.desired) {
    return {
      state: 'progressing',
      ...counts,
      message: `${counts.updated} out of ${counts.desired} new replicas have been updated`,
    };
  }
  const total = status.replicas ?? 0;
  if (total > counts.updated) {
    return {
      state: 'progressing',
      ...counts,
      message: `${total - counts.updated} old replicas are pending termination`,
    };
  }
  if (counts.available < counts.updated) {
    return {
      state: 'progressing',
      ...counts,
      message: `${counts.available} of ${counts.updated} updated replicas are available`,
    };
  }
  return { state: 'complete', ...counts, message: 'successfully rolled out' };
}

/** The name of the current revision's ReplicaSet as the deployment controller names it in the Progressing condition
 * (`Created new replica set "web-5d8f"`, `ReplicaSet "web-5d8f" is progressing.`, ...); undefined when the condition
 * does not name one or the controller has not observed the current generation. */
export function currentReplicaSetName(deployment: V1Deployment): string | undefined {
  const generation = deployment.metadata?.generation ?? 0;
  if (generation > (deployment.status?.observedGeneration ?? 0)) {
    return undefined;
  }
  const progressing = deployment.status?.conditions?.find((condition) => condition.type === 'Progressing');
  const named = /[Rr]eplica ?[Ss]et "([^"]+)"/.exec(progressing?.message ?? '')?.[1];
  return named?.startsWith(`${deployment.metadata?.name ?? ''}-`) ? named : undefined;
}

/** The current revision's ReplicaSet among a list: the one whose revision annotation is the Deployment's. */
export function currentReplicaSet(deployment: V1Deployment, replicaSets: readonly V1ReplicaSet[]): string | undefined {
  const revision = deployment.metadata?.annotations?.[REVISION_ANNOTATION];
  const uid = deployment.metadata?.uid;
  return replicaSets.find(
    (replicaSet) =>
      revision !== undefined &&
      replicaSet.metadata?.annotations?.[REVISION_ANNOTATION] === revision &&
      (replicaSet.metadata.ownerReferences ?? []).some((owner) => owner.uid === uid),
  )?.metadata?.name;
}

/** The pods owned by `replicaSetName` that cannot start, by the kubelet's and scheduler's own reasons. A pull error
 * counts only when `earlierPullErrors` (by `pod/container`, seen at an earlier poll; see `pullErrors`) shows the
 * kubelet has retried it; a back-off is explained by the pull error seen before it, which its message omits. */
export function failingPods(
  pods: readonly V1Pod[],
  replicaSetName: string,
  earlierPullErrors: ReadonlyMap<string, string>,
): FailingPod[] {
  return pods
    .filter((pod) => (pod.metadata?.ownerReferences ?? []).some((owner) => owner.name === replicaSetName))
    .flatMap((pod): FailingPod[] => {
      const name = pod.metadata?.name ?? '';
      const unschedulable = pod.status?.conditions?.find(
        (condition) =>
          condition.type === 'PodScheduled' && condition.status === 'False' && condition.reason === 'Unschedulable',
      );
      if (unschedulable) {
        return [{ name, container: '', reason: 'Unschedulable', message: unschedulable.message ?? '' }];
      }
      const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
      return statuses.flatMap((container): FailingPod[] => {
        const waiting = container.state?.waiting;
        const reason = waiting?.reason ?? '';
        const key = `${name}/${container.name}`;
        const stuck = STUCK_REASONS.has(reason) || (reason === PULL_ERROR && earlierPullErrors.has(key));
        if (!stuck) {
          return [];
        }
        const pulled = reason === 'ImagePullBackOff' ? earlierPullErrors.get(key) : undefined;
        const terminated = container.lastState?.terminated;
        const exit = terminated
          ? ` (last exit code ${terminated.exitCode}${terminated.reason ? `, ${terminated.reason}` : ''})`
          : '';
        const message = `${waiting?.message ?? ''}${pulled ? `: ${pulled}` : ''}${exit}`.trim();
        return [{ name, container: container.name, reason, message }];
      });
    });
}

/** The containers of `pods` that are failing to pull (by `pod/container`), each with the kubelet's last pull error
 * (from an ErrImagePull, kept over a back-off, which does not repeat it), merged into what `earlier` polls saw. */
export function pullErrors(
  pods: readonly V1Pod[],
  earlier: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const seen = new Map(earlier);
  for (const pod of pods) {
    for (const container of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = container.state?.waiting;
      const key = `${pod.metadata?.name ?? ''}/${container.name}`;
      if (waiting?.reason === PULL_ERROR) {
        seen.set(key, waiting.message ?? '');
      } else if (waiting?.reason === 'ImagePullBackOff' && !seen.has(key)) {
        seen.set(key, '');
      }
    }
  }
  return seen;
}

/** The rollout with the failing pods folded in: failed, with the first pod's reason, unless it is complete. */
export function withFailingPods(rollout: Rollout, pods: readonly FailingPod[]): Rollout {
  if (rollout.state === 'complete' || pods.length === 0) {
    return rollout.state === 'failed' ? { ...rollout, pods: [] } : rollout;
  }
  const reported = pods.slice(0, MAX_REPORTED_PODS);
  return {
    ...rollout,
    state: 'failed',
    reason: rollout.reason ?? reported[0]?.reason ?? 'PodsCannotStart',
    message: rollout.state === 'failed' ? rollout.message : `${rollout.message}; ${pods.length} pods cannot start`,
    pods: reported,
  };
}

/** What a user should do about a failing pod, from its reason and the kubelet's message. */
export function podFix(pod: FailingPod, image: string, namespace: string): string {
  const said = pod.message;
  if (pod.reason === 'ImagePullBackOff' || pod.reason === PULL_ERROR) {
    if (/not found|manifest unknown|does not exist/i.test(said)) {
      return `image ${image} not found: check the tag and the repository name`;
    }
    if (/unauthorized|denied|authentication required|forbidden|40[13]/i.test(said)) {
      return `pull access denied for ${image}: check the repository name and the nodes' registry credentials (imagePullSecrets, or the node role's ECR permissions)`;
    }
    return (
      `cannot pull ${image}: check that the tag exists and the repository name is right, and that the nodes may ` +
      'pull from the registry (imagePullSecrets, or the node role for ECR)'
    );
  }
  if (pod.reason === 'InvalidImageName') {
    return `${image} is not a valid image reference`;
  }
  if (pod.reason === 'ErrImageNeverPull') {
    return `${image} is not on the node and the pod may not pull it (imagePullPolicy: Never)`;
  }
  if (pod.reason === 'CrashLoopBackOff') {
    return `the container keeps exiting: read its logs with "kubectl logs -n ${namespace} ${pod.name} -c ${pod.container} --previous"`;
  }
  if (pod.reason === 'CreateContainerConfigError') {
    return 'the container refers to something missing (a ConfigMap, a Secret or one of their keys)';
  }
  if (pod.reason === 'Unschedulable') {
    return 'no node can run the pod: lower replicas, or add capacity to the cluster';
  }
  return 'the container runtime could not start the container: see the message';
}
