import { createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { MAX_ATTEMPTS } from '../../src/constants.js';
import { useCluster } from '../support/cluster.js';
import type { Fault } from '../support/fault-proxy.js';
import { restPath } from '../support/kube-admin.js';
import type { Invocation } from '../support/lambda.js';

// Faults at each step of a request (connect, TLS handshake, headers, body), injected while the bundled function runs
// with 3 s left: it must answer correctly after retries or with the documented errorType, always before its deadline,
// with a bounded number of retries, each one logged. HTTP faults come from the fault proxy in front of the real
// kube-apiserver; faults below HTTP from raw TCP servers of the test.
const TIMEOUT_MS = 3000;

const rawServers: { server: Server; sockets: Set<Socket> }[] = [];
const scope = useCluster({
  cleanup: () => {
    for (const { server, sockets } of rawServers) {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  },
});

/** A TCP server on 127.0.0.1 that misbehaves below TLS: it never answers, or answers in plain text. */
async function rawServer(behaviour: 'stall' | 'plaintext'): Promise<{ url: string; connections: () => number }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (behaviour === 'plaintext') socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
  });
  rawServers.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `https://127.0.0.1:${port}`, connections: () => connections };
}

async function closedPortUrl(): Promise<string> {
  const { url } = await rawServer('stall');
  const last = rawServers.pop();
  await new Promise((resolve) => last?.server.close(resolve));
  return url;
}

async function run(
  env: Record<string, string>,
): Promise<{ invocation: Invocation; retries: Record<string, unknown>[] }> {
  const lambda = await scope.environment(env);
  const invocation = await lambda.invoke({ name: 'faulty' }, TIMEOUT_MS);
  return { invocation, retries: lambda.records().filter((record) => record['message'] === 'retrying') };
}

const many = (fault: Fault, count = 20): Fault[] => Array.from({ length: count }, () => fault);

/** The Deployments stored in the test's namespace. */
const storedNames = async () =>
  (await scope.admin.list(restPath('apps/v1', 'deployments', scope.ns('default')))).map((item) => item.metadata?.name);

// Each row: the faults, the outcome, the retries logged (-1: as many as the time allowed), and whether the Deployment
// is stored afterwards: a fault after the proxy passed the request on (a delayed, lost or cut answer) comes after the
// real server acted on it.
describe.each<[string, Fault[], string, number, boolean]>([
  // step: headers
  ['a reset before the headers, once', [{ kind: 'reset' }], 'created', 1, true],
  ['slow headers, within the request timeout', [{ kind: 'delay', ms: 400 }], 'created', 0, true],
  ['a 500 with a Status body, once', [{ kind: 'status', code: 500 }], 'created', 1, true],
  ['a 502 with an HTML body (a proxy), once', [{ kind: 'html', code: 502 }], 'created', 1, true],
  [
    'a 503 then a 504',
    [
      { kind: 'status', code: 503 },
      { kind: 'status', code: 504 },
    ],
    'created',
    2,
    true,
  ],
  ['a 429 with Retry-After: 1', [{ kind: 'status', code: 429, retryAfterSeconds: 1 }], 'created', 1, true],
  ['a 429 without Retry-After', [{ kind: 'status', code: 429 }], 'created', 1, true],
  // step: body
  ['a body cut short after the create', [{ kind: 'truncate' }], 'exists', 1, true],
  ['a connection dropped after the create (a lost response)', [{ kind: 'lose-answer' }], 'exists', 1, true],
  // failures that outlast the retries
  ['resets that do not stop', many({ kind: 'reset' }), 'ClusterUnreachableError', -1, false],
  ['503s that do not stop', many({ kind: 'status', code: 503 }), 'KubernetesApiError', -1, false],
  [
    'a 429 asking for more time than is left',
    [{ kind: 'status', code: 429, retryAfterSeconds: 30 }],
    'KubernetesApiError',
    0,
    false,
  ],
  // The server created the Deployment at once; only its answer is late, past the function's deadline.
  ['headers slower than the time left', [{ kind: 'delay', ms: 10_000 }], 'ClusterUnreachableError', 0, true],
])('with %s', (_label, faults, expected, retries, stored) => {
  it(`answers ${expected} before the deadline, with bounded and logged retries`, async () => {
    scope.proxy.inject(faults);

    const { invocation, retries: logged } = await run(scope.env);

    expect(invocation.durationMs).toBeLessThan(TIMEOUT_MS);
    if (expected === 'created' || expected === 'exists') {
      expect(invocation).toMatchObject({ ok: true, result: { status: expected, name: 'faulty' } });
    } else {
      expect(invocation).toMatchObject({ ok: false, errorType: expected });
    }
    const requests = scope.proxy.requests.length;
    expect(requests).toBeLessThanOrEqual(MAX_ATTEMPTS);
    expect(logged).toHaveLength(requests - 1);
    if (retries >= 0) expect(logged).toHaveLength(retries);
    // Each request met the next fault, in order, until there were none left.
    expect(scope.proxy.requests.map((request) => request.fault)).toEqual(
      Array.from({ length: requests }, (_, index) => faults[index]?.kind),
    );
    expect(await storedNames()).toEqual(stored ? ['faulty'] : []);
  });
});

describe('faults below HTTP', () => {
  it('gives up on a refused connection with ClusterUnreachableError after bounded, logged retries', async () => {
    const { invocation, retries } = await run({ ...scope.env, CLUSTER_ENDPOINT: await closedPortUrl() });

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'ClusterUnreachableError',
      errorMessage: expect.stringContaining('ECONNREFUSED'),
    });
    expect(invocation.durationMs).toBeLessThan(TIMEOUT_MS);
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.length).toBeLessThan(MAX_ATTEMPTS);
  });

  it('times out a TLS handshake that never completes, before the deadline', async () => {
    const stall = await rawServer('stall');
    const { invocation, retries } = await run({ ...scope.env, CLUSTER_ENDPOINT: stall.url });

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterUnreachableError' });
    expect(invocation.durationMs).toBeLessThan(TIMEOUT_MS);
    expect(stall.connections()).toBe(retries.length + 1);
  });

  it('retries a server that answers without TLS, then reports ClusterUnreachableError', async () => {
    const plain = await rawServer('plaintext');
    const { invocation, retries } = await run({ ...scope.env, CLUSTER_ENDPOINT: plain.url });

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterUnreachableError' });
    expect(invocation.durationMs).toBeLessThan(TIMEOUT_MS);
    expect(plain.connections()).toBe(retries.length + 1);
    expect(plain.connections()).toBeLessThanOrEqual(MAX_ATTEMPTS);
  });
});
