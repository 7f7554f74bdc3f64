import { describe, expect, it } from '@jest/globals';
import { RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS } from '../../src/constants.js';
import { backoffDelay } from '../../src/retry.js';

describe('backoffDelay', () => {
  it('doubles its ceiling with each retry', () => {
    const ceilings = [1, 2, 4, 8].map((factor) => factor * RETRY_BASE_DELAY_MS);
    expect([1, 2, 3, 4].map((retry) => backoffDelay(retry, 0.999999))).toEqual(ceilings.map((ceiling) => ceiling - 1));
  });

  it('never goes below half the ceiling, so jitter cannot make a retry immediate', () => {
    expect(backoffDelay(3, 0)).toBe(2 * RETRY_BASE_DELAY_MS);
  });

  it('stops growing at the maximum delay', () => {
    expect(backoffDelay(30, 0.999999)).toBeLessThan(RETRY_MAX_DELAY_MS);
    expect(backoffDelay(30, 0.999999)).toBeGreaterThan(RETRY_MAX_DELAY_MS * 0.99);
  });
});
