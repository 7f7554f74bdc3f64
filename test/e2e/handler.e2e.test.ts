import { describe, expect, it } from '@jest/globals';
import { CLUSTER_NAME, GROUP, secretsSeenBy } from '../support/fixture.js';
import { useTestBed } from '../support/hooks.js';
import { KubeApiStandIn } from '../support/kube-apiserver.js';
import { allLogLines, LambdaEnvironment, type Invocation } from '../support/lambda.js';
import { recordSecrets } from '../support/run-record.js';

const errorMessages: string[] = [];
const otherServers: KubeApiStandIn[] = [];
const scope = useTestBed({
  cleanup: () => Promise.all(otherServers.map((server) => server.stop())).then(() => undefined),
});
const environment = (env?: Record<string, string>): Promise<LambdaEnvironment> => scope.environment(env);

async function invoke(lambda: LambdaEnvironment, event: unknown, timeoutMs = 3000): Promise<Invocation> {
  const invocation = await lambda.invoke(event, timeoutMs);
  if (!invocation.ok) errorMessages.push(invocation.errorMessage);
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

    const stored = scope.bed.server.deployments.get('default/nginx-deployment');
    expect(invocation).toMatchObject({
      ok: true,
      result: {
        status: 'created',
        name: 'nginx-deployment',
        namespace: 'default',
        replicas: 2,
        uid: stored?.metadata['uid'],
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
  });

  it('reports exists and changes nothing when invoked twice', async () => {
    const lambda = await environment();
    await invoke(lambda, { name: 'web', replicas: 3 });
    const first = structuredClone(scope.bed.server.deployments.get('default/web'));

    const second = await invoke(lambda, { name: 'web', replicas: 5 });

    expect(second).toMatchObject({ ok: true, result: { status: 'exists', name: 'web', replicas: 5 } });
    expect(scope.bed.server.deployments.size).toBe(1);
    expect(scope.bed.server.deployments.get('default/web')).toEqual(first);
  });

  it('asks for a server-side dry run and stores nothing when dryRun is true', async () => {
    const lambda = await environment();

    const invocation = await invoke(lambda, { dryRun: true, namespace: 'team-a' });

    expect(invocation).toMatchObject({ ok: true, result: { status: 'dry-run', namespace: 'team-a' } });
    expect(scope.bed.server.requests).toHaveLength(1);
    expect(new URLSearchParams(scope.bed.server.requests[0]?.query).getAll('dryRun')).toEqual(['All']);
    expect(scope.bed.server.deployments.size).toBe(0);
  });

  it('sends nothing and names the field when the event is invalid', async () => {
    const lambda = await environment();

    const invocation = await invoke(lambda, { replicas: 2.5 });

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'InvalidEventError',
      errorMessage: expect.stringContaining('replicas'),
    });
    expect(scope.bed.server.requests).toHaveLength(0);
  });

  it('names the variable when the configuration is incomplete', async () => {
    const { CLUSTER_CA_DATA: _dropped, ...env } = scope.bed.env;
    const lambda = await environment(env);

    const invocation = await invoke(lambda, {});

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'ConfigurationError',
      errorMessage: expect.stringMatching(/^CLUSTER_CA_DATA: /),
    });
    expect(scope.bed.server.requests).toHaveLength(0);
  });

  it('explains the identity mapping when the cluster answers 401', async () => {
    const wrongSecret = 'not/the+secret/STS/knows00000000000000000';
    recordSecrets(wrongSecret);
    const lambda = await environment({ ...scope.bed.env, AWS_SECRET_ACCESS_KEY: wrongSecret });

    const invocation = await invoke(lambda, {});

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterAuthenticationError' });
    expect(!invocation.ok && invocation.errorMessage).toMatch(
      /access entry.*aws-auth|access entry.*iamidentitymapping/s,
    );
  });

  it('names the verb, resource and namespace when RBAC answers 403', async () => {
    const lambda = await environment();

    const invocation = await invoke(lambda, { namespace: 'locked' });

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterAuthorizationError' });
    const message = invocation.ok ? '' : invocation.errorMessage;
    for (const part of [
      '"create"',
      '"deployments"',
      '"apps"',
      '"locked"',
      'kubectl apply -n locked -f permissions.yml -l lambda-eks/grant=create',
      'cannot create resource',
    ]) {
      expect(message).toContain(part);
    }
    // deploy.sh grants in the namespace it is given: a fix without "--namespace locked" would not help.
    expect(message).not.toMatch(/deploy\.sh(?![^)]*--namespace locked)/);
  });

  it('carries the HTTP status and Status reason when the namespace does not exist', async () => {
    const lambda = await environment();

    const invocation = await invoke(lambda, { namespace: 'missing' });

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'KubernetesApiError',
      errorMessage: expect.stringContaining('HTTP 404 NotFound: namespaces "missing" not found'),
    });
  });

  it('retries 503 and 429 with backoff (honouring Retry-After) and a reset reused socket at once, then succeeds', async () => {
    const lambda = await environment();
    scope.bed.server.inject(
      { kind: 'status', code: 503 },
      { kind: 'status', code: 429, retryAfterSeconds: 1 },
      { kind: 'reset' },
    );

    const invocation = await invoke(lambda, {}, 6000);

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(scope.bed.server.requests.map((request) => request.status)).toEqual([503, 429, 0, 201]);
    const retries = lambda.records().filter((record) => record['message'] === 'retrying');
    // The reset came on the keep-alive socket the 429 was answered on: retried at once, without a warning.
    expect(retries.map((record) => record['cause'])).toEqual(['HTTP 503', 'HTTP 429']);
    expect(retries[1]?.['delayMs']).toBe(1000);
  });

  it('gives up with KubernetesApiError before the deadline when 503s do not stop', async () => {
    const lambda = await environment();
    scope.bed.server.inject(...Array.from({ length: 50 }, () => ({ kind: 'status' as const, code: 503 as const })));

    const invocation = await invoke(lambda, {}, 3000);

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'KubernetesApiError',
      errorMessage: expect.stringContaining('HTTP 503'),
    });
    expect(invocation.durationMs).toBeLessThan(3000);
    expect(scope.bed.server.requests.length).toBeGreaterThan(1);
    expect(scope.bed.server.requests.length).toBeLessThanOrEqual(6);
  });

  it('fails with ClusterUnreachableError, not a Lambda timeout, when the server stops answering', async () => {
    const lambda = await environment();
    scope.bed.server.inject({ kind: 'delay', ms: 10_000 });

    const invocation = await invoke(lambda, {}, 2000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterUnreachableError' });
    expect(invocation.durationMs).toBeLessThan(2000);
  });

  it('refuses a server certificate from another CA, once, as a TLS trust problem', async () => {
    const impostor = new KubeApiStandIn({
      tls: scope.bed.pki.otherCaServer,
      clusterName: CLUSTER_NAME,
      identities: {},
      namespaces: [],
    });
    otherServers.push(impostor);
    const lambda = await environment({ ...scope.bed.env, CLUSTER_ENDPOINT: await impostor.start() });

    const invocation = await invoke(lambda, {});

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'ClusterUnreachableError',
      errorMessage: expect.stringContaining('TLS trust problem'),
    });
    expect(impostor.requests).toHaveLength(0);
    expect(impostor.handshakes).toBe(0);
  });

  it('mints a fresh token and retries once when the cached token is refused', async () => {
    const lambda = await environment();
    await invoke(lambda, { name: 'first' });
    scope.bed.server.inject({ kind: 'unauthorized' });

    const invocation = await invoke(lambda, { name: 'second' });

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created', name: 'second' } });
    expect(scope.bed.server.requests.map((request) => request.status)).toEqual([201, 401, 201]);
  });

  it('uses one TLS handshake for ten warm invocations', async () => {
    const lambda = await environment();

    for (let i = 0; i < 10; i += 1) {
      await invoke(lambda, { name: `warm-${i}` });
    }

    expect(scope.bed.server.deployments.size).toBe(10);
    expect(scope.bed.server.handshakes).toBe(1);
  });

  it('logs one JSON line per invocation with outcome, cluster, namespace, name and duration', async () => {
    const lambda = await environment();

    await invoke(lambda, { name: 'logged', namespace: 'team-a' });

    const records = lambda.records().filter((record) => record['message'] === 'invocation');
    expect(records).toEqual([
      expect.objectContaining({
        level: 'INFO',
        outcome: 'created',
        cluster: CLUSTER_NAME,
        namespace: 'team-a',
        name: 'logged',
        durationMs: expect.any(Number),
      }),
    ]);
  });
});

describe('what the function writes', () => {
  it('never contains a token, the secret key or the session token', () => {
    const secrets = secretsSeenBy(scope.bed.server, ...otherServers);
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
