import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestBed, type TestBed } from '../support/fixture.js';
import { LambdaEnvironment, type Invocation } from '../support/lambda.js';

// Twenty invocations for the same Deployment at once: exactly one creates it, the others find it.
const CONCURRENT = 20;

let bed: TestBed;
const environments: LambdaEnvironment[] = [];

function statuses(invocations: Invocation[]): string[] {
  return invocations
    .map((invocation) => (invocation.ok ? String(invocation.result['status']) : invocation.errorType))
    .sort();
}

const expected = ['created', ...Array.from({ length: CONCURRENT - 1 }, () => 'exists')].sort();

beforeAll(async () => {
  bed = await startTestBed();
});

afterEach(async () => {
  await Promise.all(environments.splice(0).map((lambda) => lambda.stop()));
  bed.server.reset();
});

afterAll(async () => {
  await bed.server.stop();
});

describe(`${CONCURRENT} concurrent invocations for one Deployment`, () => {
  it('in one process: one created, the rest exists, one object stored', async () => {
    const lambda = await LambdaEnvironment.start(bed.env);
    environments.push(lambda);

    const invocations = await Promise.all(
      Array.from({ length: CONCURRENT }, () => lambda.invoke({ name: 'shared' }, 10_000)),
    );

    expect(statuses(invocations)).toEqual(expected);
    expect([...bed.server.deployments.keys()]).toEqual(['default/shared']);
  });

  it('in separate execution environments: one created, the rest exists, one object stored', async () => {
    environments.push(
      ...(await Promise.all(Array.from({ length: CONCURRENT }, () => LambdaEnvironment.start(bed.env)))),
    );

    const invocations = await Promise.all(environments.map((lambda) => lambda.invoke({ name: 'shared' }, 20_000)));

    expect(statuses(invocations)).toEqual(expected);
    expect([...bed.server.deployments.keys()]).toEqual(['default/shared']);
    expect(bed.server.handshakes).toBe(CONCURRENT);
  });
});
