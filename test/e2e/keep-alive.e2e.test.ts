import { describe, expect, it } from '@jest/globals';
import { sleep } from '../../src/retry.js';
import { useTestBed } from '../support/hooks.js';
import { TcpProxy, type IdleBehaviour } from '../support/tcp-proxy.js';

// A Lambda environment is frozen between invocations, for seconds or minutes, while the network goes on: the API
// server closes idle connections after 90 s, and a NAT or load balancer may reset or silently drop an idle flow. The
// function sits behind a TCP proxy that does that to connections idle for more than IDLE_MS.
const IDLE_MS = 300;
const proxies: TcpProxy[] = [];
const scope = useTestBed({
  cleanup: () => Promise.all(proxies.splice(0).map((proxy) => proxy.stop())).then(() => undefined),
});

async function behindProxy(behaviour: IdleBehaviour): Promise<{ proxy: TcpProxy; env: Record<string, string> }> {
  const proxy = new TcpProxy(Number(new URL(scope.bed.server.url).port), { behaviour, idleMs: IDLE_MS });
  proxies.push(proxy);
  return { proxy, env: { ...scope.bed.env, CLUSTER_ENDPOINT: await proxy.start() } };
}

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
    expect(scope.bed.server.deployments.has('default/after-freeze')).toBe(true);
  });

  it('is not reused after minutes of freeze, so a flow a NAT dropped silently costs nothing', async () => {
    const { proxy, env } = await behindProxy('drop');
    const lambda = await scope.environment(env, { controllableClock: true });
    await lambda.invoke({ name: 'before-freeze' });
    await lambda.freeze();
    await sleep(IDLE_MS * 2);
    // What the environment's clock says when Lambda thaws it two minutes later.
    await lambda.advanceClock(120_000);

    // With 3 s to live, a request on the dead flow (5 s timeout) would end the invocation.
    const after = await lambda.invoke({ name: 'after-freeze' }, 3000);

    expect(after).toMatchObject({ ok: true, result: { status: 'created', name: 'after-freeze' } });
    expect(lambda.records().filter((record) => record['message'] === 'retrying')).toEqual([]);
    expect(proxy.connections).toBe(2);
  });

  it('is reused when the environment was idle for less than a minute', async () => {
    const { proxy, env } = await behindProxy('keep');
    const lambda = await scope.environment(env, { controllableClock: true });
    await lambda.invoke({ name: 'first' });
    await lambda.advanceClock(30_000);

    await lambda.invoke({ name: 'second' });

    expect(proxy.connections).toBe(1);
    expect(scope.bed.server.handshakes).toBe(1);
  });
});
