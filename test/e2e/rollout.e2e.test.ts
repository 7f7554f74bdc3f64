import { describe, expect, it } from '@jest/globals';
import { GROUP } from '../support/fixture.js';
import { useTestBed } from '../support/hooks.js';
import { at } from '../support/json.js';
import { until } from '../support/until.js';

// "wait": the function returns when the rollout is complete, fails fast with RolloutFailedError when pods of the new
// revision cannot start, and ends with RolloutTimeoutError when the invocation's time runs out first. The stand-in's
// simulated deployment controller, scheduler and kubelet move the rollout along; some images misbehave on purpose.
const BAD_TAG = 'nginx:1.30.9';
const CRASHING = 'registry.example.com/team/crasher:1.0';
const TOO_BIG = 'registry.example.com/team/huge:1.0';
const SLOW = 'registry.example.com/team/slow:1.0';
const SLOWISH = 'registry.example.com/team/slowish:1.0';
const scope = useTestBed({
  overrides: {
    cluster: {
      observeDelayMs: 20,
      podReadyDelayMs: 50,
      kubeletSyncMs: 100,
      backOffMs: 200,
      images: {
        [BAD_TAG]: { pull: 'not-found' },
        [CRASHING]: { crash: { exitCode: 1, afterMs: 20 } },
        [TOO_BIG]: { unschedulable: true },
        [SLOW]: { readyAfterMs: 120_000 },
        [SLOWISH]: { readyAfterMs: 1500 },
      },
    },
  },
});

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
  });

  it('fails fast, naming the pod and what to fix, when the image tag does not exist', async () => {
    // The kubelet reports ErrImagePull until its next sync; seen twice, the pull has been retried.
    scope.bed.server.cluster.configure({ kubeletSyncMs: 5000, backOffMs: 10_000 });
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ action: 'apply', name: 'web', image: BAD_TAG, wait: true }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    const message = invocation.ok ? '' : invocation.errorMessage;
    expect(message).toMatch(/pod web-[a-z0-9]+-[a-z0-9]{5} container nginx: ErrImagePull/);
    expect(message).toContain(`image ${BAD_TAG} not found: check the tag`);
    // Long before the 600 s progress deadline; and the apply stays.
    expect(invocation.durationMs).toBeLessThan(10_000);
    expect(
      at(scope.bed.server.deployment('default', 'web'), 'spec', 'template', 'spec', 'containers', 0, 'image'),
    ).toBe(BAD_TAG);
  });

  it('fails at once on an image pull back-off, naming what to check when the cause was not seen', async () => {
    // The back-off message does not repeat the pull error (kubelet 1.32); here the function never sees the error.
    scope.bed.server.cluster.configure({ kubeletSyncMs: 1, backOffMs: 60_000 });
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web', image: BAD_TAG, wait: true }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    const message = invocation.ok ? '' : invocation.errorMessage;
    expect(message).toContain(`ImagePullBackOff (Back-off pulling image "${BAD_TAG}")`);
    expect(message).toContain(`cannot pull ${BAD_TAG}: check that the tag exists and the repository name is right`);
  });

  it('fails fast on a container that crash-loops, with its exit code and the logs command', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'crash', image: CRASHING, wait: true }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    const message = invocation.ok ? '' : invocation.errorMessage;
    expect(message).toMatch(/CrashLoopBackOff .*last exit code 1/);
    expect(message).toMatch(/kubectl logs -n default crash-[a-z0-9]+-[a-z0-9]{5} -c nginx --previous/);
  });

  it('fails fast when no node can run the pods, quoting the scheduler', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'huge', image: TOO_BIG, wait: true }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    expect(!invocation.ok && invocation.errorMessage).toMatch(
      /Unschedulable \(0\/3 nodes are available: 3 Insufficient cpu/,
    );
  });

  it('fails when the progress deadline passes, as kubectl rollout status does', async () => {
    scope.bed.server.cluster.configure({ progressDeadlineMs: 1500 });
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'stuck', image: SLOW, wait: true }, 20_000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    expect(!invocation.ok && invocation.errorMessage).toContain('exceeded its progress deadline');
  });

  it('ends with RolloutTimeoutError, the last counts and what to do, when the time runs out first', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'slow', image: SLOW, wait: true }, 5000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutTimeoutError' });
    const message = invocation.ok ? '' : invocation.errorMessage;
    expect(message).toContain('0 of 2 updated replicas are available');
    expect(message).toContain('invoke with action "get" later');
    expect(invocation.durationMs).toBeLessThan(5000);
    expect(scope.bed.server.deployment('default', 'slow')).toBeDefined();
  });

  it('does not fail a new rollout for the pods of an older revision that could not start', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ action: 'apply', name: 'web', image: BAD_TAG });

    const fixed = await lambda.invoke({ action: 'apply', name: 'web', image: 'nginx:1.30.0', wait: true }, 20_000);

    expect(fixed).toMatchObject({ ok: true, result: { status: 'configured', rollout: { state: 'complete' } } });
  });

  it('waits on the Deployment alone, and says so, when the function may not list pods', async () => {
    scope.bed.server.revoke('default', '', 'pods', ['list'], GROUP);
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web', image: SLOWISH, wait: true }, 10_000);

    expect(invocation).toMatchObject({ ok: true, result: { rollout: { state: 'complete' } } });
    expect(lambda.records().filter((record) => record['message'] === 'pod diagnostics unavailable')).not.toEqual([]);
  });

  it('polls at most about once per second', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'slow', image: SLOW, wait: true }, 6000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutTimeoutError' });
    const seconds = invocation.durationMs / 1000;
    // The create, then the polls: a GET each, and a pod list each once the controller has seen the Deployment.
    expect(scope.bed.server.requests.length - 1).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
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
        namespace: 'default',
        replicas: 3,
        image: 'nginx:1.30.0',
        uid: at(scope.bed.server.deployment('default', 'web'), 'metadata', 'uid'),
        rollout: { state: 'complete', desired: 3, available: 3 },
      },
    });
  });

  it('costs one request when the rollout is complete, two when it is not', async () => {
    const lambda = await scope.environment();
    expect(await lambda.invoke({ name: 'done', wait: true }, 10_000)).toMatchObject({ ok: true });
    expect(await lambda.invoke({ name: 'pending', image: SLOW })).toMatchObject({ ok: true });
    // Until the controller has seen the new spec, the Deployment alone says "progressing" (no pods to name yet).
    await until(
      () => at(scope.bed.server.deployment('default', 'pending'), 'status', 'observedGeneration') === 1,
      'the deployment controller observed deployment default/pending',
    );
    await lambda.invoke({ action: 'get', name: 'pending' });
    scope.bed.server.requests.length = 0;

    const done = await lambda.invoke({ action: 'get', name: 'done' });
    const complete = scope.bed.server.requests.length;
    const pending = await lambda.invoke({ action: 'get', name: 'pending' });

    expect(done).toMatchObject({ ok: true, result: { rollout: { state: 'complete' } } });
    expect(pending).toMatchObject({ ok: true, result: { rollout: { state: 'progressing' } } });
    expect(complete).toBe(1);
    // The Deployment, then its pods: its Progressing condition names the current ReplicaSet.
    expect(scope.bed.server.requests.slice(complete).map((request) => `${request.method} ${request.path}`)).toEqual([
      'GET /apis/apps/v1/namespaces/default/deployments/pending',
      'GET /api/v1/namespaces/default/pods',
    ]);
  });

  it('says absent, not an error, for a Deployment that does not exist', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ action: 'get', name: 'nothing-here' });

    expect(invocation).toEqual(
      expect.objectContaining({ ok: true, result: { status: 'absent', name: 'nothing-here', namespace: 'default' } }),
    );
  });

  it('names the failing pods of a rollout that cannot finish', async () => {
    // Past the first pull error, the kubelet backs off for a minute: a single read sees ImagePullBackOff.
    scope.bed.server.cluster.configure({ kubeletSyncMs: 1, backOffMs: 60_000 });
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'broken', image: BAD_TAG });
    await new Promise((resolve) => setTimeout(resolve, 500));

    const invocation = await lambda.invoke({ action: 'get', name: 'broken' });

    expect(invocation).toMatchObject({
      ok: true,
      result: { status: 'found', image: BAD_TAG, rollout: { state: 'failed', reason: 'ImagePullBackOff' } },
    });
    const pods = invocation.ok ? at(invocation.result, 'rollout', 'pods') : undefined;
    expect(Array.isArray(pods) && pods.length).toBe(2);
  });
});
