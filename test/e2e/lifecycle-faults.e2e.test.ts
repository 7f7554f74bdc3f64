import { describe, expect, it } from '@jest/globals';
import { MAX_ATTEMPTS } from '../../src/constants.js';
import { useTestBed } from '../support/hooks.js';
import type { Fault } from '../support/kube-apiserver.js';

// The reliability faults of faults.e2e.test.ts, at the requests the lifecycle actions add: the read and the apply of
// an apply, the read and the DELETE of a delete, and a poll while waiting. Each must end with the right result before
// the deadline, with bounded, logged retries.
const TIMEOUT_MS = 6000;
const scope = useTestBed({ overrides: { cluster: { observeDelayMs: 20, podReadyDelayMs: 50 } } });
/** Lets one request through untouched, so that the next fault hits the request after it. */
const pass: Fault = { kind: 'delay', ms: 0 };

const FAULTS: [string, Fault][] = [
  ['a reset', { kind: 'reset' }],
  ['a 503 with a Status body', { kind: 'status', code: 503 }],
  ['a 429 with Retry-After: 1', { kind: 'status', code: 429, retryAfterSeconds: 1 }],
  ['an HTML 502 from a proxy', { kind: 'non-json', code: 502 }],
  ['a body cut short', { kind: 'truncate' }],
  ['an answer lost after the request was carried out', { kind: 'drop-after-create' }],
];

const retried = (records: Record<string, unknown>[]) => records.filter((record) => record['message'] === 'retrying');

describe.each(FAULTS)('with %s', (_label, fault) => {
  it('on the read of an apply: created', async () => {
    scope.bed.server.inject(fault);
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ action: 'apply', name: 'web' }, TIMEOUT_MS);

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(invocation.durationMs).toBeLessThan(TIMEOUT_MS);
    expect(retried(lambda.records()).length).toBeLessThan(MAX_ATTEMPTS);
  });

  it('on the apply itself: created, even when only its answer was lost', async () => {
    scope.bed.server.inject(pass, fault);
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ action: 'apply', name: 'web' }, TIMEOUT_MS);

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created' } });
    expect([...scope.bed.server.deployments.keys()]).toEqual(['default/web']);
  });

  it('on the DELETE of a delete: deleted, even when only its answer was lost', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    scope.bed.server.inject(pass, fault);

    const invocation = await lambda.invoke({ action: 'delete', name: 'web' }, TIMEOUT_MS);

    expect(invocation).toMatchObject({ ok: true, result: { status: 'deleted' } });
    expect(scope.bed.server.deployment('default', 'web')).toBeUndefined();
  });

  it('on a poll while waiting: the rollout completes', async () => {
    scope.bed.server.inject(pass, fault);
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web', wait: true }, TIMEOUT_MS);

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created', rollout: { state: 'complete' } } });
    expect(invocation.durationMs).toBeLessThan(TIMEOUT_MS);
  });
});
