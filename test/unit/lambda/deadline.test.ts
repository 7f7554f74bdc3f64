import { describe, expect, it } from '@jest/globals';
import { actionDeadline, workDeadline } from '../../../src/lambda/deadline.js';

describe('workDeadline', () => {
  it.each([
    // Lambda's smallest Timeout: 900 ms remain for requests (a fixed 1 s reserve left none).
    [1000, 900],
    [2000, 1800],
    [3000, 2700],
    // From 10 s on, the reserve is capped at 1 s.
    [10_000, 9000],
    [300_000, 299_000],
    // Less than a second left: 100 ms stay in reserve.
    [500, 400],
  ])('keeps the right reserve when %d ms remain', (remaining, usable) => {
    expect(workDeadline(1_000_000, remaining) - 1_000_000).toBe(usable);
  });
});

describe('actionDeadline', () => {
  it.each([
    // A custom resource's answer keeps at least 1 s for its PUT and retries...
    [3000, 1000],
    // ...20 % of the time in between...
    [30_000, 6000],
    // ...and at most 10 s.
    [300_000, 10_000],
  ])('leaves the answer the right reserve when %d ms remain', (remaining, reserve) => {
    expect(2_000_000 - actionDeadline(2_000_000, remaining)).toBe(reserve);
  });
});
