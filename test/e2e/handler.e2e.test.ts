import { describe, expect, it } from '@jest/globals';
import { refuseTokenReviews, useCluster } from '../support/cluster.js';
import { FaultProxy } from '../support/fault-proxy.js';
import {
  CLUSTER_NAME,
  functionEnv,
  GROUP,
  IDENTITY_SECRETS,
  SPARE_IDENTITY,
  WIDE_GROUP,
  WIDE_IDENTITY,
} from '../support/fixture.js';
import { restPath } from '../support/kube-admin.js';
import { allLogLines, type Invocation, type LambdaEnvironment } from '../support/lambda.js';
import { recordSecrets } from '../support/run-record.js';

const errorMessages: string[] = [];
const tokens = new Set<string>();
const impostors: FaultProxy[] = [];
const scope = useCluster({
  namespaces: { 'team-a': ['create'], locked: [] },
  cleanup: () => Promise.all(impostors.map((proxy) => proxy.stop())).then(() => undefined),
});
const environment = (env?: Record<string, string>): Promise<LambdaEnvironment> => scope.environment(env);
const deployment = (namespace: string, name: string) =>
  scope.admin.get(restPath('apps/v1', 'deployments', namespace, name));

async function invoke(lambda: LambdaEnvironment, event: unknown, timeoutMs = 3000): Promise<Invocation> {
  const invocation = await lambda.invoke(event, timeoutMs);
  if (!invocation.ok) errorMessages.push(invocation.errorMessage);
  for (const request of scope.proxy.requests) {
    if (request.authorization) tokens.add(request.authorization.replace(/^Bearer /, ''));
  }
  return invocation;
}

describe('the bundled handler, loaded as Lambda loads it', () => {
  it('runs on Node 24, the nodejs24.x runtime', async () => {
    const lambda = await environment();
    expect(Number(lambda.nodeVersion.split('.')[0])).toBe(24);
  });

  it('creates two nginx replicas with matching selector and labels when the event is empty', async () => {
    const lambda = await environment();

    const invocation = await invoke(lambda, {});

    const stored = await deployment(scope.ns('default'), 'nginx-deployment');
    expect(invocation).toMatchObject({
      ok: true,
      result: {
        status: 'created',
        name: 'nginx-deployment',
        namespace: scope.ns('default'),
        replicas: 2,
        uid: stored?.metadata?.uid,
      },
    });
    expect(stored).toMatchObject({
      spec: {
        replicas: 2,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'nginx-deployment' } },
        template: {
          metadata: {
            labels: { 'app.kubernetes.io/name': 'nginx-deployment', 'app.kubernetes.io/managed-by': 'lambda-eks' },
          },
          spec: {
            containers: [{ image: expect.stringMatching(/^nginx:\d+\.\d+\.\d+$/), ports: [{ containerPort: 80 }] }],
          },
        },
      },
    });
    // Written by the function's own field manager (the deployment controller has its entry for the status).
    expect(stored?.metadata?.['managedFields']).toEqual(
      expect.arrayContaining([expect.objectContaining({ manager: 'lambda-eks', operation: 'Update' })]),
    );
  });

  it('reports exists and changes nothing when invoked twice', async () => {
    const lambda = await environment();
    await invoke(lambda, { name: 'web', replicas: 3 });
    const first = await deployment(scope.ns('default'), 'web');

    const second = await invoke(lambda, { name: 'web', replicas: 5 });

    // It says only what create knows: the name is taken. Not the event's image and replicas as if they were the
    // cluster's (create cannot read the Deployment; action get does).
    expect(second).toEqual(
      expect.objectContaining({ ok: true, result: { status: 'exists', name: 'web', namespace: scope.ns('default') } }),
    );
    const after = await deployment(scope.ns('default'), 'web');
    expect(after?.metadata?.uid).toBe(first?.metadata?.uid);
    expect(after?.['spec']).toEqual(first?.['spec']);
    const list = await scope.admin.list(restPath('apps/v1', 'deployments', scope.ns('default')));
    expect(list.map((item) => item.metadata?.name)).toEqual(['web']);
  });

  it('asks for a server-side dry run and stores nothing when dryRun is true', async () => {
    const lambda = await environment();

    const invocation = await invoke(lambda, { dryRun: true, namespace: scope.ns('team-a') });

    expect(invocation).toMatchObject({ ok: true, result: { status: 'dry-run', namespace: scope.ns('team-a') } });
    expect(scope.proxy.requests).toHaveLength(1);
    expect(scope.proxy.requests[0]?.query.getAll('dryRun')).toEqual(['All']);
    expect(await deployment(scope.ns('team-a'), 'nginx-deployment')).toBeUndefined();
  });

  it('sends nothing and names the field when the event is invalid', async () => {
    const lambda = await environment();

    const invocation = await invoke(lambda, { replicas: 2.5 });

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'InvalidEventError',
      errorMessage: expect.stringContaining('replicas'),
    });
    expect(scope.proxy.requests).toHaveLength(0);
  });

  it('names the variable when the configuration is incomplete', async () => {
    const { CLUSTER_CA_DATA: _dropped, ...env } = scope.env;
    const lambda = await environment(env);

    const invocation = await invoke(lambda, {});

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'ConfigurationError',
      errorMessage: expect.stringMatching(/^CLUSTER_CA_DATA: /),
    });
    expect(scope.proxy.requests).toHaveLength(0);
  });

  it.each([
    ['a secret key STS does not know', { AWS_SECRET_ACCESS_KEY: 'not/the+secret/STS/knows00000000000000000' }],
    ['a token signed for another cluster', { CLUSTER_NAME: 'another-cluster' }],
  ])('explains the identity mapping when the real server answers 401 to %s', async (_label, change) => {
    if ('AWS_SECRET_ACCESS_KEY' in change) recordSecrets(change.AWS_SECRET_ACCESS_KEY);
    const lambda = await environment({ ...scope.env, ...change });

    const invocation = await invoke(lambda, {});

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterAuthenticationError' });
    expect(!invocation.ok && invocation.errorMessage).toMatch(
      /access entry.*aws-auth|access entry.*iamidentitymapping/s,
    );
    expect(scope.proxy.requests.map((request) => request.status)).toContain(401);
  });

  it('names the verb, resource and namespace when RBAC answers 403', async () => {
    const lambda = await environment();
    const locked = scope.ns('locked');

    const invocation = await invoke(lambda, { namespace: locked });

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterAuthorizationError' });
    const message = invocation.ok ? '' : invocation.errorMessage;
    for (const part of [
      '"create"',
      '"deployments"',
      '"apps"',
      `"${locked}"`,
      `kubectl apply -n ${locked} -f permissions.yml -l lambda-eks/grant=create`,
      'cannot create resource',
      // RBAC answers before the server looks for the namespace: it may not exist.
      `namespace "${locked}" may also not exist: check with "kubectl get namespace ${locked}"`,
    ]) {
      expect(message).toContain(part);
    }
    // deploy.sh grants in the namespace it is given: a fix without "--namespace <ns>" would not help.
    expect(message).not.toMatch(new RegExp(`deploy\\.sh(?![^)]*--namespace ${locked})`));
  });

  it('carries the HTTP status and Status reason when a namespace the function may write to does not exist', async () => {
    // A grant that reaches every namespace, as a ClusterRoleBinding gives it: RBAC lets the request through, and the
    // server's own namespace check answers. It goes to a group of its own, so that no other test's function has it.
    const name = `lambda-eks-test-${scope.ns('default')}`;
    await scope.admin.apply(restPath('rbac.authorization.k8s.io/v1', 'clusterroles', undefined, name), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'] }],
    });
    await scope.admin.apply(restPath('rbac.authorization.k8s.io/v1', 'clusterrolebindings', undefined, name), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: WIDE_GROUP }],
    });
    const missing = `${scope.ns('default')}-missing`;
    try {
      const lambda = await environment({
        ...functionEnv(scope.proxy.url, scope.info.pki.caData, WIDE_IDENTITY),
        NAMESPACE: scope.ns('default'),
      });

      const invocation = await invoke(lambda, { namespace: missing });

      expect(invocation).toMatchObject({
        ok: false,
        errorType: 'KubernetesApiError',
        errorMessage: expect.stringContaining(`HTTP 404 NotFound: namespaces "${missing}" not found`),
      });
    } finally {
      await scope.admin.delete(restPath('rbac.authorization.k8s.io/v1', 'clusterrolebindings', undefined, name));
      await scope.admin.delete(restPath('rbac.authorization.k8s.io/v1', 'clusterroles', undefined, name));
    }
  });

  it('retries 503 and 429 with backoff (honouring Retry-After) and a reset reused socket at once, then succeeds', async () => {
    const lambda = await environment();
    scope.proxy.inject([
      { kind: 'status', code: 503 },
      { kind: 'status', code: 429, retryAfterSeconds: 1 },
      { kind: 'reset' },
    ]);

    const invocation = await invoke(lambda, {}, 6000);

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(scope.proxy.requests.map((request) => request.status)).toEqual([503, 429, 0, 201]);
    const retries = lambda.records().filter((record) => record['message'] === 'retrying');
    // The reset came on the keep-alive socket the 429 was answered on: retried at once, without a warning.
    expect(retries.map((record) => record['cause'])).toEqual(['HTTP 503', 'HTTP 429']);
    expect(retries[1]?.['delayMs']).toBe(1000);
  });

  it('gives up with KubernetesApiError before the deadline when 503s do not stop', async () => {
    const lambda = await environment();
    scope.proxy.inject(Array.from({ length: 50 }, () => ({ kind: 'status' as const, code: 503 as const })));

    const invocation = await invoke(lambda, {}, 3000);

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'KubernetesApiError',
      errorMessage: expect.stringContaining('HTTP 503'),
    });
    expect(invocation.durationMs).toBeLessThan(3000);
    expect(scope.proxy.requests.length).toBeGreaterThan(1);
    expect(scope.proxy.requests.length).toBeLessThanOrEqual(6);
  });

  it('fails with ClusterUnreachableError, not a Lambda timeout, when the server stops answering', async () => {
    const lambda = await environment();
    scope.proxy.inject([{ kind: 'drop' }]);

    const invocation = await invoke(lambda, {}, 2000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterUnreachableError' });
    expect(invocation.durationMs).toBeLessThan(2000);
  });

  it('refuses a server certificate from another CA, once, as a TLS trust problem', async () => {
    const impostor = new FaultProxy(scope.info.endpoint, scope.info.pki.ca.cert, scope.info.pki.otherCaServer);
    impostors.push(impostor);
    const lambda = await environment({ ...scope.env, CLUSTER_ENDPOINT: await impostor.start() });

    const invocation = await invoke(lambda, {});

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'ClusterUnreachableError',
      errorMessage: expect.stringContaining('TLS trust problem'),
    });
    expect(impostor.requests).toHaveLength(0);
    expect(impostor.handshakes).toBe(0);
  });

  it('mints a fresh token and retries once when the real server refuses the cached one', async () => {
    const env = {
      ...functionEnv(scope.proxy.url, scope.info.pki.caData, SPARE_IDENTITY),
      NAMESPACE: scope.ns('default'),
    };
    const lambda = await environment(env);
    await invoke(lambda, { name: 'first' });
    // STS fails for the next review: kube-apiserver answers 401 to the cached token. It remembers a token it accepted
    // for 10 s (k8s.io/kubernetes pkg/kubeapiserver/options/authentication.go, TokenSuccessCacheTTL), so the next
    // review happens only after that.
    refuseTokenReviews(SPARE_IDENTITY.accessKeyId, 1);
    await new Promise((resolve) => setTimeout(resolve, 10_500));

    const invocation = await invoke(lambda, { name: 'second' });

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created', name: 'second' } });
    expect(scope.proxy.requests.map((request) => request.status)).toEqual([201, 401, 201]);
    const [, refused, retried] = scope.proxy.requests;
    expect(retried?.authorization).not.toBe(refused?.authorization);
  }, 30_000);

  it('uses one TLS handshake for ten warm invocations', async () => {
    const lambda = await environment();

    for (let i = 0; i < 10; i += 1) {
      await invoke(lambda, { name: `warm-${i}` });
    }

    const list = await scope.admin.list(restPath('apps/v1', 'deployments', scope.ns('default')));
    expect(list).toHaveLength(10);
    expect(scope.proxy.handshakes).toBe(1);
  });

  it('logs one JSON line per invocation with outcome, cluster, namespace, name and duration', async () => {
    const lambda = await environment();

    await invoke(lambda, { name: 'logged', namespace: scope.ns('team-a') });

    const records = lambda.records().filter((record) => record['message'] === 'invocation');
    expect(records).toEqual([
      expect.objectContaining({
        level: 'INFO',
        outcome: 'created',
        cluster: CLUSTER_NAME,
        namespace: scope.ns('team-a'),
        name: 'logged',
        durationMs: expect.any(Number),
      }),
    ]);
  });
});

describe('what the function writes', () => {
  it('never contains a token, the secret key or the session token', () => {
    const secrets = [...IDENTITY_SECRETS, ...tokens];
    expect(tokens.size).toBeGreaterThan(5);
    expect(allLogLines.length).toBeGreaterThan(10);
    expect(errorMessages.length).toBeGreaterThan(5);
    for (const text of [...allLogLines, ...errorMessages]) {
      for (const secret of secrets) {
        expect(text).not.toContain(secret);
      }
    }
    expect(GROUP).toBe('lambda-deployers');
  });
});
