import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { describeCluster } from '../../src/aws/describe-cluster.js';
import { CLUSTER_NAME, SESSION_TOKEN, startTestBed, type TestBed } from '../support/fixture.js';
import { LambdaEnvironment } from '../support/lambda.js';
import { Moto, MOTO_CREDENTIALS } from '../support/moto.js';
import { TcpProxy } from '../support/tcp-proxy.js';

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

  it('describes the cluster again when the cached CA no longer matches it (the cluster was recreated)', async () => {
    const [before, after] = await Promise.all([startTestBed(), startTestBed()]);
    const proxy = new TcpProxy(Number(new URL(before.server.url).port));
    const endpoint = await proxy.start();
    try {
      await moto.recreateCluster(CLUSTER_NAME, { endpoint, caData: before.pki.caData });
      const lambda = await environment(discoveryEnv());
      const first = await lambda.invoke({ name: 'before' });
      // Same address, new cluster behind it: its certificate comes from another CA.
      proxy.retarget(Number(new URL(after.server.url).port));
      await moto.recreateCluster(CLUSTER_NAME, { endpoint, caData: after.pki.caData });

      const second = await lambda.invoke({ name: 'after' });

      expect(first).toMatchObject({ ok: true, result: { status: 'created' } });
      expect(second).toMatchObject({ ok: true, result: { status: 'created' } });
      expect([...after.server.deployments.keys()]).toEqual(['default/after']);
    } finally {
      await moto.recreateCluster(CLUSTER_NAME, { endpoint: bed.server.url, caData: bed.pki.caData });
      await Promise.all([proxy.stop(), before.server.stop(), after.server.stop()]);
    }
  });

  it("never quotes a signature error's canonical request, which holds the session token", async () => {
    // An EKS endpoint answering as AWS does when a signature does not match: the message quotes the canonical request
    // the service expected, X-Amz-Security-Token included.
    const eks = createServer((req, res) => {
      const message =
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret ' +
        'Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for ' +
        `this request should have been\n'GET\n/clusters/${CLUSTER_NAME}\n\nhost:${req.headers.host ?? ''}\n` +
        `x-amz-security-token:${SESSION_TOKEN}\n'`;
      res.writeHead(403, { 'Content-Type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException' });
      res.end(JSON.stringify({ message }));
    });
    await new Promise<void>((resolve) => eks.listen(0, '127.0.0.1', resolve));
    const address = eks.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const lambda = await environment(discoveryEnv({ AWS_ENDPOINT_URL_EKS: `http://127.0.0.1:${port}` }));

      const invocation = await lambda.invoke({});

      expect(invocation).toMatchObject({
        ok: false,
        errorType: 'ConfigurationError',
        errorMessage: expect.stringContaining('InvalidSignatureException'),
      });
      expect(JSON.stringify(invocation)).not.toContain(SESSION_TOKEN);
      expect(lambda.logs.join('\n')).not.toContain(SESSION_TOKEN);
    } finally {
      await new Promise((resolve) => eks.close(resolve));
    }
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
