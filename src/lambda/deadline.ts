import { DEADLINE_RESERVE_MAX_MS, DEADLINE_RESERVE_MIN_MS, DEADLINE_RESERVE_SHARE } from '../constants.js';

/** The epoch ms by which the function's own work must end, given when the invocation started and the time Lambda
 * gives it: the remaining time minus a reserve that scales with it (10 %, from 100 ms to 1 s), so that a 1 s
 * function still has 900 ms for its requests and a 300 s one keeps a full second to report. Pure. */
export function workDeadline(startedAt: number, remainingMs: number): number {
  const reserve = Math.min(
    DEADLINE_RESERVE_MAX_MS,
    Math.max(DEADLINE_RESERVE_MIN_MS, Math.round(remainingMs * DEADLINE_RESERVE_SHARE)),
  );
  return startedAt + remainingMs - reserve;
}
