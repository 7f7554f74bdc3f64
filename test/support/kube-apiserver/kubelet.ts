// The scheduler and the kubelets. A pod's status is a function of the time since it was bound and of how its
// images behave; the kubelet writes it at every change. Words as the kubelet and kube-scheduler report them:
// pkg/kubelet/images/image_manager.go (ErrImagePull, `Back-off pulling image %q`, InvalidImageName),
// pkg/kubelet/kuberuntime/kuberuntime_manager.go (CrashLoopBackOff `back-off %s restarting failed container=%s
// pod=%s`), pkg/kubelet/status/generate.go (ContainersNotReady `containers with unready status: [%s]`),
// pkg/util/parsers with distribution/reference (the reference errors).
import { createHash } from 'node:crypto';
import type { ControllerContext, PodRuntime } from './cluster.js';
import { unschedulableMessage, type ImageBehaviour } from './cluster-options.js';
import { arrayAt, jsonEqual, objectAt, stringAt, type Json, type JsonObject } from './json.js';
import type { Manager } from './managed-fields.js';
import { uidOf } from './objects.js';
import { isBeingDeleted, timestamp, updateAs, type StoredObject } from './store.js';

const KUBELET: Manager = { manager: 'kubelet', operation: 'Update', apiVersion: 'v1', subresource: 'status' };
const SCHEDULER: Manager = { manager: 'kube-scheduler', operation: 'Update', apiVersion: 'v1', subresource: 'status' };
const MAX_BACKOFF_MS = 300_000;

export function schedulePod(ctx: ControllerContext, namespace: string, name: string): void {
  const pod = ctx.store.get('pods', namespace, name);
  if (pod === undefined || isBeingDeleted(pod) || stringAt(pod, 'spec', 'nodeName') !== undefined) return;
  const behaviours = containerImages(pod).map((image) => ctx.settings.images[image] ?? {});
  const unschedulable = ctx.settings.unschedulable ?? behaviours.find((b) => b.unschedulable)?.unschedulable;
  if (unschedulable !== undefined) {
    const message = unschedulable === true ? unschedulableMessage(ctx.settings.nodes.length) : unschedulable;
    updateAs(
      ctx,
      'pods',
      pod,
      (draft) => {
        draft['status'] = {
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              lastProbeTime: null,
              lastTransitionTime: timestamp(ctx.now()),
              reason: 'Unschedulable',
              message,
            },
          ],
          qosClass: stringAt(pod, 'status', 'qosClass') ?? 'BestEffort',
        };
      },
      SCHEDULER,
    );
    return;
  }
  const { node, hostIP, ip } = ctx.nextNode();
  // The binding subresource sets spec.nodeName without a managedFields entry.
  const bound = ctx.store.put('pods', { ...pod, spec: { ...(objectAt(pod, 'spec') ?? {}), nodeName: node } });
  ctx.pods.set(uidOf(bound), { boundAt: ctx.now(), node, ip, hostIP });
  ctx.schedule(`kubelet/${uidOf(bound)}`, 0, () => kubeletSync(ctx, namespace, name));
}

function containerImages(pod: JsonObject): string[] {
  return arrayAt(pod, 'spec', 'containers').map((container) => stringAt(container, 'image') ?? '');
}

export function kubeletSync(ctx: ControllerContext, namespace: string, name: string): void {
  const pod = ctx.store.get('pods', namespace, name);
  if (pod === undefined) return;
  const runtime = ctx.pods.get(uidOf(pod));
  if (runtime === undefined) return;
  const uid = uidOf(pod);
  if (isBeingDeleted(pod)) {
    runtime.stoppingAt ??= ctx.now();
    const goneAt = runtime.stoppingAt + ctx.settings.terminationMs;
    if (ctx.now() >= goneAt) {
      ctx.store.remove('pods', namespace, name);
      ctx.pods.delete(uid);
    } else {
      ctx.schedule(`kubelet/${uid}`, goneAt - ctx.now(), () => kubeletSync(ctx, namespace, name));
    }
    return;
  }
  const { status, nextChangeAt } = podStatusAt(ctx, pod, runtime, ctx.now());
  if (!jsonEqual(pod['status'], status)) updateAs(ctx, 'pods', pod, (draft) => (draft['status'] = status), KUBELET);
  if (nextChangeAt !== undefined) {
    ctx.schedule(`kubelet/${uid}`, nextChangeAt - ctx.now(), () => kubeletSync(ctx, namespace, name));
  }
}

interface ContainerView {
  readonly status: JsonObject;
  readonly ready: boolean;
  /** When `ready` last changed (epoch ms). */
  readonly readySince: number;
  readonly hasStarted: boolean;
  readonly nextChangeAt: number | undefined;
}

function podStatusAt(
  ctx: ControllerContext,
  pod: StoredObject,
  runtime: PodRuntime,
  now: number,
): { status: JsonObject; nextChangeAt: number | undefined } {
  const containers = arrayAt(pod, 'spec', 'containers');
  const podName = `${stringAt(pod, 'metadata', 'name') ?? ''}_${stringAt(pod, 'metadata', 'namespace') ?? ''}(${uidOf(pod)})`;
  const delays = containers.map((container) => readyDelay(ctx, behaviourOf(ctx, container)));
  const sandboxAt = runtime.boundAt + Math.floor(Math.min(...delays, ctx.settings.podReadyDelayMs) / 2);
  const views = containers.map((container) => containerAt(ctx, container, runtime, podName, now));
  const sandboxReady = now >= sandboxAt;
  const unready = views.flatMap((view, index) => (view.ready ? [] : [stringAt(containers[index], 'name') ?? '']));
  const readySince = Math.max(runtime.boundAt, ...views.map((view) => view.readySince));
  const allReady = unready.length === 0;
  const readiness = (type: string): JsonObject => ({
    type,
    status: allReady ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: timestamp(readySince),
    ...(allReady
      ? {}
      : { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` }),
  });
  const status: JsonObject = {
    phase: views.some((view) => view.hasStarted) ? 'Running' : 'Pending',
    conditions: [
      {
        type: 'PodReadyToStartContainers',
        status: sandboxReady ? 'True' : 'False',
        lastProbeTime: null,
        lastTransitionTime: timestamp(sandboxReady ? sandboxAt : runtime.boundAt),
      },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp(runtime.boundAt) },
      readiness('Ready'),
      readiness('ContainersReady'),
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp(runtime.boundAt) },
    ],
    hostIP: runtime.hostIP,
    hostIPs: [{ ip: runtime.hostIP }],
  };
  if (sandboxReady) {
    status['podIP'] = runtime.ip;
    status['podIPs'] = [{ ip: runtime.ip }];
  }
  status['startTime'] = timestamp(runtime.boundAt);
  status['containerStatuses'] = views.map((view) => view.status);
  status['qosClass'] = stringAt(pod, 'status', 'qosClass') ?? 'BestEffort';
  const changes = [...views.map((view) => view.nextChangeAt), sandboxReady ? undefined : sandboxAt].filter(
    (at): at is number => at !== undefined && at > now,
  );
  return { status, nextChangeAt: changes.length > 0 ? Math.min(...changes) : undefined };
}

function behaviourOf(ctx: ControllerContext, container: Json): ImageBehaviour {
  return ctx.settings.images[stringAt(container, 'image') ?? ''] ?? {};
}

function readyDelay(ctx: ControllerContext, behaviour: ImageBehaviour): number {
  return behaviour.readyAfterMs ?? ctx.settings.podReadyDelayMs;
}

const backOff = (ctx: ControllerContext, attempt: number): number =>
  Math.min(ctx.settings.backOffMs * 2 ** Math.max(0, attempt - 1), MAX_BACKOFF_MS);

/** One container's status at `now`, and when it next changes. */
function containerAt(
  ctx: ControllerContext,
  container: Json,
  runtime: PodRuntime,
  podName: string,
  now: number,
): ContainerView {
  const name = stringAt(container, 'name') ?? '';
  const image = stringAt(container, 'image') ?? '';
  const behaviour = behaviourOf(ctx, container);
  const startAt = runtime.boundAt + readyDelay(ctx, behaviour);
  const waitingView = (state: JsonObject, nextChangeAt: number | undefined, extra: JsonObject = {}): ContainerView => ({
    status: {
      name,
      state: { waiting: state },
      lastState: {},
      ready: false,
      restartCount: 0,
      image,
      imageID: '',
      started: false,
      ...extra,
    },
    ready: false,
    readySince: runtime.boundAt,
    hasStarted: false,
    nextChangeAt,
  });
  if (now < startAt) return waitingView({ reason: 'ContainerCreating' }, startAt);

  const invalid = referenceError(image);
  if (invalid !== undefined) {
    return waitingView(
      {
        reason: 'InvalidImageName',
        message: `Failed to apply default image tag ${JSON.stringify(image)}: couldn't parse image name ${JSON.stringify(image)}: ${invalid}`,
      },
      undefined,
    );
  }

  if (behaviour.pull === 'not-found') {
    let failedAt = startAt;
    for (let attempt = 1; ; attempt += 1) {
      const retryAt = failedAt + backOff(ctx, attempt);
      if (now < retryAt) {
        const reportedAt = failedAt + ctx.settings.kubeletSyncMs;
        const reference = normalizedReference(image);
        if (now < reportedAt && reportedAt < retryAt) {
          return waitingView(
            {
              reason: 'ErrImagePull',
              message:
                `rpc error: code = NotFound desc = failed to pull and unpack image ${JSON.stringify(reference)}: ` +
                `failed to resolve reference ${JSON.stringify(reference)}: ${reference}: not found`,
            },
            reportedAt,
          );
        }
        return waitingView(
          { reason: 'ImagePullBackOff', message: `Back-off pulling image ${JSON.stringify(image)}` },
          retryAt,
        );
      }
      failedAt = retryAt;
    }
  }

  const reference = normalizedReference(image);
  const imageID = `${reference.replace(/:[^:/@]+$/, '')}@sha256:${sha256(reference)}`;
  const containerID = (restart: number): string => `containerd://${sha256(`${runtime.ip}/${name}/${restart}`)}`;
  const running = (
    restart: number,
    since: number,
    lastState: JsonObject,
    nextChangeAt: number | undefined,
  ): ContainerView => ({
    status: {
      name,
      state: { running: { startedAt: timestamp(since) } },
      lastState,
      ready: true,
      restartCount: restart,
      image: reference,
      imageID,
      containerID: containerID(restart),
      started: true,
    },
    ready: true,
    readySince: since,
    hasStarted: true,
    nextChangeAt,
  });
  if (behaviour.crash === undefined) return running(0, startAt, {}, undefined);

  const runMs = behaviour.crash.afterMs ?? 100;
  const exitCode = behaviour.crash.exitCode ?? 1;
  const terminated = (restart: number, started: number, finished: number): JsonObject => ({
    terminated: {
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt: timestamp(started),
      finishedAt: timestamp(finished),
      containerID: containerID(restart),
    },
  });
  // Start k runs from starts[k] to starts[k] + runMs; the first restart is immediate, later ones wait a back-off.
  let start = startAt;
  let last: JsonObject = {};
  for (let restart = 0; ; restart += 1) {
    const exit = start + runMs;
    if (now < exit) return running(restart, start, last, exit);
    const wait = restart === 0 ? 0 : backOff(ctx, restart);
    const nextStart = Math.max(exit, start + wait);
    last = terminated(restart, start, exit);
    if (now < nextStart) {
      return {
        status: {
          name,
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off ${goDuration(wait)} restarting failed container=${name} pod=${podName}`,
            },
          },
          lastState: last,
          ready: false,
          restartCount: restart,
          image: reference,
          imageID,
          containerID: containerID(restart),
          started: false,
        },
        ready: false,
        readySince: exit,
        hasStarted: true,
        nextChangeAt: nextStart,
      };
    }
    start = nextStart;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Go's time.Duration.String for whole milliseconds: `500ms`, `10s`, `1m20s`, `5m0s`. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const secondsText = `${Number.isInteger(seconds) ? seconds : String(seconds)}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const REFERENCE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?/)?${COMPONENT}(?:/${COMPONENT})*` +
    `(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

/** ParseNormalizedNamed's error for an image reference, if it is not one. */
export function referenceError(image: string): string | undefined {
  const { remainder } = splitDomain(image);
  const remoteName = remainder.split(/[:@]/)[0] ?? '';
  if (remoteName.toLowerCase() !== remoteName) {
    return `invalid reference format: repository name (${normalizedName(image)}) must be lowercase`;
  }
  return REFERENCE.test(image) ? undefined : 'invalid reference format';
}

function splitDomain(image: string): { domain: string; remainder: string } {
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  if (
    slash < 0 ||
    (!first.includes('.') && !first.includes(':') && first !== 'localhost' && first.toLowerCase() === first)
  ) {
    const remainder = image;
    return { domain: 'docker.io', remainder: remainder.includes('/') ? remainder : `library/${remainder}` };
  }
  return { domain: first, remainder: image.slice(slash + 1) };
}

function normalizedName(image: string): string {
  const { domain, remainder } = splitDomain(image);
  const name = remainder.split(/[:@]/)[0] ?? remainder;
  return domain === 'docker.io' ? name : `${domain}/${name}`;
}

/** The reference as containerd names it: `docker.io/library/nginx:1.27.0` for `nginx:1.27.0`. */
export function normalizedReference(image: string): string {
  const { domain, remainder } = splitDomain(image);
  const hasTag = /:[^/]+$/.test(remainder.split('@')[0] ?? '');
  return `${domain}/${remainder}${hasTag || remainder.includes('@') ? '' : ':latest'}`;
}
