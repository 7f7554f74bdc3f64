import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { useCluster } from '../support/cluster.js';
import { functionEnv, ROTATED_IDENTITY } from '../support/fixture.js';
import { invokeInProcess } from '../support/in-process.js';
import { recordSecrets } from '../support/run-record.js';

// The function's clock is jest's (only Date is faked: timers and sockets run as usual); the API server's is the real
// one, which its token webhook reads to judge a token's age. Setting the function's clock away from real time makes
// the two disagree as a skewed or slow clock would. kube-apiserver remembers a token it accepted for 10 s
// (k8s.io/kubernetes pkg/kubeapiserver/options/authentication.go, TokenSuccessCacheTTL) and judges it again only after
// that, so a test that needs a refusal of a token the server once accepted waits that long first.
const scope = useCluster();
const minutes = (n: number): number => n * 60_000;
const seconds = (n: number): number => n * 1000;
const SUCCESS_CACHE_WAIT_MS = 10_500;

/** The server's clock: real time, whatever the function's (faked) Date says. */
const serverNow = (): number => jest.getRealSystemTime();

function tokens(): (string | undefined)[] {
  return scope.proxy.requests.map((request) => request.authorization);
}

/** The access key a token was signed with (the first part of its X-Amz-Credential). */
function signingKeyOf(authorization: string | undefined): string | undefined {
  const encoded = authorization?.replace(/^Bearer k8s-aws-v1\./, '') ?? '';
  const url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  return url.searchParams.get('X-Amz-Credential')?.split('/')[0];
}

async function invokeAt(clientTime: number, event: unknown, env = scope.env) {
  jest.setSystemTime(clientTime);
  const invocation = await invokeInProcess(event, env);
  // The fault proxy records the tokens it sees for the secret scan, but while an in-process invocation runs,
  // process.env is the function's and the record's folder unknown: record them here, once it is back.
  recordSecrets(...tokens().flatMap((authorization) => (authorization ? [authorization.slice('Bearer '.length)] : [])));
  return invocation;
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeEach(() => {
  jest.useFakeTimers({
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('the token across warm invocations', () => {
  it('is reused within its window', async () => {
    // The function's clock is 12 minutes behind at first, then right: its token is 12 minutes old at the server.
    const first = await invokeAt(serverNow() - minutes(12), { name: 'a' });
    const later = await invokeAt(serverNow(), { name: 'b' });

    expect(first).toMatchObject({ ok: true, result: { status: 'created', name: 'a' } });
    expect(later).toMatchObject({ ok: true, result: { status: 'created', name: 'b' } });
    expect(new Set(tokens()).size).toBe(1);
  });

  it('is minted anew before it is 14 minutes old', async () => {
    const first = await invokeAt(serverNow() - minutes(13), { name: 'a' });
    const later = await invokeAt(serverNow(), { name: 'b' });

    expect(first).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(later).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(new Set(tokens()).size).toBe(2);
  });

  it('is minted anew when Lambda rotates the credentials', async () => {
    const rotatedEnv = {
      ...functionEnv(scope.proxy.url, scope.info.pki.caData, ROTATED_IDENTITY),
      NAMESPACE: scope.ns('default'),
    };
    const start = serverNow();
    const first = await invokeAt(start, { name: 'a' });

    const rotated = await invokeAt(start + 1000, { name: 'b' }, rotatedEnv);

    expect(first).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(rotated).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(new Set(tokens()).size).toBe(2);
    expect(signingKeyOf(tokens()[1])).toBe(ROTATED_IDENTITY.accessKeyId);
  });

  it('is minted once more, and the request retried, when the cluster says the cached token expired', async () => {
    // Minted 14 min 55 s before the server's now, so accepted; the function's clock then moves 12 minutes while the
    // server's moves more than 10 s: the function still trusts its cached token, which the server finds 15 minutes
    // and a bit old.
    const mintedAt = serverNow() - minutes(15) + seconds(5);
    const first = await invokeAt(mintedAt, { name: 'a' });
    await wait(SUCCESS_CACHE_WAIT_MS);

    const invocation = await invokeAt(mintedAt + minutes(12), { name: 'b' });

    expect(first).toMatchObject({ ok: true, result: { status: 'created', name: 'a' } });
    expect(invocation).toMatchObject({ ok: true, result: { status: 'created', name: 'b' } });
    expect(scope.proxy.requests.map((request) => request.status)).toEqual([201, 401, 201]);
    const [accepted, refused, retried] = tokens();
    expect(refused).toBe(accepted);
    expect(retried).not.toBe(refused);
    expect(
      invocation.logs.filter((record) => record['message'] === 'cached token rejected; minting a fresh one'),
    ).toHaveLength(1);
  }, 30_000);

  it('fails with ClusterAuthenticationError after that one retry when the fresh token is refused too', async () => {
    // The function's clock is slow: it moves 1 s while the server's moves more than 10 s, so both the cached token
    // and the one minted after the refusal are more than 15 minutes old at the server.
    const mintedAt = serverNow() - minutes(15) + seconds(5);
    const first = await invokeAt(mintedAt, { name: 'a' });
    await wait(SUCCESS_CACHE_WAIT_MS);

    const invocation = await invokeAt(mintedAt + seconds(1), { name: 'b' });

    expect(first).toMatchObject({ ok: true, result: { status: 'created', name: 'a' } });
    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterAuthenticationError' });
    expect(scope.proxy.requests.map((request) => request.status)).toEqual([201, 401, 401]);
    const [, refused, fresh] = tokens();
    expect(fresh).not.toBe(refused);
  }, 30_000);
});
