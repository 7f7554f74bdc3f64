import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { buildDeployment } from '../../../src/deployment.js';
import { createDeployment, type KubeCall } from '../../../src/kube/client.js';
import type { V1Deployment } from '../../../src/kube/client.js';
import { resetWarmState } from '../../../src/state.js';
import { mintEksToken } from '../../../src/aws/token.js';
import {
  ACCESS_KEY_ID,
  CLUSTER_NAME,
  SECRET_ACCESS_KEY,
  SESSION_TOKEN,
  startTestBed,
  type TestBed,
} from '../../support/fixture.js';
import { KubeApiStandIn } from '../../support/kube-apiserver.js';

let bed: TestBed;
let call: KubeCall;
let body: V1Deployment;
const create = (target: KubeCall = call, deployment: V1Deployment = body) =>
  createDeployment(target, { namespace: 'default', body: deployment, dryRun: false });
const extraServers: KubeApiStandIn[] = [];

beforeAll(async () => {
  bed = await startTestBed();
  const token = await mintEksToken({
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SESSION_TOKEN },
    region: 'us-west-2',
    clusterName: CLUSTER_NAME,
    signingDate: new Date(),
  });
  call = { cluster: { endpoint: bed.server.url, caPem: bed.pki.ca.cert }, token, timeoutMs: 2000 };
  body = buildDeployment({ name: 'kube-test', namespace: 'default', replicas: 2, image: 'nginx:1.30.0' });
});

beforeEach(() => {
  resetWarmState();
  bed.server.reset();
});

afterAll(async () => {
  resetWarmState();
  await bed.server.stop();
  await Promise.all(extraServers.map((server) => server.stop()));
});

async function serverWith(tls: TestBed['pki']['server']): Promise<string> {
  const server = new KubeApiStandIn({ tls, clusterName: CLUSTER_NAME, identities: {}, namespaces: [] });
  extraServers.push(server);
  return server.start();
}

describe('createDeployment', () => {
  it('returns the uid the server assigned', async () => {
    const outcome = await create();
    expect(outcome).toMatchObject({
      kind: 'ok',
      httpStatus: 201,
      body: { metadata: { uid: bed.server.deployments.get('default/kube-test')?.metadata['uid'] } },
    });
  });

  it('reports the Status reason and message of a rejection', async () => {
    await create();
    expect(await create()).toEqual({
      kind: 'rejected',
      httpStatus: 409,
      status: { reason: 'AlreadyExists', message: 'deployments.apps "kube-test" already exists', causes: [] },
      retryAfterMs: undefined,
    });
  });

  it('reads Retry-After in seconds', async () => {
    bed.server.inject({ kind: 'status', code: 429, retryAfterSeconds: 3 });
    expect(await create()).toMatchObject({ kind: 'rejected', httpStatus: 429, retryAfterMs: 3000 });
  });

  it('reports a body cut short as a transport failure, not as a parsed answer', async () => {
    bed.server.inject({ kind: 'truncate' });
    expect(await create()).toMatchObject({
      kind: 'unreachable',
      code: 'ERR_INCOMPLETE_RESPONSE',
      tlsTrust: false,
    });
  });

  it('reports a refused connection with its code', async () => {
    const outcome = await create({ ...call, cluster: { ...call.cluster, endpoint: 'https://127.0.0.1:9' } });
    expect(outcome).toMatchObject({ kind: 'unreachable', code: 'ECONNREFUSED', tlsTrust: false });
  });

  it('reports a timeout when no answer comes in time', async () => {
    bed.server.inject({ kind: 'delay', ms: 5000 });
    expect(await create({ ...call, timeoutMs: 300 })).toMatchObject({
      kind: 'unreachable',
      code: 'ETIMEDOUT',
    });
  });

  it.each([
    ['another CA', 'otherCaServer'],
    ['another host name', 'wrongHostServer'],
    ['an expired certificate', 'expiredServer'],
  ] as const)('reports %s as a TLS trust failure', async (_label, which) => {
    const endpoint = await serverWith(bed.pki[which]);
    const outcome = await create({ ...call, cluster: { ...call.cluster, endpoint } });
    expect(outcome).toMatchObject({ kind: 'unreachable', tlsTrust: true });
  });

  it('reuses one TLS connection across calls', async () => {
    for (const name of ['a', 'b', 'c']) {
      await create(call, buildDeployment({ name, namespace: 'default', replicas: 1, image: 'nginx' }));
    }
    expect(bed.server.deployments.size).toBe(3);
    expect(bed.server.handshakes).toBe(1);
  });
});
