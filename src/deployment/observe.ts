// Reading a Deployment's rollout from the cluster: once (action get) or until it ends (wait), with the failing pods
// of the current revision named. Polls are bounded: at most about one request per second on average, backing off,
// each inside the deadline.
import {
  CONTAINER_ERROR_PERSIST_MS,
  CONTAINER_NAME,
  MAX_REPORTED_PODS,
  POLL_BACKOFF_FACTOR,
  POLL_FIRST_INTERVAL_MS,
  POLL_MAX_INTERVAL_MS,
} from '../constants.js';
import { KubernetesApiError, RolloutFailedError, RolloutTimeoutError } from '../errors.js';
import {
  listPods,
  listReplicaSets,
  readDeployment,
  type V1Deployment,
  type V1PodList,
  type V1ReplicaSet,
} from '../kube/client.js';
import { explainRejection } from '../kube/explain.js';
import { elapsedMs, send, type Grant, type Purpose, type Session, type Settled } from '../kube/session.js';
import type { SetGrants } from '../kube/types.js';
import type { Action } from './request.js';
import { log } from '../log.js';
import { sleep } from '../retry.js';
import {
  currentReplicaSet,
  currentReplicaSetName,
  deploymentRollout,
  judgePods,
  NO_MEMORY,
  podFix,
  withPods,
  type PodMemory,
  type PodReport,
  type Rollout,
} from '../status/rollout.js';

/** The Deployment an action is about. */
export interface Target {
  /** The action, as messages name it: a Deployment action, or a set's. */
  readonly action: Action | string;
  readonly namespace: string;
  readonly name: string;
  /** The grant whose lists the pod diagnostics use: "observe" for the Deployment actions, a set's own grants. */
  readonly listGrant?: Grant | SetGrants;
}

/** A poll starts only with at least this much time left, so that running out of time is a RolloutTimeoutError and
 * not a request cut short. */
const MIN_POLL_BUDGET_MS = 1000;

const POD_TEMPLATE_HASH = 'pod-template-hash';

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

/** The rollout of `deployment`, with the pods of its current revision judged when it is not complete: those that
 * cannot start, and those waiting. Pods are listed only then, page by page, and no further once enough cannot start.
 * `memory` is what earlier polls of the same wait saw. */
export async function observeRollout(
  session: Session,
  target: Target,
  deployment: V1Deployment,
  memory: PodMemory = NO_MEMORY,
): Promise<{ rollout: Rollout; memory: PodMemory }> {
  const rollout = deploymentRollout(deployment);
  const generation = deployment.metadata?.generation ?? 0;
  if (rollout.state === 'complete' || generation > (deployment.status?.observedGeneration ?? 0)) {
    return { rollout, memory };
  }
  const revision = await currentRevision(session, target, deployment);
  if (revision === undefined) {
    return { rollout, memory };
  }
  const now = Date.now();
  const failing: PodReport[] = [];
  const waiting: PodReport[] = [];
  let remembered = memory;
  let continueToken: string | undefined;
  do {
    const page = await listPodPage(session, target, revision.selector, continueToken);
    if (page === undefined) {
      return { rollout, memory };
    }
    const verdicts = judgePods(page.items, revision.replicaSet, remembered, now, CONTAINER_ERROR_PERSIST_MS);
    failing.push(...verdicts.failing);
    waiting.push(...verdicts.waiting);
    remembered = verdicts.memory;
    continueToken = page.metadata?._continue || undefined;
  } while (continueToken !== undefined && failing.length < MAX_REPORTED_PODS);
  return { rollout: withPods(rollout, { failing, waiting }), memory: remembered };
}

/** Polls the Deployment until its rollout is complete (returns it), failed (throws RolloutFailedError) or the time
 * runs out (throws RolloutTimeoutError). `aftermath` ends both errors' messages: what becomes of what the action did
 * (by default it is done and stays; a custom resource may say otherwise). */
export async function waitForRollout(
  session: Session,
  target: Target,
  aftermath = `The ${target.action} itself is done and stays.`,
): Promise<Rollout> {
  const started = Date.now();
  const requestsBefore = session.requests;
  let interval = POLL_FIRST_INTERVAL_MS;
  let memory = NO_MEMORY;
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
    const observed = await observeRollout(session, target, deployment, memory);
    const { rollout } = observed;
    memory = observed.memory;
    if (rollout.state === 'complete') {
      return rollout;
    }
    if (rollout.state === 'failed') {
      throw new RolloutFailedError(rollout, rolloutFailure(target, deployment, rollout, aftermath));
    }
    // At most about one request per second on average, and backing off.
    const next = Math.max(Date.now() + interval, started + (session.requests - requestsBefore) * 1000);
    if (next + MIN_POLL_BUDGET_MS > session.deadline) {
      throw new RolloutTimeoutError(
        `deployment ${target.namespace}/${target.name} did not finish rolling out within the invocation's time ` +
          `(${(elapsedMs(session) / 1000).toFixed(1)} s): ${sentence(rollout.message)}${podsSaying(target, deployment, rollout)} ` +
          `${aftermath} Invoke with action "get" later to see the rollout, or raise the function's Timeout.`,
      );
    }
    await sleep(next - Date.now());
    interval = Math.min(POLL_MAX_INTERVAL_MS, interval * POLL_BACKOFF_FACTOR);
  }
}

/** Polls until the Deployment with `uid` is gone (a foreground deletion ends when its pods and ReplicaSets are):
 * another Deployment of the same name, made since, does not keep it waiting. Throws RolloutTimeoutError when the
 * time runs out first. */
export async function waitForDeletion(session: Session, target: Target, uid: string): Promise<void> {
  let interval = POLL_FIRST_INTERVAL_MS;
  for (;;) {
    const deployment = await fetchDeployment(session, target, 'delete');
    if (deployment === undefined || deployment.metadata?.uid !== uid) {
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

/** The current revision's ReplicaSet and the label selector of its pods (the Deployment's selector and the
 * ReplicaSet's pod-template-hash); undefined when it is not known yet, or the role may not list ReplicaSets. */
async function currentRevision(
  session: Session,
  target: Target,
  deployment: V1Deployment,
): Promise<{ replicaSet: string; selector: string } | undefined> {
  const matchLabels = Object.entries(deployment.spec?.selector.matchLabels ?? {}).map(
    ([key, value]) => `${key}=${value}`,
  );
  const named = currentReplicaSetName(deployment);
  let replicaSet: V1ReplicaSet | undefined;
  if (named === undefined) {
    const purpose: Purpose = { ...target, verb: 'list', resource: 'replicasets', grant: target.listGrant ?? 'observe' };
    const settled = await send(session, purpose, (call) =>
      listReplicaSets(call, { namespace: target.namespace, labelSelector: matchLabels.join(',') }),
    );
    if (settled.kind !== 'ok') {
      return diagnosticsUnavailable(settled, purpose, session);
    }
    replicaSet = currentReplicaSet(deployment, settled.body.items);
    if (replicaSet === undefined) {
      return undefined;
    }
  }
  const name = named ?? replicaSet?.metadata?.name ?? '';
  // The deployment controller names a ReplicaSet <deployment>-<pod-template-hash> and labels its pods with the hash.
  const hash = replicaSet?.metadata?.labels?.[POD_TEMPLATE_HASH] ?? name.slice(target.name.length + 1);
  return { replicaSet: name, selector: [...matchLabels, `${POD_TEMPLATE_HASH}=${hash}`].join(',') };
}

/** One page of the pods matching `selector`; undefined when the role may not list them (logged). */
async function listPodPage(
  session: Session,
  target: Target,
  selector: string,
  continueToken: string | undefined,
): Promise<V1PodList | undefined> {
  const purpose: Purpose = { ...target, verb: 'list', resource: 'pods', grant: target.listGrant ?? 'observe' };
  const settled = await send(session, purpose, (call) =>
    listPods(call, {
      namespace: target.namespace,
      labelSelector: selector,
      limit: session.listPageSize,
      continueToken,
    }),
  );
  if (settled.kind !== 'ok') {
    return diagnosticsUnavailable(settled, purpose, session);
  }
  return settled.body;
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
  const grant =
    typeof purpose.grant === 'string' ? `grant "${purpose.grant}"` : `the grants of set "${purpose.grant.set}"`;
  log('warn', 'pod diagnostics unavailable', {
    reason: `the function may not list ${purpose.resource} in namespace "${purpose.namespace}" (${grant})`,
    namespace: purpose.namespace,
    name: purpose.name,
  });
  return undefined;
}

/** The rollout in words: its message, and the first pod that keeps it from completing, with what to fix. */
export function describeRollout(target: Target, deployment: V1Deployment, rollout: Rollout): string {
  return `${sentence(rollout.message)}${podsSaying(target, deployment, rollout)}`;
}

/** The RolloutFailedError message: which pods, why, what to fix, and what becomes of what the action did. */
function rolloutFailure(target: Target, deployment: V1Deployment, rollout: Rollout, aftermath: string): string {
  const about = `deployment ${target.namespace}/${target.name} rollout failed: ${sentence(rollout.message)}`;
  const pods = podsSaying(target, deployment, rollout);
  const inspect = pods ? '' : ` Inspect it with "kubectl describe deployment -n ${target.namespace} ${target.name}".`;
  return `${about}${pods}${inspect} ${aftermath}`;
}

/** The text as a sentence: with one full stop at its end (the deployment controller's messages have their own). */
function sentence(text: string): string {
  return text.endsWith('.') ? text : `${text}.`;
}

/** " pod P container C: <reason> (<message>) (and N more pods): <fix>." for the first pod reported, or nothing. */
function podsSaying(target: Target, deployment: V1Deployment, rollout: Rollout): string {
  const pods = rollout.pods ?? [];
  const first = pods[0];
  if (first === undefined) {
    return '';
  }
  const image = deploymentImage(deployment) ?? 'the image';
  const where = first.container ? `pod ${first.name} container ${first.container}` : `pod ${first.name}`;
  const more = pods.length > 1 ? ` (and ${pods.length - 1} more pods)` : '';
  return (
    ` ${where}: ${first.reason}${first.message ? ` (${first.message})` : ''}${more}: ` +
    `${podFix(first, image, target.namespace)}.`
  );
}
