import { describe, expect, it } from '@jest/globals';
import { useCluster } from '../support/cluster.js';
import { at } from '../support/json.js';
import { restPath, type KubeObject } from '../support/kube-admin.js';
import type { Invocation } from '../support/lambda.js';

// "wait": the function returns when the rollout is complete, fails fast with RolloutFailedError when pods of the new
// revision cannot start, and ends with RolloutTimeoutError when the invocation's time runs out first. The real
// deployment and replicaset controllers and scheduler move the rollout along, and kwok reports the pods as a kubelet
// would; images misbehave by the suffix of their tag (test/support/control-plane/stages.ts).
const BAD_TAG = 'nginx:1.30.9-does-not-exist';
/** The same, in the words of a kubelet before 1.32: its back-off message does not repeat the pull error. */
const BAD_TAG_KUBELET_1_31 = 'nginx:1.30.9-does-not-exist-kubelet-1.31';
const CRASHING = 'registry.example.com/team/crasher:1.0-crashloop';
const UNCREATABLE = 'registry.example.com/team/huge-layers:1.0-create-container-error';
/** Longer than any test (and shorter than the default progress deadline, as validation wants): pods of a Deployment
 * with it are ready but not available, so its rollout does not end. */
const NEVER_AVAILABLE = { spec: { minReadySeconds: 300 } };

const scope = useCluster({ namespaces: { 'no-pods': ['create', 'apply'] } });
const deploymentPath = (name: string, namespace = scope.ns('default')) =>
  restPath('apps/v1', 'deployments', namespace, name);
const podsPath = (name: string) =>
  `${restPath('v1', 'pods', scope.ns('default'))}?labelSelector=${encodeURIComponent(`app.kubernetes.io/instance=${name}`)}`;
const items = (list: KubeObject | undefined): unknown[] => {
  const value = at(list, 'items');
  return Array.isArray(value) ? value : [];
};
const waitingReasons = (pod: unknown): unknown[] => {
  const statuses = at(pod, 'status', 'containerStatuses');
  return (Array.isArray(statuses) ? statuses : []).map((status: unknown) => at(status, 'state', 'waiting', 'reason'));
};
const message = (invocation: Invocation): string => (invocation.ok ? '' : invocation.errorMessage);

/** Waits until the pods of Deployment `name` are as `wanted` says; returns them. */
async function podsWhen(name: string, wanted: (pods: unknown[]) => boolean, what: string): Promise<unknown[]> {
  return items(await scope.admin.waitFor(podsPath(name), (list) => wanted(items(list)), what));
}

/** Runs `act` once the pods of `name` are as `wanted` says, and again (at most `attempts` times) until none of them
 * changed while it ran. kwok moves pods on its own clock: only then is it known that the function saw them so. */
async function whilePodsStay<T>(
  name: string,
  wanted: (pods: unknown[]) => boolean,
  what: string,
  act: () => Promise<T>,
  attempts = 5,
): Promise<T> {
  const versions = (pods: unknown[]) => pods.map((pod) => at(pod, 'metadata', 'resourceVersion'));
  for (let attempt = 1; ; attempt += 1) {
    const before = await podsWhen(name, wanted, what);
    const result = await act();
    const after = items(await scope.admin.get(podsPath(name)));
    if (JSON.stringify(versions(after)) === JSON.stringify(versions(before))) return result;
    if (attempt >= attempts) {
      throw new Error(`the pods of ${name} changed during each of ${attempts} attempts: ${what} was never held`);
    }
  }
}

describe('waiting for the rollout', () => {
  it('returns the complete rollout of a create, with the counts kubectl shows', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web', wait: true }, 10_000);

    expect(invocation).toMatchObject({
      ok: true,
      result: {
        status: 'created',
        rollout: {
          state: 'complete',
          desired: 2,
          updated: 2,
          ready: 2,
          available: 2,
          message: 'successfully rolled out',
        },
      },
    });
    expect(lambda.records().find((record) => record['message'] === 'invocation')).toMatchObject({
      outcome: 'created',
      rollout: 'complete',
    });
    const stored = await scope.admin.get(deploymentPath('web'));
    expect(at(stored, 'status', 'availableReplicas')).toBe(2);
  });

  it('fails fast, naming the pod and what to fix, when the image tag does not exist', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ action: 'apply', name: 'web', image: BAD_TAG, wait: true }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    // The kubelet says ErrImagePull and ImagePullBackOff in turn: the function fails at the first back-off it sees,
    // or at a pull error seen twice (retried by the kubelet).
    expect(message(invocation)).toMatch(
      /pod web-[a-z0-9]+-[a-z0-9]{5} container nginx: (ErrImagePull|ImagePullBackOff)/,
    );
    expect(message(invocation)).toContain(`image ${BAD_TAG} not found: check the tag`);
    // Long before the 600 s progress deadline; and the apply stays.
    expect(invocation.durationMs).toBeLessThan(10_000);
    const stored = await scope.admin.get(deploymentPath('web'));
    expect(at(stored, 'spec', 'template', 'spec', 'containers', 0, 'image')).toBe(BAD_TAG);
  });

  it('fails at once on an image pull back-off, naming what to check when the cause was not seen', async () => {
    // A kubelet before 1.32 does not repeat the pull error in its back-off message; the function's first look at the
    // pods is during a back-off, so it never sees the error either.
    const lambda = await scope.environment();
    expect(await lambda.invoke({ name: 'web', image: BAD_TAG_KUBELET_1_31 })).toMatchObject({ ok: true });

    const invocation = await whilePodsStay(
      'web',
      (pods) => pods.some((pod) => waitingReasons(pod).includes('ImagePullBackOff')),
      'a pod of web in ImagePullBackOff',
      () => lambda.invoke({ action: 'apply', name: 'web', image: BAD_TAG_KUBELET_1_31, wait: true }, 20_000),
    );

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    expect(message(invocation)).toContain(`ImagePullBackOff (Back-off pulling image "${BAD_TAG_KUBELET_1_31}")`);
    expect(message(invocation)).toContain(
      `cannot pull ${BAD_TAG_KUBELET_1_31}: check that the tag exists and the repository name is right`,
    );
  }, 60_000);

  it('fails fast on a container that crash-loops, with its exit code and the logs command', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'crash', image: CRASHING, wait: true }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    expect(message(invocation)).toMatch(/CrashLoopBackOff .*last exit code 1/);
    expect(message(invocation)).toMatch(
      new RegExp(`kubectl logs -n ${scope.ns('default')} crash-[a-z0-9]+-[a-z0-9]{5} -c nginx --previous`),
    );
  });

  it('fails fast when the container runtime cannot create the container, quoting it', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'uncreatable', image: UNCREATABLE, wait: true }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    expect(message(invocation)).toMatch(
      /pod uncreatable-[a-z0-9]+-[a-z0-9]{5} container nginx: CreateContainerError \(.*no space left on device\)/,
    );
    expect(message(invocation)).toContain('the container runtime could not start the container');
    expect(invocation.durationMs).toBeLessThan(10_000);
  });

  it('fails fast when no node can run the pods, quoting the scheduler', async () => {
    // A LimitRange gives every container of the namespace a CPU request larger than any node: the real scheduler
    // finds no node for the pods, without touching the node other tests share.
    await scope.admin.create(restPath('v1', 'limitranges', scope.ns('default')), {
      metadata: { name: 'huge-requests' },
      spec: { limits: [{ type: 'Container', defaultRequest: { cpu: '100k' } }] },
    });
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'huge', wait: true }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    expect(message(invocation)).toMatch(
      /pod huge-[a-z0-9]+-[a-z0-9]{5}: Unschedulable \(0\/\d+ nodes are available: \d+ Insufficient cpu/,
    );
    expect(message(invocation)).toContain('no node can run the pod');
  });

  it('fails when the progress deadline passes, as kubectl rollout status does', async () => {
    // A quota of no pods keeps the ReplicaSet from creating any, and a deadline of 1 s (set by another field manager,
    // as with kubectl edit) runs out: the real deployment controller says ProgressDeadlineExceeded.
    await scope.admin.create(restPath('v1', 'resourcequotas', scope.ns('default')), {
      metadata: { name: 'no-pods' },
      spec: { hard: { pods: '0' } },
    });
    const lambda = await scope.environment();
    expect(await lambda.invoke({ name: 'stuck' })).toMatchObject({ ok: true });
    await scope.admin.mergePatch(deploymentPath('stuck'), { spec: { progressDeadlineSeconds: 1 } });

    const invocation = await lambda.invoke({ action: 'apply', name: 'stuck', wait: true }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    expect(message(invocation)).toContain('exceeded its progress deadline (1 s)');
    expect(message(invocation)).toContain('kubectl describe deployment');
  });

  it('ends with RolloutTimeoutError, the last counts and what to do, when the time runs out first', async () => {
    const lambda = await scope.environment();
    expect(await lambda.invoke({ name: 'slow' })).toMatchObject({ ok: true });
    await scope.admin.mergePatch(deploymentPath('slow'), NEVER_AVAILABLE);

    const invocation = await lambda.invoke({ action: 'apply', name: 'slow', wait: true }, 5000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutTimeoutError' });
    expect(message(invocation)).toContain('0 of 2 updated replicas are available');
    expect(message(invocation)).toContain('invoke with action "get" later');
    expect(invocation.durationMs).toBeLessThan(5000);
    expect(await scope.admin.get(deploymentPath('slow'))).toBeDefined();
  });

  it('does not fail a new rollout for the pods of an older revision that could not start', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ action: 'apply', name: 'web', image: BAD_TAG });
    await podsWhen(
      'web',
      (pods) =>
        pods.length === 2 &&
        pods.every((pod) =>
          waitingReasons(pod).some((reason) => reason === 'ErrImagePull' || reason === 'ImagePullBackOff'),
        ),
      'the pods of the bad revision failing to pull',
    );

    const fixed = await lambda.invoke({ action: 'apply', name: 'web', image: 'nginx:1.30.0', wait: true }, 20_000);

    expect(fixed).toMatchObject({ ok: true, result: { status: 'configured', rollout: { state: 'complete' } } });
  });

  it('waits on the Deployment alone, and says so, when the function may not list pods', async () => {
    // Grants create and apply only: the function may get the Deployment, but not list its pods. Pods available only
    // 3 s after they are ready keep the rollout in progress for a few polls.
    const namespace = scope.ns('no-pods');
    const lambda = await scope.environment();
    expect(await lambda.invoke({ name: 'web', namespace })).toMatchObject({ ok: true });
    await scope.admin.mergePatch(deploymentPath('web', namespace), { spec: { minReadySeconds: 3 } });

    const invocation = await lambda.invoke({ action: 'apply', name: 'web', namespace, wait: true }, 15_000);

    expect(invocation).toMatchObject({ ok: true, result: { rollout: { state: 'complete' } } });
    const warnings = lambda.records().filter((record) => record['message'] === 'pod diagnostics unavailable');
    expect(warnings).not.toEqual([]);
    expect(warnings[0]?.['reason']).toBe(
      `the function may not list pods in namespace "${namespace}" (grant "observe")`,
    );
  });

  it('polls at most about once per second', async () => {
    const lambda = await scope.environment();
    expect(await lambda.invoke({ name: 'slow' })).toMatchObject({ ok: true });
    await scope.admin.mergePatch(deploymentPath('slow'), NEVER_AVAILABLE);
    const before = scope.proxy.requests.length;

    const invocation = await lambda.invoke({ action: 'apply', name: 'slow', wait: true }, 6000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutTimeoutError' });
    const seconds = invocation.durationMs / 1000;
    // The apply's read and write, then the polls: a GET each, and a pod list each once the controller has seen the
    // Deployment.
    const requests = scope.proxy.requests.slice(before);
    const lastWrite = requests.map((request) => request.method).lastIndexOf('PATCH');
    const polls = requests.slice(lastWrite + 1);
    expect(polls.length).toBeGreaterThan(1);
    expect(polls.length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
  });
});

describe('action get', () => {
  it('reports a Deployment as the cluster has it, with its rollout', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web', replicas: 3, wait: true }, 10_000);

    const invocation = await lambda.invoke({ action: 'get', name: 'web' });

    expect(invocation).toMatchObject({
      ok: true,
      result: {
        status: 'found',
        name: 'web',
        namespace: scope.ns('default'),
        replicas: 3,
        image: 'nginx:1.30.0',
        uid: (await scope.admin.get(deploymentPath('web')))?.metadata?.uid,
        rollout: { state: 'complete', desired: 3, available: 3 },
      },
    });
  });

  it('costs one request when the rollout is complete, two when it is not', async () => {
    const lambda = await scope.environment();
    expect(await lambda.invoke({ name: 'done', wait: true }, 10_000)).toMatchObject({ ok: true });
    expect(await lambda.invoke({ name: 'pending' })).toMatchObject({ ok: true });
    await scope.admin.mergePatch(deploymentPath('pending'), NEVER_AVAILABLE);
    // Until the controller has seen the new spec, the Deployment alone says "progressing" (no pods to name yet).
    await scope.admin.waitFor(
      deploymentPath('pending'),
      (object) =>
        at(object, 'status', 'observedGeneration') === object?.metadata?.['generation'] &&
        at(object, 'status', 'updatedReplicas') === 2,
      `the deployment controller observed deployment ${scope.ns('default')}/pending`,
    );
    await lambda.invoke({ action: 'get', name: 'pending' });
    const start = scope.proxy.requests.length;

    const done = await lambda.invoke({ action: 'get', name: 'done' });
    const complete = scope.proxy.requests.length - start;
    const pending = await lambda.invoke({ action: 'get', name: 'pending' });

    expect(done).toMatchObject({ ok: true, result: { rollout: { state: 'complete' } } });
    expect(pending).toMatchObject({ ok: true, result: { rollout: { state: 'progressing' } } });
    expect(complete).toBe(1);
    // The Deployment, then its pods: its Progressing condition names the current ReplicaSet.
    expect(scope.proxy.requests.slice(start + complete).map((request) => `${request.method} ${request.path}`)).toEqual([
      `GET /apis/apps/v1/namespaces/${scope.ns('default')}/deployments/pending`,
      `GET /api/v1/namespaces/${scope.ns('default')}/pods`,
    ]);
  });

  it('says absent, not an error, for a Deployment that does not exist', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ action: 'get', name: 'nothing-here' });

    expect(invocation).toEqual(
      expect.objectContaining({
        ok: true,
        result: { status: 'absent', name: 'nothing-here', namespace: scope.ns('default') },
      }),
    );
  });

  it('names the failing pods of a rollout that cannot finish', async () => {
    // A single read counts an image pull back-off, not a pull error it has not seen retried: read while both pods
    // are in back-off.
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'broken', image: BAD_TAG });

    const invocation = await whilePodsStay(
      'broken',
      (pods) => pods.length === 2 && pods.every((pod) => waitingReasons(pod).includes('ImagePullBackOff')),
      'both pods of broken in ImagePullBackOff',
      () => lambda.invoke({ action: 'get', name: 'broken' }),
    );

    expect(invocation).toMatchObject({
      ok: true,
      result: { status: 'found', image: BAD_TAG, rollout: { state: 'failed', reason: 'ImagePullBackOff' } },
    });
    const pods = invocation.ok ? at(invocation.result, 'rollout', 'pods') : undefined;
    expect(Array.isArray(pods) && pods.length).toBe(2);
  }, 60_000);
});
