import { beforeEach, describe, expect, it } from '@jest/globals';
import { resetWarmState } from '../../../src/state.js';
import { dropCachedToken, issueEksToken } from '../../../src/aws/token-cache.js';

const credentials = { accessKeyId: 'ASIACACHE', secretAccessKey: 'cache-secret', sessionToken: 'cache-session' };
const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
const minutes = (n: number): number => n * 60_000;

beforeEach(() => resetWarmState());

describe('issueEksToken', () => {
  it('reuses the token within its window', async () => {
    const first = await issueEksToken(credentials, 'us-east-1', 'demo', T0);
    const later = await issueEksToken(credentials, 'us-east-1', 'demo', T0 + minutes(12));
    expect(first.fromCache).toBe(false);
    expect(later).toEqual({ token: first.token, fromCache: true });
  });

  it('mints a new token before the first is 14 minutes old', async () => {
    const first = await issueEksToken(credentials, 'us-east-1', 'demo', T0);
    const renewed = await issueEksToken(credentials, 'us-east-1', 'demo', T0 + minutes(13));
    expect(renewed.fromCache).toBe(false);
    expect(renewed.token).not.toBe(first.token);
  });

  it('mints a new token when the credentials, region or cluster change', async () => {
    const first = await issueEksToken(credentials, 'us-east-1', 'demo', T0);
    const rotated = await issueEksToken({ ...credentials, sessionToken: 'rotated' }, 'us-east-1', 'demo', T0 + 1000);
    const otherCluster = await issueEksToken(
      { ...credentials, sessionToken: 'rotated' },
      'us-east-1',
      'other',
      T0 + 2000,
    );
    expect([rotated.fromCache, otherCluster.fromCache]).toEqual([false, false]);
    expect(new Set([first.token, rotated.token, otherCluster.token]).size).toBe(3);
  });

  it('mints a new token after the cached one is dropped or the clock goes back', async () => {
    await issueEksToken(credentials, 'us-east-1', 'demo', T0);
    dropCachedToken();
    expect((await issueEksToken(credentials, 'us-east-1', 'demo', T0)).fromCache).toBe(false);
    expect((await issueEksToken(credentials, 'us-east-1', 'demo', T0 - 1000)).fromCache).toBe(false);
  });
});
