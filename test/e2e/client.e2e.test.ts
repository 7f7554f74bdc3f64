import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request as httpsRequest } from 'node:https';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mintEksToken } from '../../src/aws/token.js';
import { buildDeployment } from '../../src/deployment/build.js';
import { createDeployment, type KubeCall, type V1Deployment } from '../../src/kube/client.js';
import { useCluster } from '../support/cluster.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { CLUSTER_NAME, FUNCTION_IDENTITY, REGION } from '../support/fixture.js';
import { restPath } from '../support/kube-admin.js';
import { recordSecrets } from '../support/run-record.js';

// The function's HTTP client against the real kube-apiserver, through the file's fault proxy: what it sends, and how
// it reads the server's answers and the failures only a proxy or a network makes (429, a body cut short, no answer,
// a certificate the cluster CA does not vouch for).
const impostors: FaultProxy[] = [];
const truncators: { stop(): Promise<void> }[] = [];
const scope = useCluster({
  namespaces: {},
  cleanup: () => Promise.all([...impostors, ...truncators].map((proxy) => proxy.stop())).then(() => undefined),
});
let call: KubeCall;
const deploymentOf = (name: string, replicas = 2, image = 'nginx:1.30.0'): V1Deployment =>
  buildDeployment({ name, namespace: scope.ns('default'), replicas, image });
const create = (target: KubeCall = call, deployment: V1Deployment = deploymentOf('kube-test')) =>
  createDeployment(target, { namespace: scope.ns('default'), body: deployment, dryRun: false });
const stored = (name: string) => scope.admin.get(restPath('apps/v1', 'deployments', scope.ns('default'), name));

beforeEach(async () => {
  const token = await mintEksToken({
    credentials: {
      accessKeyId: FUNCTION_IDENTITY.accessKeyId,
      secretAccessKey: FUNCTION_IDENTITY.secretAccessKey,
      sessionToken: FUNCTION_IDENTITY.sessionToken ?? '',
    },
    region: REGION,
    clusterName: CLUSTER_NAME,
    signingDate: new Date(),
  });
  recordSecrets(token);
  call = { cluster: { endpoint: scope.proxy.url, caPem: scope.info.pki.ca.cert }, token, timeoutMs: 2000 };
});

async function impostor(which: 'otherCaServer' | 'wrongHostServer' | 'expiredServer'): Promise<FaultProxy> {
  const proxy = new FaultProxy(scope.info.endpoint, scope.info.pki.ca.cert, scope.info.pki[which]);
  impostors.push(proxy);
  await proxy.start();
  return proxy;
}

/** A forwarder to the real server that passes on its status, headers and the first half of its body, and closes the
 * connection once that half has been written. The fault proxy's own `truncate` closes the socket in the same tick as
 * it writes the half body, before TLS has flushed it, so the client sees a reset (ECONNRESET, no answer at all) and
 * never a body cut short. */
async function truncatingForwarder(): Promise<{ url: string; statuses: number[] }> {
  const { endpoint, pki } = scope.info;
  const statuses: number[] = [];
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    const upstream = httpsRequest(
      new URL(req.url ?? '/', endpoint),
      { method: req.method ?? 'GET', headers, ca: pki.ca.cert, agent: false },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const payload = Buffer.concat(chunks);
          statuses.push(answer.statusCode ?? 0);
          const { connection: _connection, 'transfer-encoding': _encoding, ...kept } = answer.headers;
          res.writeHead(answer.statusCode ?? 502, { ...kept, 'content-length': String(payload.length) });
          res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => req.socket.destroy());
        });
      },
    );
    upstream.on('error', () => req.socket.destroy());
    upstream.end(body);
  };
  const server = createServer({ key: pki.server.key, cert: pki.server.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => forward(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  truncators.push({
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the truncating forwarder is not listening');
  return { url: `https://127.0.0.1:${address.port}`, statuses };
}

describe('createDeployment', () => {
  it('returns the uid the server assigned', async () => {
    const outcome = await create();

    const saved = await stored('kube-test');
    expect(saved?.metadata?.uid).toEqual(expect.any(String));
    expect(outcome).toMatchObject({ kind: 'ok', httpStatus: 201, body: { metadata: { uid: saved?.metadata?.uid } } });
    expect(scope.proxy.requests).toHaveLength(1);
    const [request] = scope.proxy.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: `/apis/apps/v1/namespaces/${scope.ns('default')}/deployments`,
      contentType: 'application/json',
      authorization: `Bearer ${call.token}`,
    });
    expect(request?.query.getAll('fieldManager')).toEqual(['lambda-eks']);
    expect(request?.query.has('dryRun')).toBe(false);
  });

  it('reports the Status reason and message of a rejection', async () => {
    await create();

    const outcome = await create();

    expect(outcome).toEqual({
      kind: 'rejected',
      httpStatus: 409,
      status: { reason: 'AlreadyExists', message: 'deployments.apps "kube-test" already exists', causes: [] },
      retryAfterMs: undefined,
    });
  });

  it('reads Retry-After in seconds', async () => {
    scope.proxy.inject([{ kind: 'status', code: 429, retryAfterSeconds: 3 }]);

    const outcome = await create();

    expect(outcome).toMatchObject({ kind: 'rejected', httpStatus: 429, retryAfterMs: 3000 });
  });

  it('reports a body cut short as a transport failure, not as a parsed answer', async () => {
    const forwarder = await truncatingForwarder();

    const outcome = await create({ ...call, cluster: { ...call.cluster, endpoint: forwarder.url } });

    expect(outcome).toMatchObject({ kind: 'unreachable', code: 'ERR_INCOMPLETE_RESPONSE', tlsTrust: false });
    // The server did act: only its answer was cut.
    expect(forwarder.statuses).toEqual([201]);
    expect(await stored('kube-test')).toBeDefined();
  });

  it('reports a refused connection with its code', async () => {
    const outcome = await create({ ...call, cluster: { ...call.cluster, endpoint: 'https://127.0.0.1:9' } });

    expect(outcome).toMatchObject({ kind: 'unreachable', code: 'ECONNREFUSED', tlsTrust: false });
  });

  it('reports a timeout when no answer comes in time', async () => {
    scope.proxy.inject([{ kind: 'delay', ms: 5000 }]);

    const outcome = await create({ ...call, timeoutMs: 300 });

    expect(outcome).toMatchObject({ kind: 'unreachable', code: 'ETIMEDOUT' });
  });

  it.each([
    ['another CA', 'otherCaServer', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['another host name', 'wrongHostServer', 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['an expired certificate', 'expiredServer', 'CERT_HAS_EXPIRED'],
  ] as const)('reports %s as a TLS trust failure', async (_label, which, code) => {
    const proxy = await impostor(which);

    const outcome = await create({ ...call, cluster: { ...call.cluster, endpoint: proxy.url } });

    expect(outcome).toMatchObject({ kind: 'unreachable', code, tlsTrust: true });
    expect(proxy.requests).toHaveLength(0);
    expect(proxy.handshakes).toBe(0);
  });

  it('reuses one TLS connection across calls', async () => {
    for (const name of ['a', 'b', 'c']) {
      await create(call, deploymentOf(name, 1, 'nginx'));
    }

    const list = await scope.admin.list(restPath('apps/v1', 'deployments', scope.ns('default')));
    expect(list.map((item) => item.metadata?.name).sort()).toEqual(['a', 'b', 'c']);
    expect(scope.proxy.requests.map((request) => request.status)).toEqual([201, 201, 201]);
    expect(scope.proxy.handshakes).toBe(1);
  });
});
