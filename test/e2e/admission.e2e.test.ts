import { describe, expect, it } from '@jest/globals';
import { uniqueName, useCluster } from '../support/cluster.js';
import { at } from '../support/json.js';
import { restPath, type KubeAdmin } from '../support/kube-admin.js';
import { applyGrants } from '../support/local-cluster.js';
import {
  denyNonEcrImages,
  deploymentPath,
  foreignDeployment,
  hold,
  HOLD_FINALIZER,
  release,
} from '../support/cluster-objects.js';
import { until } from '../support/until.js';

// Answers that look like RBAC or like "already exists" but are not, each from the real kube-apiserver: a 403 from
// admission (a ResourceQuota, a namespace being deleted, an admission policy denying as a webhook does) and a 422
// from a policy's default answer; a 409 for an object on its way out or for a resourceVersion gone stale; and, from a
// proxy in front of the server, a 2xx that is not the object asked for.
const scope = useCluster();
const retries = (records: Record<string, unknown>[]) => records.filter((record) => record['message'] === 'retrying');
/** The requests the proxy saw from the `from`th on, as "METHOD status". */
const statuses = (from = 0) => scope.proxy.requests.slice(from).map((request) => `${request.method} ${request.status}`);

/** A ResourceQuota that allows one Deployment, used up by another tool's. Its controller must have computed the
 * usage before the Deployment is created: kube-apiserver refuses creates under a quota without usage ("status unknown
 * for quota"), and a first computation that comes after the create, from a cache that has not seen the Deployment
 * yet, would count 0 until the controller's next full resync, minutes later. */
async function quotaUsedUp(admin: KubeAdmin, namespace: string): Promise<void> {
  const path = restPath('v1', 'resourcequotas', namespace, 'object-counts');
  const counted = (quota: unknown, used: string): boolean =>
    at(quota, 'status', 'hard', 'count/deployments.apps') === '1' &&
    at(quota, 'status', 'used', 'count/deployments.apps') === used;
  await admin.create(restPath('v1', 'resourcequotas', namespace), {
    metadata: { name: 'object-counts' },
    spec: { hard: { 'count/deployments.apps': '1' } },
  });
  await admin.waitFor(path, (quota) => counted(quota, '0'), 'the quota controller to compute the usage');
  await admin.create(restPath('apps/v1', 'deployments', namespace), foreignDeployment(namespace, 'existing'));
  // The quota admission plugin counts the create in the quota's status as it admits it.
  await admin.waitFor(path, (quota) => counted(quota, '1'), 'the quota to count the Deployment');
}

/** A namespace of its own, with the create grant, that is being deleted and stays so: the namespace controller
 * deletes what is in it, but a ConfigMap and the grant's Role and RoleBinding carry a finalizer of the tests (the
 * grant must outlive the deletion, or RBAC would refuse the create before admission sees it). Returns the namespace
 * and what lets the deletion finish. */
async function terminatingNamespace(admin: KubeAdmin): Promise<{ namespace: string; finish: () => Promise<void> }> {
  const namespace = uniqueName('doomed');
  const rbac = 'rbac.authorization.k8s.io/v1';
  const held = [
    restPath('v1', 'configmaps', namespace, 'held'),
    restPath(rbac, 'roles', namespace, 'lambda-eks-create'),
    restPath(rbac, 'rolebindings', namespace, 'lambda-eks-create'),
  ];
  const finish = async (): Promise<void> => {
    for (const path of held) await release(admin, path);
  };
  await admin.create(restPath('v1', 'namespaces'), { metadata: { name: namespace } });
  await applyGrants(admin, namespace, ['create']);
  await admin.create(restPath('v1', 'configmaps', namespace), { metadata: { name: 'held' } });
  for (const path of held) await hold(admin, path);
  await admin.delete(restPath('v1', 'namespaces', undefined, namespace));
  // The namespace controller has been through the namespace: what it could delete is gone, the rest is held.
  for (const path of held) {
    await admin.waitFor(
      path,
      (object) => at(object, 'metadata', 'deletionTimestamp') !== undefined,
      `${path} deleted`,
      75_000,
    );
  }
  return { namespace, finish };
}

// A generous timeout: the namespace controller's first pass over a namespace being deleted can take tens of seconds on a
// busy machine (a test that times out keeps running, and its requests land in the next test's counts).
describe('a 403 that is not RBAC', () => {
  it.each([
    [
      'a ResourceQuota',
      async () => {
        const namespace = scope.ns('default');
        await quotaUsedUp(scope.admin, namespace);
        return {
          event: {},
          cleanup: async () => undefined,
          said: new RegExp(
            'HTTP 403 Forbidden: deployments.apps "web" is forbidden: exceeded quota: object-counts, requested: ' +
              'count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1.*' +
              `A ResourceQuota in namespace "${namespace}" forbids it.*not an RBAC problem`,
          ),
        };
      },
    ],
    [
      'a namespace being deleted',
      async () => {
        const { namespace, finish } = await terminatingNamespace(scope.admin);
        return {
          event: { namespace },
          cleanup: finish,
          said: new RegExp(
            `HTTP 403 Forbidden: deployments.apps "web" is forbidden: unable to create new content in namespace ` +
              `${namespace} because it is being terminated.*Namespace "${namespace}" is being deleted`,
          ),
        };
      },
    ],
    [
      'an admission policy that denies as a webhook does',
      async () => {
        const { policy, binding, remove } = await denyNonEcrImages(scope.admin, scope.ns('default'), {
          message: 'images must come from ECR',
          reason: 'Forbidden',
        });
        return {
          event: {},
          cleanup: remove,
          said: new RegExp(
            `HTTP 403 Forbidden: deployments.apps "web" is forbidden: ValidatingAdmissionPolicy '${policy}' with ` +
              `binding '${binding}' denied request: images must come from ECR.*The ValidatingAdmissionPolicy ` +
              `"${policy}" \\(binding "${binding}"\\) rejected it.*not an RBAC problem`,
          ),
        };
      },
    ],
  ])(
    'from %s is a KubernetesApiError quoting the server, and is not retried',
    async (_label, prepare) => {
      const { event, cleanup, said } = await prepare();
      try {
        const lambda = await scope.environment();

        const invocation = await lambda.invoke({ name: 'web', ...event });

        expect(invocation).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
        expect(!invocation.ok && invocation.errorMessage).toMatch(said);
        expect(statuses()).toEqual(['POST 403']);
      } finally {
        await cleanup();
      }
    },
    90_000,
  );
});

describe('a 422 from admission', () => {
  it("is a KubernetesApiError quoting the policy's denial, and is not retried", async () => {
    const policy = await denyNonEcrImages(scope.admin, scope.ns('default'), { message: 'images must come from ECR' });
    try {
      const lambda = await scope.environment();

      const invocation = await lambda.invoke({ name: 'web' });

      expect(invocation).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
      expect(!invocation.ok && invocation.errorMessage).toMatch(
        new RegExp(
          `HTTP 422 Invalid: .*ValidatingAdmissionPolicy '${policy.policy}' with binding '${policy.binding}' ` +
            `denied request: images must come from ECR.*The ValidatingAdmissionPolicy "${policy.policy}" ` +
            `\\(binding "${policy.binding}"\\) rejected it.*kubectl get validatingadmissionpolicy ${policy.policy} -o yaml`,
        ),
      );
      expect(statuses()).toEqual(['POST 422']);
      expect(await scope.admin.get(deploymentPath(scope.ns('default'), 'web'))).toBeUndefined();
    } finally {
      await policy.remove();
    }
  });
});

describe('a 409 that is not "exists"', () => {
  // A 409 Conflict from a ResourceQuota's optimistic lock (two creates counted against one quota at the same
  // moment) is what kube-apiserver answers only under a race it mostly resolves itself, and cannot be made to
  // happen on demand; the 409s below are the ones the real server gives on demand.

  async function deleteInForeground(namespace: string, name: string): Promise<string | undefined> {
    const path = deploymentPath(namespace, name);
    await hold(scope.admin, path);
    const answer = await scope.admin.send('DELETE', path, {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' },
    });
    expect(answer.status).toBe(200);
    const deleting = await scope.admin.get(path);
    expect(at(deleting, 'metadata', 'deletionTimestamp')).toBeDefined();
    // Held by the test's finalizer; the garbage collector may already have finished the foreground part (the
    // Deployment's ReplicaSet and pods go in about a second).
    expect(at(deleting, 'metadata', 'finalizers')).toEqual(expect.arrayContaining([HOLD_FINALIZER]));
    return deleting?.metadata?.uid;
  }

  it('waits for the old Deployment being deleted, then creates the new one', async () => {
    const namespace = scope.ns('default');
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web', wait: true }, 10_000);
    const oldUid = await deleteInForeground(namespace, 'web');
    const from = scope.proxy.requests.length;
    const answered = () => scope.proxy.requests.slice(from).filter(({ status }) => status === 409).length;
    // The deletion ends once the function has been refused four times (about a second in), while it waits before its
    // fifth attempt: at least 400 ms of backoff, so that its next create comes after the old object is gone (one
    // that arrives at the very moment it goes is the subject of the next test).
    const released = until(() => answered() >= 4, 'four refused creates', 10_000).then(() =>
      release(scope.admin, deploymentPath(namespace, 'web')),
    );

    const invocation = await lambda.invoke({ name: 'web' }, 10_000);

    await released;
    const stored = await scope.admin.get(deploymentPath(namespace, 'web'));
    expect(invocation).toMatchObject({ ok: true, result: { status: 'created', uid: stored?.metadata?.uid } });
    expect(stored?.metadata?.uid).not.toBe(oldUid);
    expect(at(stored, 'metadata', 'deletionTimestamp')).toBeUndefined();
    const refused = statuses(from).slice(0, -1);
    expect(refused.length).toBeGreaterThanOrEqual(4);
    expect(statuses(from)).toEqual([...refused.map(() => 'POST 409'), 'POST 201']);
    expect(retries(lambda.records()).map((record) => record['cause'])).toEqual(refused.map(() => 'HTTP 409'));
  });

  it('reports created, never "exists", when the old Deployment goes at the moment its create arrives', async () => {
    // kube-apiserver answers a create whose name is taken with AlreadyExists, and prefixes "object is being deleted"
    // after reading the object again (k8s.io/apiserver pkg/registry/generic/registry/store.go, Create). When the old
    // object is gone by that second read, the answer is a plain AlreadyExists for a name nothing holds any more. The
    // moment cannot be chosen from outside, so each round lets the deletion end as the function's second create
    // arrives (about one round in ten hits the moment, measured here).
    const namespace = scope.ns('default');
    const lambda = await scope.environment();
    const outcomes: string[] = [];

    // Up to 40 rounds; the first wrong answer ends them.
    for (let round = 0; round < 40 && !outcomes.some((outcome) => outcome !== 'created, stored'); round += 1) {
      const name = `race-${round}`;
      const path = deploymentPath(namespace, name);
      await scope.admin.create(restPath('apps/v1', 'deployments', namespace), foreignDeployment(namespace, name));
      await deleteInForeground(namespace, name);
      const from = scope.proxy.requests.length;
      const invocation = lambda.invoke({ name }, 10_000);
      await until(() => scope.proxy.requests.length - from >= 2, 'the second create');
      await release(scope.admin, path);
      const result = await invocation;
      const stored = await scope.admin.get(path);
      outcomes.push(
        `${result.ok ? String(result.result['status']) : result.errorType}, ${stored ? 'stored' : 'absent'}`,
      );
    }

    expect(outcomes.at(-1)).toBe('created, stored');
    expect(outcomes).toHaveLength(40);
  }, 60_000);

  it('says the old Deployment is still being deleted when the time runs out first', async () => {
    const namespace = scope.ns('default');
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web', wait: true }, 10_000);
    const oldUid = await deleteInForeground(namespace, 'web');
    try {
      const invocation = await lambda.invoke({ name: 'web' }, 3000);

      expect(invocation).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
      expect(!invocation.ok && invocation.errorMessage).toMatch(
        /HTTP 409 AlreadyExists: object is being deleted: deployments.apps "web" already exists.*still being deleted/,
      );
      expect(invocation.durationMs).toBeLessThan(3000);
      expect((await scope.admin.get(deploymentPath(namespace, 'web')))?.metadata?.uid).toBe(oldUid);
    } finally {
      await release(scope.admin, deploymentPath(namespace, 'web'));
    }
  });

  it('reads again and applies when its resourceVersion precondition went stale (409 Conflict: object modified)', async () => {
    const namespace = scope.ns('default');
    const path = deploymentPath(namespace, 'web');
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web', wait: true }, 10_000);
    // The rollout is over: the deployment controller no longer writes the status, so the resourceVersion the
    // function reads is this one.
    const read = (await scope.admin.get(path))?.metadata?.resourceVersion;
    const from = scope.proxy.requests.length;
    // Changing the image create set conflicts with the function's own Update entry; it then applies with force and
    // the resourceVersion it read. That conflict's answer is held back while another client changes the Deployment,
    // so the resourceVersion is stale when the forced apply arrives.
    scope.proxy.inject([{ kind: 'delay', ms: 1000 }], ({ method }) => method === 'PATCH');
    const invocation = lambda.invoke({ action: 'apply', name: 'web', image: 'nginx:1.31.0' }, 10_000);
    await until(() => scope.proxy.requests.some(({ method }) => method === 'PATCH'), 'the first PATCH');
    await scope.admin.mergePatch(path, { metadata: { annotations: { 'example.com/owner': 'team-a' } } }, 'other-tool');

    const applied = await invocation;

    expect(applied).toMatchObject({ ok: true, result: { status: 'configured', image: 'nginx:1.31.0' } });
    expect(statuses(from)).toEqual(['GET 200', 'PATCH 409', 'PATCH 409', 'GET 200', 'PATCH 409', 'PATCH 200']);
    const [, , stale, , , forced] = scope.proxy.requests.slice(from);
    const precondition = (body: string | undefined): unknown =>
      at(JSON.parse(body ?? '{}'), 'metadata', 'resourceVersion');
    expect(stale?.query.get('force')).toBe('true');
    expect(precondition(stale?.body)).toBe(read);
    expect(forced?.query.get('force')).toBe('true');
    expect(precondition(forced?.body)).not.toBe(read);
    const stored = await scope.admin.get(path);
    expect(at(stored, 'spec', 'template', 'spec', 'containers', 0, 'image')).toBe('nginx:1.31.0');
    // The other client's change survives: the forced apply took over only the fields the function sets.
    expect(stored?.metadata?.annotations?.['example.com/owner']).toBe('team-a');
  });
});

describe('a 2xx answer that is not the Deployment', () => {
  it('is a failed attempt, not "created": the function asks again and reports the real uid', async () => {
    // A proxy in front of the API server answering 200 with its own page, without passing the create on.
    scope.proxy.inject([{ kind: 'html', code: 200 }], ({ method }) => method === 'POST');
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web' });

    const stored = await scope.admin.get(deploymentPath(scope.ns('default'), 'web'));
    expect(invocation).toMatchObject({ ok: true, result: { status: 'created', uid: stored?.metadata?.uid } });
    expect(stored?.metadata?.uid).toEqual(expect.any(String));
    expect(retries(lambda.records()).map((record) => record['cause'])).toEqual(['BAD_RESPONSE']);
    expect(statuses()).toEqual(['POST 200', 'POST 201']);
  });
});
