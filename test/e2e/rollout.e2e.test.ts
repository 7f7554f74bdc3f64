import { describe, expect, it } from '@jest/globals';
import { CONTAINER_ERROR_PERSIST_MS } from '../../src/constants.js';
import { uniqueName, useCluster } from '../support/cluster.js';
import { kwokNode } from '../support/control-plane/control-plane.js';
import { at } from '../support/json.js';
import { restPath, type KubeObject } from '../support/kube-admin.js';
import type { Invocation } from '../support/lambda.js';

// "wait": the function returns when the rollout is complete, fails with RolloutFailedError when pods of the new
// revision cannot start, and ends with RolloutTimeoutError when the invocation's time runs out first. The real
// deployment and replicaset controllers and scheduler move the rollout along, and kwok reports the pods as a kubelet
// would; images misbehave by the suffix of their tag (test/support/control-plane/stages.ts).
const BAD_TAG = 'nginx:1.30.9-does-not-exist';
/** The same, in the words of a kubelet before 1.32: its back-off message does not repeat the pull error. */
const BAD_TAG_KUBELET_1_31 = 'nginx:1.30.9-does-not-exist-kubelet-1.31';
const CRASHING = 'registry.example.com/team/crasher:1.0-crashloop';
const UNCREATABLE = 'registry.example.com/team/huge-layers:1.0-create-container-error';
/** One pull times out, the next succeeds. */
const FLAKY_REGISTRY = 'registry.example.com/team/web:1.0-transient-pull-error';
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
const isPullFailure = (reason: unknown): boolean => reason === 'ErrImagePull' || reason === 'ImagePullBackOff';
const isUnschedulable = (pod: unknown): boolean => {
  const conditions = at(pod, 'status', 'conditions');
  return (Array.isArray(conditions) ? conditions : []).some(
    (condition: unknown) => at(condition, 'type') === 'PodScheduled' && at(condition, 'reason') === 'Unschedulable',
  );
};

/** A LimitRange that gives every container of the namespace this CPU request: more than the shared node has makes
 * the real scheduler answer Unschedulable, without touching the node other tests share. */
async function requestCpu(namespace: string, cpu: string): Promise<void> {
  await scope.admin.create(restPath('v1', 'limitranges', namespace), {
    metadata: { name: 'cpu-requests' },
    spec: { limits: [{ type: 'Container', defaultRequest: { cpu } }] },
  });
}

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
    // The kubelet says ErrImagePull and ImagePullBackOff in turn, and both say "not found": the first pod the function
    // sees in either fails the rollout.
    expect(message(invocation)).toMatch(
      /pod web-[a-z0-9]+-[a-z0-9]{5} container nginx: (ErrImagePull|ImagePullBackOff)/,
    );
    expect(message(invocation)).toContain(`image ${BAD_TAG} not found: check the tag`);
    // Long before the 600 s progress deadline; and the apply stays.
    expect(invocation.durationMs).toBeLessThan(10_000);
    const stored = await scope.admin.get(deploymentPath('web'));
    expect(at(stored, 'spec', 'template', 'spec', 'containers', 0, 'image')).toBe(BAD_TAG);
  });

  it("fails on a kubelet < 1.32's missing image, naming the pull error its back-off message leaves out", async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web', image: BAD_TAG_KUBELET_1_31, wait: true }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    // Whether it fails on the pull error itself or on a back-off after it, the message says "not found".
    expect(message(invocation)).toMatch(
      /container nginx: (ErrImagePull|ImagePullBackOff) \((Back-off pulling image "[^"]+": )?rpc error: code = NotFound .*: not found\)/,
    );
    expect(message(invocation)).toContain(`image ${BAD_TAG_KUBELET_1_31} not found: check the tag`);
  });

  it('completes a rollout whose pulls failed once on a registry timeout, which the kubelet retried', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'flaky', image: FLAKY_REGISTRY, wait: true }, 30_000);

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created', rollout: { state: 'complete' } } });
    // The function did see the failed pulls on its way (a poll of the pods while they were failing).
    const polls = scope.proxy.requests.filter((request) => request.path.endsWith('/pods')).length;
    expect(polls).toBeGreaterThan(0);
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

  it('fails on CreateContainerError once it has lasted 30 s, quoting the runtime', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'uncreatable', image: UNCREATABLE, wait: true }, 60_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    expect(message(invocation)).toMatch(
      /pod uncreatable-[a-z0-9]+-[a-z0-9]{5} container nginx: CreateContainerError \(.*no space left on device\)/,
    );
    expect(message(invocation)).toContain('the container runtime cannot create or start the container');
    // Often transient (the kubelet retries), so final only after CONTAINER_ERROR_PERSIST_MS of it.
    expect(invocation.durationMs).toBeGreaterThanOrEqual(CONTAINER_ERROR_PERSIST_MS);
  }, 90_000);

  it('waits while no node can run the pods, and completes once a node that can is added', async () => {
    // A LimitRange gives the namespace's containers a CPU request larger than the shared node: the real scheduler finds
    // no node for the pods. Then a bigger node comes, as Karpenter or Cluster Autoscaler would add one; it stays,
    // and takes other tests' pods too, as any node may.
    await requestCpu(scope.ns('default'), '48');
    const lambda = await scope.environment();
    const waiting = lambda.invoke({ name: 'web', replicas: 1, wait: true }, 60_000);
    await podsWhen('web', (pods) => pods.some(isUnschedulable), 'the pod of web Unschedulable');
    // A look at the rollout meanwhile names the pod and quotes the scheduler.
    const looking = await scope.environment();
    const seen = await looking.invoke({ action: 'get', name: 'web' });

    await scope.admin.create(restPath('v1', 'nodes'), kwokNode(uniqueName('autoscaled'), { cpu: '64' }));
    const invocation = await waiting;

    expect(seen).toMatchObject({
      ok: true,
      result: {
        rollout: {
          state: 'progressing',
          pods: [
            {
              name: expect.stringMatching(/^web-/),
              container: '',
              reason: 'Unschedulable',
              message: expect.stringMatching(/^0\/\d+ nodes are available: .*Insufficient cpu/),
            },
          ],
        },
      },
    });
    expect(invocation).toMatchObject({ ok: true, result: { status: 'created', rollout: { state: 'complete' } } });
  }, 90_000);

  it('ends with RolloutTimeoutError naming the unschedulable pods and what to do, when no node comes', async () => {
    await requestCpu(scope.ns('default'), '100k');
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'huge', wait: true }, 8000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutTimeoutError' });
    expect(message(invocation)).toMatch(
      /pod huge-[a-z0-9]+-[a-z0-9]{5}: Unschedulable \(0\/\d+ nodes are available: \d+ Insufficient cpu/,
    );
    expect(message(invocation)).toContain('(and 1 more pods)');
    expect(message(invocation)).toContain('Karpenter');
    expect(invocation.durationMs).toBeLessThan(8000);
  });

  it('fails at the progress deadline, naming the pods no node could take', async () => {
    await requestCpu(scope.ns('default'), '100k');
    const lambda = await scope.environment();
    expect(await lambda.invoke({ name: 'huge' })).toMatchObject({ ok: true });
    await scope.admin.mergePatch(deploymentPath('huge'), { spec: { progressDeadlineSeconds: 1 } });

    const invocation = await lambda.invoke({ action: 'apply', name: 'huge', wait: true }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    expect(message(invocation)).toContain('exceeded its progress deadline (1 s)');
    expect(message(invocation)).toMatch(/pod huge-[a-z0-9]+-[a-z0-9]{5}: Unschedulable \(0\/\d+ nodes are available/);
    expect(message(invocation)).not.toContain('..');
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
    expect(message(invocation)).toContain('Invoke with action "get" later');
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
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'broken', image: BAD_TAG });
    await podsWhen(
      'broken',
      (pods) => pods.length === 2 && pods.every((pod) => waitingReasons(pod).some(isPullFailure)),
      'both pods of broken failing to pull',
    );

    const invocation = await lambda.invoke({ action: 'get', name: 'broken' });

    expect(invocation).toMatchObject({
      ok: true,
      result: { status: 'found', image: BAD_TAG, rollout: { state: 'failed' } },
    });
    const pods = invocation.ok ? at(invocation.result, 'rollout', 'pods') : undefined;
    expect(Array.isArray(pods) && pods.length).toBe(2);
  }, 60_000);

  it("does not call a kubelet < 1.32's back-off failed by itself: it does not say why", async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'unsure', image: BAD_TAG_KUBELET_1_31 });

    const invocation = await whilePodsStay(
      'unsure',
      (pods) => pods.length === 2 && pods.every((pod) => waitingReasons(pod).includes('ImagePullBackOff')),
      'both pods of unsure in ImagePullBackOff',
      () => lambda.invoke({ action: 'get', name: 'unsure' }),
    );

    expect(invocation).toMatchObject({
      ok: true,
      result: {
        rollout: {
          state: 'progressing',
          pods: [
            expect.objectContaining({
              reason: 'ImagePullBackOff',
              message: `Back-off pulling image "${BAD_TAG_KUBELET_1_31}"`,
            }),
            expect.objectContaining({ reason: 'ImagePullBackOff' }),
          ],
        },
      },
    });
  }, 60_000);
});

describe('a large Deployment', () => {
  it('lists the pods of the current ReplicaSet page by page, and no further once enough cannot start', async () => {
    const env = { ...scope.env, LAMBDA_EKS_LIST_PAGE_SIZE: '4' };
    const lambda = await scope.environment(env);
    expect(await lambda.invoke({ name: 'big', replicas: 30, wait: true }, 60_000)).toMatchObject({ ok: true });
    // A new revision that crash-loops, rolled out with surge beside the 30 pods of the old one. The test waits until
    // its pods all crash-loop (at least two pages of them), so that what one poll finds does not depend on how fast
    // kwok gets there on a loaded machine; the apply with wait below then fails at its first poll.
    expect(await lambda.invoke({ action: 'apply', name: 'big', image: CRASHING }, 60_000)).toMatchObject({ ok: true });
    await scope.admin.waitFor(
      podsPath('big'),
      (list) => {
        const crashing = items(list).filter((pod) => at(pod, 'spec', 'containers', 0, 'image') === CRASHING);
        const looping = crashing.filter((pod) => waitingReasons(pod).includes('CrashLoopBackOff'));
        return crashing.length >= 8 && looping.length === crashing.length;
      },
      'every pod of the crash-looping revision in CrashLoopBackOff',
      90_000,
    );
    const before = scope.proxy.requests.length;

    const invocation = await lambda.invoke({ action: 'apply', name: 'big', image: CRASHING, wait: true }, 60_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    expect(message(invocation)).toMatch(/CrashLoopBackOff .*\(and [1-4] more pods\)/);
    const lists = scope.proxy.requests.slice(before).filter((request) => request.path.endsWith('/pods'));
    expect(lists.length).toBeGreaterThan(0);
    for (const list of lists) {
      expect(list.query.get('limit')).toBe('4');
      // Only the new ReplicaSet's pods: the deployment controller's pod-template-hash of the crash-looping revision.
      expect(list.query.get('labelSelector')).toMatch(/,pod-template-hash=[a-z0-9]+$/);
    }
    const hashes = new Set(lists.map((list) => list.query.get('labelSelector')));
    expect(hashes.size).toBe(1);
    // The last poll: pages until five pods that cannot start are found, not all the pages.
    const lastPoll = lists.slice(lists.map((list) => list.query.has('continue')).lastIndexOf(false));
    expect(lastPoll.length).toBeLessThanOrEqual(2);
  }, 150_000);

  it('reports an answer too large to read as ResponseTooLargeError, not as an unreachable cluster', async () => {
    // Pods of 200 KB each (an annotation of the template), 30 of them, never ready: one page of 500 is over 4 MiB.
    const namespace = scope.ns('default');
    await scope.admin.create(restPath('apps/v1', 'deployments', namespace), {
      metadata: { name: 'fat' },
      spec: {
        replicas: 30,
        selector: { matchLabels: { app: 'fat' } },
        template: {
          metadata: { labels: { app: 'fat' }, annotations: { 'example.com/padding': 'x'.repeat(200 * 1024) } },
          spec: { containers: [{ name: 'app', image: CRASHING }] },
        },
      },
    });
    await scope.admin.waitFor(
      `${restPath('v1', 'pods', namespace)}?labelSelector=app%3Dfat`,
      (list) => items(list).length === 30,
      'the 30 pods of fat',
    );
    const lambda = await scope.environment({ ...scope.env, LAMBDA_EKS_LIST_PAGE_SIZE: '500' });

    const invocation = await lambda.invoke({ action: 'get', name: 'fat' }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'ResponseTooLargeError' });
    expect(message(invocation)).toContain('LAMBDA_EKS_LIST_PAGE_SIZE (now 500)');
    // Not retried: the same request would get the same answer.
    expect(scope.proxy.requests.filter((request) => request.path.endsWith('/pods'))).toHaveLength(1);
    const paged = await (
      await scope.environment({ ...scope.env, LAMBDA_EKS_LIST_PAGE_SIZE: '5' })
    ).invoke({ action: 'get', name: 'fat' }, 20_000);
    expect(paged).toMatchObject({ ok: true, result: { rollout: { state: 'failed', reason: 'CrashLoopBackOff' } } });
  }, 120_000);
});
