import { describe, expect, it } from '@jest/globals';
import { MAX_ATTEMPTS } from '../../src/constants.js';
import { useCluster } from '../support/cluster.js';
import type { Fault, RequestMatcher } from '../support/fault-proxy.js';
import { restPath } from '../support/kube-admin.js';

// The reliability faults of faults.e2e.test.ts, at the requests the lifecycle actions add: the read and the apply of
// an apply, the read and the DELETE of a delete, and a poll while waiting. Each must end with the right result before
// the deadline, with bounded, logged retries. The fault proxy in front of the real kube-apiserver gives each fault to
// the first request of the kind it is meant for.
const TIMEOUT_MS = 6000;
/** Waiting for a real rollout: kwok makes pods ready 0.5 to 1.5 s after they are created, and the polls are a second
 * or more apart. */
const WAIT_TIMEOUT_MS = 15_000;
const scope = useCluster();

const FAULTS: [string, Fault][] = [
  ['a reset', { kind: 'reset' }],
  ['a 503 with a Status body', { kind: 'status', code: 503 }],
  ['a 429 with Retry-After: 1', { kind: 'status', code: 429, retryAfterSeconds: 1 }],
  ['an HTML 502 from a proxy', { kind: 'html', code: 502 }],
  ['a body cut short', { kind: 'truncate' }],
  ['an answer lost after the request was carried out', { kind: 'lose-answer' }],
];

const retried = (records: Record<string, unknown>[]) => records.filter((record) => record['message'] === 'retrying');
const deploymentPath = (name: string) => restPath('apps/v1', 'deployments', scope.ns('default'), name);
/** Requests of `method` to Deployment `name`. */
const to =
  (method: string, name: string): RequestMatcher =>
  (request) =>
    request.method === method && request.path === deploymentPath(name);
/** The faults the proxy applied, by the request that met them. */
const met = () =>
  scope.proxy.requests.flatMap((request) =>
    request.fault === undefined ? [] : [`${request.method} ${request.fault}`],
  );

describe.each(FAULTS)('with %s', (_label, fault) => {
  it('on the read of an apply: created', async () => {
    scope.proxy.inject([fault], to('GET', 'web'));
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ action: 'apply', name: 'web' }, TIMEOUT_MS);

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(invocation.durationMs).toBeLessThan(TIMEOUT_MS);
    expect(retried(lambda.records()).length).toBeLessThan(MAX_ATTEMPTS);
    expect(met()).toEqual([`GET ${fault.kind}`]);
  });

  it('on the apply itself: created, even when only its answer was lost', async () => {
    scope.proxy.inject([fault], to('PATCH', 'web'));
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ action: 'apply', name: 'web' }, TIMEOUT_MS);

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(met()).toEqual([`PATCH ${fault.kind}`]);
    const names = (await scope.admin.list(restPath('apps/v1', 'deployments', scope.ns('default')))).map(
      (item) => item.metadata?.name,
    );
    expect(names).toEqual(['web']);
  });

  it('on the DELETE of a delete: deleted, even when only its answer was lost', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    scope.proxy.inject([fault], to('DELETE', 'web'));

    const invocation = await lambda.invoke({ action: 'delete', name: 'web' }, TIMEOUT_MS);

    expect(invocation).toMatchObject({ ok: true, result: { status: 'deleted' } });
    expect(met()).toEqual([`DELETE ${fault.kind}`]);
    expect(await scope.admin.get(deploymentPath('web'))).toBeUndefined();
  });

  it('on a poll while waiting: the rollout completes', async () => {
    // The create is a POST: the first GET of the Deployment is the first poll.
    scope.proxy.inject([fault], to('GET', 'web'));
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web', wait: true }, WAIT_TIMEOUT_MS);

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created', rollout: { state: 'complete' } } });
    expect(invocation.durationMs).toBeLessThan(WAIT_TIMEOUT_MS);
    expect(met()).toEqual([`GET ${fault.kind}`]);
  });
});
