import { createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { MAX_ATTEMPTS } from '../../src/constants.js';
import { useTestBed } from '../support/hooks.js';
import type { Fault } from '../support/kube-apiserver.js';
import type { Invocation } from '../support/lambda.js';

// Faults at each step of a request (connect, TLS handshake, headers, body), injected while the bundled function runs
// with 3 s left: it must answer correctly after retries or with the documented errorType, always before its deadline,
// with a bounded number of retries, each one logged.
const TIMEOUT_MS = 3000;

const rawServers: { server: Server; sockets: Set<Socket> }[] = [];
const scope = useTestBed({
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

describe.each<[string, Fault[], string, number]>([
  // step: headers
  ['a reset before the headers, once', [{ kind: 'reset' }], 'created', 1],
  ['slow headers, within the request timeout', [{ kind: 'delay', ms: 400 }], 'created', 0],
  ['a 500 with a Status body, once', [{ kind: 'status', code: 500 }], 'created', 1],
  ['a 502 with an HTML body (a proxy), once', [{ kind: 'non-json', code: 502 }], 'created', 1],
  [
    'a 503 then a 504',
    [
      { kind: 'status', code: 503 },
      { kind: 'status', code: 504 },
    ],
    'created',
    2,
  ],
  ['a 429 with Retry-After: 1', [{ kind: 'status', code: 429, retryAfterSeconds: 1 }], 'created', 1],
  ['a 429 without Retry-After', [{ kind: 'status', code: 429 }], 'created', 1],
  // step: body
  ['a body cut short after the create', [{ kind: 'truncate' }], 'exists', 1],
  ['a connection dropped after the create (a lost response)', [{ kind: 'drop-after-create' }], 'exists', 1],
  // failures that outlast the retries
  ['resets that do not stop', many({ kind: 'reset' }), 'ClusterUnreachableError', -1],
  ['503s that do not stop', many({ kind: 'status', code: 503 }), 'KubernetesApiError', -1],
  [
    'a 429 asking for more time than is left',
    [{ kind: 'status', code: 429, retryAfterSeconds: 30 }],
    'KubernetesApiError',
    0,
  ],
  ['headers slower than the time left', [{ kind: 'delay', ms: 10_000 }], 'ClusterUnreachableError', 0],
])('with %s', (_label, faults, expected, retries) => {
  it(`answers ${expected} before the deadline, with bounded and logged retries`, async () => {
    scope.bed.server.inject(...faults);

    const { invocation, retries: logged } = await run(scope.bed.env);

    expect(invocation.durationMs).toBeLessThan(TIMEOUT_MS);
    if (expected === 'created' || expected === 'exists') {
      expect(invocation).toMatchObject({ ok: true, result: { status: expected, name: 'faulty' } });
    } else {
      expect(invocation).toMatchObject({ ok: false, errorType: expected });
    }
    const requests = scope.bed.server.requests.length;
    expect(requests).toBeLessThanOrEqual(MAX_ATTEMPTS);
    expect(logged).toHaveLength(requests - 1);
    if (retries >= 0) expect(logged).toHaveLength(retries);
    expect(scope.bed.server.deployments.size).toBe(expected === 'created' || expected === 'exists' ? 1 : 0);
  });
});

describe('faults below HTTP', () => {
  it('gives up on a refused connection with ClusterUnreachableError after bounded, logged retries', async () => {
    const { invocation, retries } = await run({ ...scope.bed.env, CLUSTER_ENDPOINT: await closedPortUrl() });

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
    const { invocation, retries } = await run({ ...scope.bed.env, CLUSTER_ENDPOINT: stall.url });

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterUnreachableError' });
    expect(invocation.durationMs).toBeLessThan(TIMEOUT_MS);
    expect(stall.connections()).toBe(retries.length + 1);
  });

  it('retries a server that answers without TLS, then reports ClusterUnreachableError', async () => {
    const plain = await rawServer('plaintext');
    const { invocation, retries } = await run({ ...scope.bed.env, CLUSTER_ENDPOINT: plain.url });

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterUnreachableError' });
    expect(invocation.durationMs).toBeLessThan(TIMEOUT_MS);
    expect(plain.connections()).toBe(retries.length + 1);
    expect(plain.connections()).toBeLessThanOrEqual(MAX_ATTEMPTS);
  });
});
