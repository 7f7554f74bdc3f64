// Reading a Deployment's rollout from the cluster: once (action get) or until it ends (wait), with the failing pods
// of the current revision named. Polls are bounded: at most about one request per second on average, backing off,
// each inside the deadline.
import { CONTAINER_NAME, POLL_BACKOFF_FACTOR, POLL_FIRST_INTERVAL_MS, POLL_MAX_INTERVAL_MS } from '../constants.js';
import { KubernetesApiError, RolloutFailedError, RolloutTimeoutError } from '../errors.js';
import { listPods, listReplicaSets, readDeployment, type V1Deployment, type V1Pod } from '../kube/client.js';
import { explainRejection } from '../kube/explain.js';
import { elapsedMs, send, type Grant, type Purpose, type Session, type Settled } from '../kube/session.js';
import type { Action } from '../lambda/event.js';
import { log } from '../lambda/log.js';
import { sleep } from '../retry.js';
import {
  currentReplicaSet,
  currentReplicaSetName,
  deploymentRollout,
  failingPods,
  podFix,
  pullErrors,
  withFailingPods,
  type Rollout,
} from './rollout.js';

/** The Deployment an action is about. */
export interface Target {
  readonly action: Action;
  readonly namespace: string;
  readonly name: string;
}

/** A poll starts only with at least this much time left, so that running out of time is a RolloutTimeoutError and
 * not a request cut short. */
const MIN_POLL_BUDGET_MS = 1000;

/** GETs the Deployment; undefined when it does not exist (404). Throws for any other failure. */
export async function fetchDeployment(
  session: Session,
  target: Target,
  grant: Grant,
): Promise<V1Deployment | undefined> {
  const purpose: Purpose = { ...target, verb: 'get', resource: 'deployments', grant };
  const settled = await send(session, purpose, (call) => readDeployment(call, target));
  if (settled.kind === 'ok') {
    return settled.body;
  }
  if (settled.httpStatus === 404 && !/^namespaces "/.test(settled.status.message ?? '')) {
    return undefined;
  }
  throw explainRejection(settled, purpose, session);
}

/** The rollout of `deployment`, with the failing pods of its current revision when it is not complete. Pods are
 * listed only then (one request). `earlierPullErrors` are the pull errors seen at earlier polls. */
export async function observeRollout(
  session: Session,
  target: Target,
  deployment: V1Deployment,
  earlierPullErrors: ReadonlyMap<string, string> = new Map(),
): Promise<{ rollout: Rollout; pullErrors: ReadonlyMap<string, string> }> {
  const rollout = deploymentRollout(deployment);
  const generation = deployment.metadata?.generation ?? 0;
  if (rollout.state === 'complete' || generation > (deployment.status?.observedGeneration ?? 0)) {
    return { rollout, pullErrors: earlierPullErrors };
  }
  const pods = await currentRevisionPods(session, target, deployment);
  if (pods === undefined) {
    return { rollout, pullErrors: earlierPullErrors };
  }
  return {
    rollout: withFailingPods(rollout, failingPods(pods.items, pods.replicaSet, earlierPullErrors)),
    pullErrors: pullErrors(pods.items, earlierPullErrors),
  };
}

/** Polls the Deployment until its rollout is complete (returns it), failed (throws RolloutFailedError) or the time
 * runs out (throws RolloutTimeoutError). Neither error undoes what the action did. */
export async function waitForRollout(session: Session, target: Target): Promise<Rollout> {
  const started = Date.now();
  const requestsBefore = session.requests;
  let interval = POLL_FIRST_INTERVAL_MS;
  let seen: ReadonlyMap<string, string> = new Map();
  for (;;) {
    const deployment = await fetchDeployment(session, target, 'observe');
    if (deployment === undefined) {
      throw new KubernetesApiError(
        404,
        'NotFound',
        '',
        `deployment ${target.namespace}/${target.name} was deleted while the function waited for its rollout.`,
      );
    }
    const observed = await observeRollout(session, target, deployment, seen);
    const { rollout } = observed;
    seen = observed.pullErrors;
    if (rollout.state === 'complete') {
      return rollout;
    }
    if (rollout.state === 'failed') {
      throw new RolloutFailedError(rollout, rolloutFailure(target, deployment, rollout));
    }
    // At most about one request per second on average, and backing off.
    const next = Math.max(Date.now() + interval, started + (session.requests - requestsBefore) * 1000);
    if (next + MIN_POLL_BUDGET_MS > session.deadline) {
      throw new RolloutTimeoutError(
        `deployment ${target.namespace}/${target.name} did not finish rolling out within the invocation's time ` +
          `(${(elapsedMs(session) / 1000).toFixed(1)} s): ${rollout.message}. The ${target.action} itself is done and ` +
          'stays; invoke with action "get" later to see the rollout, or raise the function\'s Timeout.',
      );
    }
    await sleep(next - Date.now());
    interval = Math.min(POLL_MAX_INTERVAL_MS, interval * POLL_BACKOFF_FACTOR);
  }
}

/** Polls until the Deployment is gone (a foreground deletion ends when its pods and ReplicaSets are); throws
 * RolloutTimeoutError when the time runs out first. */
export async function waitForDeletion(session: Session, target: Target): Promise<void> {
  let interval = POLL_FIRST_INTERVAL_MS;
  for (;;) {
    const deployment = await fetchDeployment(session, target, 'delete');
    if (deployment === undefined) {
      return;
    }
    const next = Date.now() + interval;
    if (next + MIN_POLL_BUDGET_MS > session.deadline) {
      throw new RolloutTimeoutError(
        `deployment ${target.namespace}/${target.name} is still being deleted after ` +
          `${(elapsedMs(session) / 1000).toFixed(1)} s (${deployment.status?.replicas ?? 0} pods left); the deletion ` +
          'goes on without the function. Invoke with action "get" later to see whether it is gone, or raise the ' +
          "function's Timeout.",
      );
    }
    await sleep(interval);
    interval = Math.min(POLL_MAX_INTERVAL_MS, interval * POLL_BACKOFF_FACTOR);
  }
}

/** The image of the Deployment's container (ours is "nginx"; a foreign Deployment's first). */
export function deploymentImage(deployment: V1Deployment): string | undefined {
  const containers = deployment.spec?.template.spec?.containers ?? [];
  return (containers.find((container) => container.name === CONTAINER_NAME) ?? containers[0])?.image;
}

/** The pods of the current revision, or undefined when the role may not list them (logged once per call). */
async function currentRevisionPods(
  session: Session,
  target: Target,
  deployment: V1Deployment,
): Promise<{ items: V1Pod[]; replicaSet: string } | undefined> {
  const labelSelector = Object.entries(deployment.spec?.selector.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  let replicaSet = currentReplicaSetName(deployment);
  if (replicaSet === undefined) {
    const purpose: Purpose = { ...target, verb: 'list', resource: 'replicasets', grant: 'observe' };
    const settled = await send(session, purpose, (call) =>
      listReplicaSets(call, { namespace: target.namespace, labelSelector }),
    );
    if (settled.kind !== 'ok') {
      return diagnosticsUnavailable(settled, purpose, session);
    }
    replicaSet = currentReplicaSet(deployment, settled.body.items);
    if (replicaSet === undefined) {
      return undefined;
    }
  }
  const items = await listPodsOnce(session, target, labelSelector);
  return items === undefined ? undefined : { items, replicaSet };
}

async function listPodsOnce(session: Session, target: Target, labelSelector: string): Promise<V1Pod[] | undefined> {
  const purpose: Purpose = { ...target, verb: 'list', resource: 'pods', grant: 'observe' };
  const settled = await send(session, purpose, (call) =>
    listPods(call, { namespace: target.namespace, labelSelector }),
  );
  if (settled.kind !== 'ok') {
    return diagnosticsUnavailable(settled, purpose, session);
  }
  return settled.body.items;
}

/** A 403 on a list means the observe grant lacks it: wait on the Deployment alone, and say so. Anything else is an
 * error. */
function diagnosticsUnavailable(
  settled: Extract<Settled<unknown>, { kind: 'rejected' }>,
  purpose: Purpose,
  session: Session,
): undefined {
  if (settled.httpStatus !== 403) {
    throw explainRejection(settled, purpose, session);
  }
  log('warn', 'pod diagnostics unavailable', {
    reason: `the function may not list ${purpose.resource} in namespace "${purpose.namespace}" (grant "observe")`,
    namespace: purpose.namespace,
    name: purpose.name,
  });
  return undefined;
}

/** The RolloutFailedError message: which pods, why, what to fix. */
function rolloutFailure(target: Target, deployment: V1Deployment, rollout: Rollout): string {
  const image = deploymentImage(deployment) ?? 'the image';
  const pods = rollout.pods ?? [];
  const first = pods[0];
  const about = `deployment ${target.namespace}/${target.name} rollout failed: ${rollout.message}`;
  if (first === undefined) {
    return (
      `${about}. Inspect it with "kubectl describe deployment -n ${target.namespace} ${target.name}"; the ` +
      `${target.action} itself is done and stays.`
    );
  }
  const where = first.container ? `pod ${first.name} container ${first.container}` : `pod ${first.name}`;
  const more = pods.length > 1 ? ` (and ${pods.length - 1} more pods)` : '';
  return (
    `${about}. ${where}: ${first.reason}${first.message ? ` (${first.message})` : ''}${more}: ` +
    `${podFix(first, image, target.namespace)}. The ${target.action} itself is done and stays.`
  );
}
