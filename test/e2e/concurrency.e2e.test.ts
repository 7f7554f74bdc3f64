import { describe, expect, it } from '@jest/globals';
import { useCluster } from '../support/cluster.js';
import { restPath } from '../support/kube-admin.js';
import type { Invocation } from '../support/lambda.js';

// Twenty invocations for the same Deployment at once against the real kube-apiserver: exactly one creates it, the
// others find it. Twenty execution environments starting at once take a while on a small machine: those tests get a
// minute.
const CONCURRENT = 20;

const scope = useCluster();

function statuses(invocations: Invocation[]): string[] {
  return invocations
    .map((invocation) => (invocation.ok ? String(invocation.result['status']) : invocation.errorType))
    .sort();
}

/** The names of the Deployments stored in the test's namespace, and the uid of each. */
async function stored(): Promise<{ names: (string | undefined)[]; uids: (string | undefined)[] }> {
  const items = await scope.admin.list(restPath('apps/v1', 'deployments', scope.ns('default')));
  return { names: items.map((item) => item.metadata?.name), uids: items.map((item) => item.metadata?.uid) };
}

const expected = ['created', ...Array.from({ length: CONCURRENT - 1 }, () => 'exists')].sort();

describe(`${CONCURRENT} concurrent invocations for one Deployment`, () => {
  it('in one process: one created, the rest exists, one object stored', async () => {
    const lambda = await scope.environment();

    const invocations = await Promise.all(
      Array.from({ length: CONCURRENT }, () => lambda.invoke({ name: 'shared' }, 10_000)),
    );

    expect(statuses(invocations)).toEqual(expected);
    const { names, uids } = await stored();
    expect(names).toEqual(['shared']);
    expect(invocations.find((invocation) => invocation.ok && invocation.result['status'] === 'created')).toMatchObject({
      result: { uid: uids[0] },
    });
  });

  it('in separate execution environments: one created, the rest exists, one object stored', async () => {
    const environments = await Promise.all(Array.from({ length: CONCURRENT }, () => scope.environment()));

    const invocations = await Promise.all(environments.map((lambda) => lambda.invoke({ name: 'shared' }, 20_000)));

    expect(statuses(invocations)).toEqual(expected);
    expect((await stored()).names).toEqual(['shared']);
    expect(scope.proxy.handshakes).toBe(CONCURRENT);
    // One POST each: the 19 AlreadyExists answers are not retried.
    expect(scope.proxy.requests.map((request) => `${request.method} ${request.status}`).sort()).toEqual(
      ['POST 201', ...Array.from({ length: CONCURRENT - 1 }, () => 'POST 409')].sort(),
    );
  }, 60_000);

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
    expect((await stored()).names).toEqual(['shared']);
    // The server answered 201 to exactly one server-side apply: the one that created the object.
    expect(scope.proxy.requests.filter((request) => request.method === 'PATCH' && request.status === 201)).toHaveLength(
      1,
    );
  }, 60_000);
});
