import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { describeCluster } from '../../src/aws/describe-cluster.js';
import { CLUSTER_NAME, startTestBed, type TestBed } from '../support/fixture.js';
import { LambdaEnvironment } from '../support/lambda.js';
import { Moto, MOTO_CREDENTIALS } from '../support/moto.js';

// Without CLUSTER_ENDPOINT and CLUSTER_CA_DATA the function asks EKS DescribeCluster; here EKS is moto, reached
// through the SDK's standard AWS_ENDPOINT_URL_EKS, and the cluster it describes is the local stand-in.
let bed: TestBed;
let moto: Moto;
const environments: LambdaEnvironment[] = [];

function discoveryEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const { CLUSTER_ENDPOINT: _endpoint, CLUSTER_CA_DATA: _ca, ...env } = bed.env;
  return {
    ...env,
    AWS_ENDPOINT_URL_EKS: moto.url,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    ...overrides,
  };
}

async function environment(env: Record<string, string>): Promise<LambdaEnvironment> {
  const started = await LambdaEnvironment.start(env);
  environments.push(started);
  return started;
}

beforeAll(async () => {
  bed = await startTestBed();
  moto = await Moto.start({ endpoint: bed.server.url, caData: bed.pki.caData });
  await moto.createCluster(CLUSTER_NAME);
  await moto.createCluster('raw-random-ca');
});

afterEach(async () => {
  await Promise.all(environments.splice(0).map((lambda) => lambda.stop()));
  bed.server.reset();
});

afterAll(async () => {
  await moto.stop();
  await bed.server.stop();
});

describe('describeCluster against moto', () => {
  it('returns the endpoint and CA that the AWS CLI reads for the same cluster', async () => {
    const previous = { ...process.env };
    Object.assign(process.env, MOTO_CREDENTIALS, {
      AWS_ENDPOINT_URL_EKS: moto.url,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    });
    try {
      const described = await describeCluster('raw-random-ca', 'us-west-2', 10_000);
      const cli = await moto.aws('eks', 'describe-cluster', '--name', 'raw-random-ca');
      expect(cli).toMatchObject({
        cluster: {
          endpoint: described.endpoint,
          certificateAuthority: { data: described.caData },
          status: described.status,
        },
      });
    } finally {
      process.env = previous;
    }
  });
});

describe('the bundled handler without CLUSTER_ENDPOINT', () => {
  it('names CLUSTER_NAME when EKS has no such cluster', async () => {
    const lambda = await environment(discoveryEnv({ CLUSTER_NAME: 'no-such-cluster' }));

    const invocation = await lambda.invoke({});

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'ConfigurationError',
      errorMessage: expect.stringMatching(/^CLUSTER_NAME: .*no-such-cluster/),
    });
    expect(bed.server.requests).toHaveLength(0);
  });

  it('refuses a CA that is not a certificate, and says how to bypass DescribeCluster', async () => {
    const lambda = await environment(discoveryEnv({ CLUSTER_NAME: 'raw-random-ca' }));

    const invocation = await lambda.invoke({});

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'ConfigurationError',
      errorMessage: expect.stringContaining('CLUSTER_CA_DATA'),
    });
  });

  it('reports ClusterUnreachableError when EKS cannot be reached', async () => {
    const lambda = await environment(discoveryEnv({ AWS_ENDPOINT_URL_EKS: 'http://127.0.0.1:9' }));

    const invocation = await lambda.invoke({}, 3000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterUnreachableError' });
  });

  // Last: it stops moto.
  it('discovers the cluster once and keeps using it while EKS is down', async () => {
    const lambda = await environment(discoveryEnv());

    const first = await lambda.invoke({ name: 'discovered' });
    await moto.stop();
    const second = await lambda.invoke({ name: 'discovered-again' });

    expect(first).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(second).toMatchObject({ ok: true, result: { status: 'created' } });
  });
});
