import { describe, expect, it } from '@jest/globals';
import { mintEksToken } from '../../src/aws/token.js';
import { ACCESS_KEY_ID, CLUSTER_NAME, SECRET_ACCESS_KEY, SESSION_TOKEN } from '../support/fixture.js';
import { useTestBed } from '../support/hooks.js';
import { at } from '../support/json.js';
import { wire } from '../support/kube-client.js';

// Answers that look like RBAC or like "already exists" but are not: a 403 from admission (quota, a terminating
// namespace, a webhook), a 409 from an optimistic lock elsewhere, a 409 for an object on its way out; and a 2xx that
// is not the object asked for.
const scope = useTestBed({ overrides: { cluster: { observeDelayMs: 20, podReadyDelayMs: 50 } } });
const retries = (records: Record<string, unknown>[]) => records.filter((record) => record['message'] === 'retrying');

describe('a 403 that is not RBAC', () => {
  it.each([
    [
      'a ResourceQuota',
      { kind: 'quota-exceeded' as const, quota: 'object-counts', used: 10, limit: 10 },
      /exceeded quota: object-counts.*A ResourceQuota in namespace "default" forbids it.*not an RBAC problem/,
    ],
    [
      'a namespace being deleted',
      { kind: 'namespace-terminating' as const },
      /because it is being terminated.*Namespace "default" is being deleted/,
    ],
    [
      'an admission webhook',
      { kind: 'webhook-denied' as const, webhook: 'policy.example.com', message: 'images must come from ECR' },
      /admission webhook "policy.example.com" denied the request: images must come from ECR.*webhook "policy.example.com" rejected/,
    ],
  ])('from %s is a KubernetesApiError quoting the server, and is not retried', async (_label, fault, message) => {
    scope.bed.server.inject(fault);
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web' });

    expect(invocation).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
    expect(!invocation.ok && invocation.errorMessage).toMatch(message);
    expect(scope.bed.server.requests).toHaveLength(1);
  });
});

describe('a 409 that is not "exists"', () => {
  it('retries an optimistic-lock Conflict (a quota updated concurrently), then creates', async () => {
    scope.bed.server.inject({ kind: 'quota-conflict' });
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web' });

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(retries(lambda.records()).map((record) => record['cause'])).toEqual(['HTTP 409']);
  });

  async function deleteInForeground(): Promise<void> {
    const token = await mintEksToken({
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SESSION_TOKEN },
      region: 'us-west-2',
      clusterName: CLUSTER_NAME,
      signingDate: new Date(),
    });
    const answer = await wire(scope.bed.server.url, scope.bed.pki.ca.cert, token)(
      'DELETE',
      '/apis/apps/v1/namespaces/default/deployments/web',
      { body: { propagationPolicy: 'Foreground' } },
    );
    expect(answer.status).toBe(200);
    expect(at(scope.bed.server.deployment('default', 'web'), 'metadata', 'deletionTimestamp')).toBeDefined();
  }

  it('waits for the old Deployment being deleted, then creates the new one', async () => {
    scope.bed.server.cluster.configure({ terminationMs: 1200 });
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web', wait: true }, 10_000);
    await deleteInForeground();

    const invocation = await lambda.invoke({ name: 'web' }, 10_000);

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(retries(lambda.records()).length).toBeGreaterThan(0);
    expect(at(scope.bed.server.deployment('default', 'web'), 'metadata', 'deletionTimestamp')).toBeUndefined();
  });

  it('says the old Deployment is still being deleted when the time runs out first', async () => {
    scope.bed.server.cluster.configure({ terminationMs: 60_000 });
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web', wait: true }, 10_000);
    await deleteInForeground();

    const invocation = await lambda.invoke({ name: 'web' }, 3000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
    expect(!invocation.ok && invocation.errorMessage).toMatch(/object is being deleted.*still being deleted/);
    expect(invocation.durationMs).toBeLessThan(3000);
  });
});

describe('a 2xx answer that is not the Deployment', () => {
  it('is a failed attempt, not "created": the function asks again and reports the real uid', async () => {
    // A proxy in front of the API server answering 201 with its own page.
    scope.bed.server.inject({ kind: 'non-json', code: 201 });
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web' });

    expect(invocation).toMatchObject({
      ok: true,
      result: { status: 'created', uid: at(scope.bed.server.deployment('default', 'web'), 'metadata', 'uid') },
    });
    expect(retries(lambda.records()).map((record) => record['cause'])).toEqual(['BAD_RESPONSE']);
  });
});
