import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeCluster } from '../../src/aws/describe-cluster.js';
import { useCluster } from '../support/cluster.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { CLUSTER_NAME, SESSION_TOKEN } from '../support/fixture.js';
import { restPath } from '../support/kube-admin.js';
import { Moto, MOTO_CREDENTIALS } from '../support/moto.js';
import { makeTestPki } from '../support/pki.js';
import { TcpProxy } from '../support/tcp-proxy.js';

// Without CLUSTER_ENDPOINT and CLUSTER_CA_DATA the function asks EKS DescribeCluster; here EKS is moto, reached
// through the SDK's standard AWS_ENDPOINT_URL_EKS, and the cluster it describes is the real control plane: its CA, and
// as its endpoint the file's fault proxy, which serves the cluster's own certificate and records what reaches it.
const scope = useCluster();
let moto: Moto;

function discoveryEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const { CLUSTER_ENDPOINT: _endpoint, CLUSTER_CA_DATA: _ca, ...env } = scope.env;
  return {
    ...env,
    AWS_ENDPOINT_URL_EKS: moto.url,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    ...overrides,
  };
}

const deploymentNames = async (): Promise<string[]> =>
  (await scope.admin.list(restPath('apps/v1', 'deployments', scope.ns('default'))))
    .map((object) => object.metadata?.name ?? '')
    .sort();

beforeAll(async () => {
  moto = await Moto.start({ endpoint: scope.proxy.url, caData: scope.info.pki.caData });
  await moto.createCluster(CLUSTER_NAME);
  await moto.createCluster('raw-random-ca');
});

afterAll(async () => {
  await moto.stop();
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
    const lambda = await scope.environment(discoveryEnv({ CLUSTER_NAME: 'no-such-cluster' }));

    const invocation = await lambda.invoke({});

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'ConfigurationError',
      errorMessage: expect.stringMatching(/^CLUSTER_NAME: .*no-such-cluster/),
    });
    expect(scope.proxy.requests).toHaveLength(0);
  });

  it('refuses a CA that is not a certificate, and says how to bypass DescribeCluster', async () => {
    const lambda = await scope.environment(discoveryEnv({ CLUSTER_NAME: 'raw-random-ca' }));

    const invocation = await lambda.invoke({});

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'ConfigurationError',
      errorMessage: expect.stringContaining('CLUSTER_CA_DATA'),
    });
  });

  it('reports ClusterUnreachableError when EKS cannot be reached', async () => {
    const lambda = await scope.environment(discoveryEnv({ AWS_ENDPOINT_URL_EKS: 'http://127.0.0.1:9' }));

    const invocation = await lambda.invoke({}, 3000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterUnreachableError' });
  });

  it('describes the cluster again when the cached CA no longer matches it (the cluster was recreated)', async () => {
    // The same address before and after: a TCP proxy, first to the file's fault proxy (the cluster's CA), then to a
    // proxy whose certificate comes from a new CA, as a recreated cluster's would. Both reach the one real server, so
    // what tells the two clusters apart is which proxy each request went through. Six AWS CLI runs (delete and create,
    // three times) take most of its time: each starts Python, seconds on a busy host.
    const recreatedPki = makeTestPki();
    const recreated = new FaultProxy(scope.info.endpoint, scope.info.pki.ca.cert, recreatedPki.server);
    const recreatedPort = Number(new URL(await recreated.start()).port);
    const address = new TcpProxy(Number(new URL(scope.proxy.url).port));
    const endpoint = await address.start();
    try {
      await moto.recreateCluster(CLUSTER_NAME, { endpoint, caData: scope.info.pki.caData });
      const lambda = await scope.environment(discoveryEnv());
      const first = await lambda.invoke({ name: 'before' });
      address.retarget(recreatedPort);
      await moto.recreateCluster(CLUSTER_NAME, { endpoint, caData: recreatedPki.caData });

      const second = await lambda.invoke({ name: 'after' });

      expect(first).toMatchObject({ ok: true, result: { status: 'created' } });
      expect(second).toMatchObject({ ok: true, result: { status: 'created' } });
      const seen = (proxy: FaultProxy) =>
        proxy.requests.map((request) => [request.method, request.body, request.status]);
      expect(seen(scope.proxy)).toEqual([['POST', expect.stringContaining('"name":"before"'), 201]]);
      expect(seen(recreated)).toEqual([['POST', expect.stringContaining('"name":"after"'), 201]]);
      expect(await deploymentNames()).toEqual(['after', 'before']);
    } finally {
      await moto.recreateCluster(CLUSTER_NAME, { endpoint: scope.proxy.url, caData: scope.info.pki.caData });
      await Promise.all([address.stop(), recreated.stop()]);
    }
  }, 90_000);

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
      const lambda = await scope.environment(discoveryEnv({ AWS_ENDPOINT_URL_EKS: `http://127.0.0.1:${port}` }));

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
    const lambda = await scope.environment(discoveryEnv());

    const first = await lambda.invoke({ name: 'discovered' });
    await moto.stop();
    const second = await lambda.invoke({ name: 'discovered-again' });

    expect(first).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(second).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(await deploymentNames()).toEqual(['discovered', 'discovered-again']);
  });
});
