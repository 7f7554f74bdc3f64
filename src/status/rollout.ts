// Whether a Deployment's rollout is complete, still progressing, or failed: the predicate of `kubectl rollout status`
// (kubernetes/kubectl pkg/polymorphichelpers/rollout_status.go, DeploymentStatusViewer), plus the failures of pods of
// the current revision that make waiting for the progress deadline pointless. Pure: values in, values out.
import { MAX_REPORTED_PODS } from '../constants.js';
import type { V1Deployment, V1Pod, V1ReplicaSet } from '../kube/models.js';

export type RolloutState = 'complete' | 'progressing' | 'failed';

/** A pod of the current revision that is not ready, and why, in the kubelet's or scheduler's words. */
export interface PodReport {
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
  /** At most MAX_REPORTED_PODS pods of the current revision: when failed, those that cannot start (or, at the
   * progress deadline, those still waiting); when progressing, those waiting for something that may yet come (a node,
   * a registry that answers again). */
  readonly pods?: readonly PodReport[];
}

/** Waiting reasons that will not resolve by waiting (the kubelet's container states): fail at once. */
const FINAL_REASONS: ReadonlySet<string> = new Set([
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'InvalidImageName',
  'ErrImageNeverPull',
]);
/** A failed pull: final only when the kubelet's message says the image does not exist or may not be pulled. The
 * kubelet backs off after any failed pull, a registry timeout, a 5xx or a rate limit included, and retries. */
const PULL_REASONS: ReadonlySet<string> = new Set(['ErrImagePull', 'ImagePullBackOff']);
const PULL_ERROR = 'ErrImagePull';
/** What registries and containerd say of an image that does not exist or may not be pulled: containerd's "<ref>: not
 * found" and "failed to resolve reference", the distribution spec's MANIFEST_UNKNOWN, NAME_UNKNOWN, UNAUTHORIZED and
 * DENIED errors, docker's "repository does not exist", and an invalid reference. */
const PERMANENT_PULL_ERROR =
  /\bnot found\b|manifest unknown|name unknown|repository does not exist|\bunauthorized\b|\bdenied\b|authentication required|invalid reference|failed to parse reference/i;
/** Often transient (a container name still reserved, a runtime hiccup): final only once it has lasted this long. */
const PERSISTENT_REASONS: ReadonlySet<string> = new Set(['CreateContainerError', 'RunContainerError']);
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
export function currentReplicaSet(
  deployment: V1Deployment,
  replicaSets: readonly V1ReplicaSet[],
): V1ReplicaSet | undefined {
  const revision = deployment.metadata?.annotations?.[REVISION_ANNOTATION];
  const uid = deployment.metadata?.uid;
  return replicaSets.find(
    (replicaSet) =>
      revision !== undefined &&
      replicaSet.metadata?.annotations?.[REVISION_ANNOTATION] === revision &&
      (replicaSet.metadata.ownerReferences ?? []).some((owner) => owner.uid === uid),
  );
}

/** What a wait remembers about pods from one poll to the next. */
export interface PodMemory {
  /** The kubelet's last pull error of each container (`pod/container`), from an ErrImagePull: a kubelet before 1.32
   * says why only there, not in the back-off that follows. */
  readonly pullErrors: ReadonlyMap<string, string>;
  /** When each container (`pod/container/reason`) was first seen in a reason that is final only once it lasts. */
  readonly firstSeen: ReadonlyMap<string, number>;
}

export const NO_MEMORY: PodMemory = { pullErrors: new Map(), firstSeen: new Map() };

/** The pods of one poll, judged: those that cannot start (final), those waiting for something that may come. */
export interface PodVerdicts {
  readonly failing: readonly PodReport[];
  readonly waiting: readonly PodReport[];
  readonly memory: PodMemory;
}

/** Judges the pods owned by `replicaSetName` (the current revision) by the kubelet's and scheduler's own reasons, at
 * `now` (epoch ms), with what earlier polls saw. Unschedulable pods wait (an autoscaler may add a node); a failed
 * pull is final only when it says the image does not exist or may not be pulled; CreateContainerError and
 * RunContainerError once they have lasted `persistMs`; a crash loop, a missing ConfigMap or Secret, an invalid or
 * never-pulled image at once. Pure. */
export function judgePods(
  pods: readonly V1Pod[],
  replicaSetName: string,
  memory: PodMemory,
  now: number,
  persistMs: number,
): PodVerdicts {
  const failing: PodReport[] = [];
  const waiting: PodReport[] = [];
  const pullErrors = new Map(memory.pullErrors);
  const firstSeen = new Map<string, number>();
  for (const pod of pods) {
    if (!(pod.metadata?.ownerReferences ?? []).some((owner) => owner.name === replicaSetName)) {
      continue;
    }
    const name = pod.metadata?.name ?? '';
    const unschedulable = pod.status?.conditions?.find(
      (condition) =>
        condition.type === 'PodScheduled' && condition.status === 'False' && condition.reason === 'Unschedulable',
    );
    if (unschedulable) {
      waiting.push({ name, container: '', reason: 'Unschedulable', message: unschedulable.message ?? '' });
      continue;
    }
    for (const container of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const reason = container.state?.waiting?.reason ?? '';
      const said = container.state?.waiting?.message ?? '';
      const key = `${name}/${container.name}`;
      if (reason === PULL_ERROR) {
        pullErrors.set(key, said);
      }
      const terminated = container.lastState?.terminated;
      const exit = terminated
        ? ` (last exit code ${terminated.exitCode}${terminated.reason ? `, ${terminated.reason}` : ''})`
        : '';
      const remembered = pullErrors.get(key);
      // A back-off of a kubelet before 1.32 omits the pull error: add the one seen before it.
      const cause = remembered && !said.includes(remembered) ? `${said}: ${remembered}` : said;
      const report = { name, container: container.name, reason, message: `${cause}${exit}`.trim() };
      if (FINAL_REASONS.has(reason)) {
        failing.push(report);
      } else if (PULL_REASONS.has(reason)) {
        (PERMANENT_PULL_ERROR.test(cause) ? failing : waiting).push(report);
      } else if (PERSISTENT_REASONS.has(reason)) {
        const since = memory.firstSeen.get(`${key}/${reason}`) ?? now;
        firstSeen.set(`${key}/${reason}`, since);
        (now - since >= persistMs ? failing : waiting).push(report);
      }
    }
  }
  return { failing, waiting, memory: { pullErrors, firstSeen } };
}

/** The rollout with the judged pods folded in: failed, with the first failing pod's reason, when any pod cannot
 * start; otherwise as it is, with the waiting pods named. A complete rollout names no pods. */
export function withPods(rollout: Rollout, verdicts: Pick<PodVerdicts, 'failing' | 'waiting'>): Rollout {
  const { failing, waiting } = verdicts;
  if (rollout.state === 'complete') {
    return rollout;
  }
  if (failing.length > 0) {
    return {
      ...rollout,
      state: 'failed',
      reason: rollout.reason ?? failing[0]?.reason ?? 'PodsCannotStart',
      message: rollout.state === 'failed' ? rollout.message : `${rollout.message}; ${failing.length} pods cannot start`,
      pods: failing.slice(0, MAX_REPORTED_PODS),
    };
  }
  if (waiting.length === 0) {
    return rollout;
  }
  const reasons = [...new Set(waiting.map((pod) => pod.reason))].join(', ');
  return {
    ...rollout,
    message: `${rollout.message}; ${waiting.length} pods waiting (${reasons})`,
    pods: waiting.slice(0, MAX_REPORTED_PODS),
  };
}

/** What a user should do about a failing pod, from its reason and the kubelet's message. */
export function podFix(pod: PodReport, image: string, namespace: string): string {
  const said = pod.message;
  if (PULL_REASONS.has(pod.reason)) {
    if (/not found|manifest unknown|name unknown|does not exist/i.test(said)) {
      return `image ${image} not found: check the tag and the repository name`;
    }
    if (/unauthorized|denied|authentication required|forbidden/i.test(said)) {
      return `pull access denied for ${image}: check the repository name and the nodes' registry credentials (imagePullSecrets, or the node role's ECR permissions)`;
    }
    if (/invalid reference|failed to parse reference/i.test(said)) {
      return `${image} is not a valid image reference`;
    }
    return (
      `the nodes cannot pull ${image} yet (the kubelet retries: a registry timeout, an error or a rate limit passes); ` +
      'check that the registry is reachable from the nodes (a NAT gateway or VPC endpoints for ECR) if it lasts'
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
    return (
      'no node can run the pod yet: a cluster that scales (Karpenter, EKS Auto Mode, Cluster Autoscaler) adds one; ' +
      "otherwise add capacity, or lower the pods' resource requests or replicas"
    );
  }
  return 'the container runtime cannot create or start the container: see the message (the kubelet retries)';
}
