import { describe, expect, it } from '@jest/globals';
import { useTestBed } from '../support/hooks.js';
import type { Invocation } from '../support/lambda.js';

// Twenty invocations for the same Deployment at once: exactly one creates it, the others find it.
const CONCURRENT = 20;

const scope = useTestBed({ overrides: { cluster: { observeDelayMs: 20, podReadyDelayMs: 50 } } });

function statuses(invocations: Invocation[]): string[] {
  return invocations
    .map((invocation) => (invocation.ok ? String(invocation.result['status']) : invocation.errorType))
    .sort();
}

const expected = ['created', ...Array.from({ length: CONCURRENT - 1 }, () => 'exists')].sort();

describe(`${CONCURRENT} concurrent invocations for one Deployment`, () => {
  it('in one process: one created, the rest exists, one object stored', async () => {
    const lambda = await scope.environment();

    const invocations = await Promise.all(
      Array.from({ length: CONCURRENT }, () => lambda.invoke({ name: 'shared' }, 10_000)),
    );

    expect(statuses(invocations)).toEqual(expected);
    expect([...scope.bed.server.deployments.keys()]).toEqual(['default/shared']);
  });

  it('in separate execution environments: one created, the rest exists, one object stored', async () => {
    const environments = await Promise.all(Array.from({ length: CONCURRENT }, () => scope.environment()));

    const invocations = await Promise.all(environments.map((lambda) => lambda.invoke({ name: 'shared' }, 20_000)));

    expect(statuses(invocations)).toEqual(expected);
    expect([...scope.bed.server.deployments.keys()]).toEqual(['default/shared']);
    expect(scope.bed.server.handshakes).toBe(CONCURRENT);
  });

  it('applied with the same spec in separate environments: one created, the rest unchanged or configured', async () => {
    const environments = await Promise.all(Array.from({ length: CONCURRENT }, () => scope.environment()));

    const invocations = await Promise.all(
      environments.map((lambda) => lambda.invoke({ action: 'apply', name: 'shared', replicas: 3 }, 20_000)),
    );

    const outcomes = statuses(invocations);
    expect(outcomes.filter((status) => status === 'created')).toHaveLength(1);
    expect(
      outcomes.filter((status) => status !== 'created').every((status) => ['unchanged', 'configured'].includes(status)),
    ).toBe(true);
    expect([...scope.bed.server.deployments.keys()]).toEqual(['default/shared']);
  });
});
