import { RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS } from './constants.js';

/** The delay before retry number `retry` (1 for the first): exponential, capped, with full jitter so that many
 * functions failing together do not come back together. `random` is in [0, 1). */
export function backoffDelay(retry: number, random: number): number {
  const ceiling = Math.min(RETRY_MAX_DELAY_MS, RETRY_BASE_DELAY_MS * 2 ** (retry - 1));
  return Math.floor(ceiling / 2 + (random * ceiling) / 2);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
