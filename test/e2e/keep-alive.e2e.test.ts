import { describe, expect, it } from '@jest/globals';
import { sleep } from '../../src/retry.js';
import { useCluster } from '../support/cluster.js';
import { restPath } from '../support/kube-admin.js';
import { TcpProxy, type IdleBehaviour } from '../support/tcp-proxy.js';

// A Lambda environment is frozen between invocations, for seconds or minutes, while the network goes on: the API
// server closes idle connections after 90 s, and a NAT or load balancer may reset or silently drop an idle flow. The
// function sits behind a TCP proxy that does that to connections idle for more than IDLE_MS. Behind the TCP proxy is
// the file's fault proxy (which injects nothing here) and then the real kube-apiserver: TLS passes through the TCP
// proxy untouched and ends at the fault proxy, which counts the handshakes and sees each request that got through.
const IDLE_MS = 300;
const proxies: TcpProxy[] = [];
const scope = useCluster({
  cleanup: () => Promise.all(proxies.splice(0).map((proxy) => proxy.stop())).then(() => undefined),
});

async function behindProxy(behaviour: IdleBehaviour): Promise<{ proxy: TcpProxy; env: Record<string, string> }> {
  const proxy = new TcpProxy(Number(new URL(scope.proxy.url).port), { behaviour, idleMs: IDLE_MS });
  proxies.push(proxy);
  return { proxy, env: { ...scope.env, CLUSTER_ENDPOINT: await proxy.start() } };
}

const requestsSeen = () => scope.proxy.requests.map((request) => `${request.method} ${request.status}`);

describe('a pooled connection that died while the environment was frozen', () => {
  it('is replaced at once, without backoff or a warning, when the peer resets it', async () => {
    const { proxy, env } = await behindProxy('reset');
    const lambda = await scope.environment(env);
    await lambda.invoke({ name: 'before-freeze' });
    await lambda.freeze();
    await sleep(IDLE_MS * 2);

    const after = await lambda.invoke({ name: 'after-freeze' });

    expect(after).toMatchObject({ ok: true, result: { status: 'created', name: 'after-freeze' } });
    expect(lambda.records().filter((record) => record['message'] === 'retrying')).toEqual([]);
    expect(proxy.connections).toBe(2);
    // The request sent on the reset connection never reached the server; the one sent again did.
    expect(scope.proxy.handshakes).toBe(2);
    expect(requestsSeen()).toEqual(['POST 201', 'POST 201']);
    expect(
      await scope.admin.get(restPath('apps/v1', 'deployments', scope.ns('default'), 'after-freeze')),
    ).toBeDefined();
  });

  it('is not reused after minutes of freeze, so a flow a NAT dropped silently costs nothing', async () => {
    const { proxy, env } = await behindProxy('drop');
    const lambda = await scope.environment(env, { controllableClock: true });
    await lambda.invoke({ name: 'before-freeze' });
    await lambda.freeze();
    await sleep(IDLE_MS * 2);
    // What the environment's clock says when Lambda thaws it two minutes later.
    lambda.advanceClock(120_000);

    // With 3 s to live, a request on the dead flow (5 s timeout) would end the invocation.
    const after = await lambda.invoke({ name: 'after-freeze' }, 3000);

    expect(after).toMatchObject({ ok: true, result: { status: 'created', name: 'after-freeze' } });
    expect(lambda.records().filter((record) => record['message'] === 'retrying')).toEqual([]);
    expect(proxy.connections).toBe(2);
    expect(scope.proxy.handshakes).toBe(2);
    expect(requestsSeen()).toEqual(['POST 201', 'POST 201']);
  });

  it('is reused when the environment was idle for less than a minute', async () => {
    const { proxy, env } = await behindProxy('keep');
    const lambda = await scope.environment(env, { controllableClock: true });
    await lambda.invoke({ name: 'first' });
    lambda.advanceClock(30_000);

    await lambda.invoke({ name: 'second' });

    expect(proxy.connections).toBe(1);
    expect(scope.proxy.handshakes).toBe(1);
    expect(requestsSeen()).toEqual(['POST 201', 'POST 201']);
  });
});
