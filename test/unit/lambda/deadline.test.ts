import { describe, expect, it } from '@jest/globals';
import { workDeadline } from '../../../src/lambda/deadline.js';

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
