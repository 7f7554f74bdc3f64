import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { resetWarmState } from '../../../src/state.js';
import { ACCESS_KEY_ID, FUNCTION_IDENTITY, startTestBed, type TestBed } from '../../support/fixture.js';
import { invokeInProcess } from '../../support/in-process.js';
import { recordSecrets } from '../../support/run-record.js';

// The function's clock is jest's (only Date is faked: timers and sockets run as usual); the stand-in has its own
// clock, so the two can disagree as a skewed or slow clock would.
const T0 = Date.UTC(2026, 10, 27, 9, 0, 0);
const minutes = (n: number): number => n * 60_000;
const ROTATED = {
  AWS_ACCESS_KEY_ID: 'ASIAROTATEDKEY000002',
  AWS_SECRET_ACCESS_KEY: 'rotated/Secret+Key000000000000000000000',
  AWS_SESSION_TOKEN: 'IQoJrotatedSessionToken0000+/==',
};

let bed: TestBed;
let serverNow = T0;

function tokens(): (string | undefined)[] {
  return bed.server.requests.map((request) => request.authorization);
}

async function invokeAt(clientTime: number, event: unknown, env = bed.env) {
  jest.setSystemTime(clientTime);
  return invokeInProcess(event, env);
}

beforeAll(async () => {
  bed = await startTestBed({
    now: () => serverNow,
    identities: {
      [ACCESS_KEY_ID]: FUNCTION_IDENTITY,
      [ROTATED.AWS_ACCESS_KEY_ID]: {
        ...FUNCTION_IDENTITY,
        secretAccessKey: ROTATED.AWS_SECRET_ACCESS_KEY,
        sessionToken: ROTATED.AWS_SESSION_TOKEN,
      },
    },
  });
  recordSecrets(ROTATED.AWS_SECRET_ACCESS_KEY, ROTATED.AWS_SESSION_TOKEN);
});

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
  resetWarmState();
  bed.server.reset();
});

afterEach(() => {
  jest.useRealTimers();
});

afterAll(async () => {
  resetWarmState();
  await bed.server.stop();
});

describe('the token across warm invocations', () => {
  it('is reused within its window', async () => {
    serverNow = T0 + minutes(12);
    await invokeAt(T0, { name: 'a' });
    const later = await invokeAt(T0 + minutes(12), { name: 'b' });

    expect(later).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(new Set(tokens()).size).toBe(1);
  });

  it('is minted anew before it is 14 minutes old', async () => {
    serverNow = T0 + minutes(13);
    await invokeAt(T0, { name: 'a' });
    await invokeAt(T0 + minutes(13), { name: 'b' });

    expect(new Set(tokens()).size).toBe(2);
  });

  it('is minted anew when Lambda rotates the credentials', async () => {
    serverNow = T0;
    await invokeAt(T0, { name: 'a' });
    const rotated = await invokeAt(T0 + 1000, { name: 'b' }, { ...bed.env, ...ROTATED });

    expect(rotated).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(new Set(tokens()).size).toBe(2);
  });

  it('is minted once more, and the request retried, when the cluster says the cached token expired', async () => {
    // The function thinks 12 minutes have passed; the API server's clock says 15 and a bit.
    serverNow = T0;
    await invokeAt(T0, { name: 'a' });
    serverNow = T0 + minutes(15) + 5000;

    const invocation = await invokeAt(T0 + minutes(12), { name: 'b' });

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created', name: 'b' } });
    expect(bed.server.requests.map((request) => request.status)).toEqual([201, 401, 201]);
    expect(
      invocation.logs.filter((record) => record['message'] === 'cached token rejected; minting a fresh one'),
    ).toHaveLength(1);
  });

  it('fails with ClusterAuthenticationError after that one retry when the fresh token is refused too', async () => {
    serverNow = T0;
    await invokeAt(T0, { name: 'a' });
    serverNow = T0 + minutes(40);

    const invocation = await invokeAt(T0 + minutes(5), { name: 'b' });

    expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterAuthenticationError' });
    expect(bed.server.requests.map((request) => request.status)).toEqual([201, 401, 401]);
  });
});
