import {
  ANSWER_RESERVE_MAX_MS,
  ANSWER_RESERVE_MIN_MS,
  ANSWER_RESERVE_SHARE,
  DEADLINE_RESERVE_MAX_MS,
  DEADLINE_RESERVE_MIN_MS,
  DEADLINE_RESERVE_SHARE,
} from '../constants.js';

/** The epoch ms by which the function's own work must end, given when the invocation started and the time Lambda
 * gives it: the remaining time minus a reserve that scales with it (10 %, from 100 ms to 1 s), so that a 1 s
 * function still has 900 ms for its requests and a 300 s one keeps a full second to report. Pure. */
export function workDeadline(startedAt: number, remainingMs: number): number {
  return (
    startedAt +
    remainingMs -
    scaledReserve(remainingMs, DEADLINE_RESERVE_SHARE, DEADLINE_RESERVE_MIN_MS, DEADLINE_RESERVE_MAX_MS)
  );
}

/** The epoch ms by which a custom resource's action must end: its answer, due at `answerBy`, keeps a second reserve
 * (20 %, from 1 s to 10 s) for its PUT and retries, whatever the action did. Pure. */
export function actionDeadline(answerBy: number, remainingMs: number): number {
  return answerBy - scaledReserve(remainingMs, ANSWER_RESERVE_SHARE, ANSWER_RESERVE_MIN_MS, ANSWER_RESERVE_MAX_MS);
}

function scaledReserve(remainingMs: number, share: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, Math.max(minMs, Math.round(remainingMs * share)));
}
