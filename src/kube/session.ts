// One invocation's conversation with the API server: every request of every action goes through `send`, which
// mints (or reuses) the token, keeps each request inside the invocation's deadline, and retries what is worth
// retrying: 429 and 5xx with backoff, a request that died on a reused keep-alive socket at once, a 401 on a cached
// token once with a fresh token. What it cannot fix it returns (a final rejection) or throws (no answer at all).
import { issueEksToken, dropCachedToken } from '../aws/token-cache.js';
import {
  MAX_ATTEMPTS,
  MIN_REQUEST_MS,
  REQUEST_TIMEOUT_MS,
  RETRY_MAX_DELAY_MS,
  RETRYABLE_STATUS_CODES,
} from '../constants.js';
import { log } from '../log.js';
import { backoffDelay, sleep } from '../retry.js';

export type { Grant, Purpose, Session } from './types.js';
import type { Answer, KubeCall, Rejected, Unreachable } from './client.js';
import type { Purpose, Session } from './types.js';
import { explainUnreachable, isUndeclaredField } from './explain.js';
import { dropConnection, RESPONSE_TOO_LARGE } from './http.js';

/** A final answer: the 2xx answer, or a rejection no retry fixed. `uncertain` when an earlier attempt may have
 * reached the server (its answer was lost), so a 404 or 409 may be the echo of our own earlier request. */
export type Settled<T> =
  | (Extract<Answer<T>, { kind: 'ok' }> & { readonly uncertain: boolean })
  | (Rejected & { readonly uncertain: boolean; readonly attempts: number; readonly exhausted: boolean });

/** How an action wants a rejection it knows to be transient retried: with the normal backoff and attempt cap, or
 * with backoff until the deadline (waiting for something to finish). */
export type RetryRejection = (rejected: Rejected) => 'backoff' | 'until-deadline' | undefined;

/** Transport failures after which the server may have received and acted on the request. */
const MAYBE_RECEIVED: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ERR_INCOMPLETE_RESPONSE',
  'BAD_RESPONSE',
]);

/** Sends one request, retrying within the deadline. Returns the 2xx answer or the final rejection; throws
 * ClusterUnreachableError when no answer came (network, TLS, timeout) or the time ran out. */
export async function send<T>(
  session: Session,
  purpose: Purpose,
  request: (call: KubeCall) => Promise<Answer<T>>,
  retryRejection: RetryRejection = () => undefined,
): Promise<Settled<T>> {
  let reminted = false;
  let freshSocket = false;
  let rediscovered = false;
  let uncertain = false;
  let last: Exclude<Answer<T>, { kind: 'ok' }> | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const now = Date.now();
    const timeoutMs = Math.floor(Math.min(REQUEST_TIMEOUT_MS, session.deadline - now));
    if (timeoutMs < MIN_REQUEST_MS) {
      throw explainUnreachable(
        last?.kind === 'unreachable' ? last : undefined,
        session,
        purpose,
        attempt - 1,
        'ran out of time',
      );
    }
    const issued = await issueEksToken(session.credentials, session.region, session.clusterName, now);
    session.requests += 1;
    const answer = await request({ cluster: session.cluster, token: issued.token, timeoutMs });
    if (answer.kind === 'ok') {
      return { ...answer, uncertain };
    }
    last = answer;
    if (answer.kind === 'rejected' && answer.httpStatus === 401 && issued.fromCache && !reminted) {
      // The cached token may have died with rotated credentials: one fresh token, one more try.
      dropCachedToken();
      reminted = true;
      log('warn', 'cached token rejected; minting a fresh one', { attempt });
      continue;
    }
    if (answer.kind === 'unreachable') {
      uncertain ||= MAYBE_RECEIVED.has(answer.code);
      if (answer.reusedSocket && !freshSocket && answer.code !== RESPONSE_TOO_LARGE) {
        // The pooled socket died while idle (the server or a NAT closed it): not the server's failure, so no backoff
        // and no warning; the next request opens a new connection.
        dropConnection();
        freshSocket = true;
        continue;
      }
      if ((answer.tlsTrust || answer.code === 'ENOTFOUND') && session.rediscover && !rediscovered) {
        // A recreated cluster has a new endpoint and CA: the cached DescribeCluster answer is stale.
        rediscovered = true;
        const fresh = await session.rediscover();
        if (fresh.endpoint !== session.cluster.endpoint || fresh.caPem !== session.cluster.caPem) {
          session.cluster = fresh;
          continue;
        }
      }
    }
    const treatment =
      answer.kind === 'rejected' ? rejectionTreatment(answer, retryRejection) : transportTreatment(answer);
    if (treatment === undefined) {
      return settle(answer, uncertain, attempt, false, session, purpose);
    }
    const delay = delayFor(answer, attempt, treatment);
    const capped = treatment !== 'until-deadline' && attempt >= MAX_ATTEMPTS;
    if (capped || Date.now() + delay + MIN_REQUEST_MS > session.deadline) {
      return settle(answer, uncertain, attempt, true, session, purpose);
    }
    log('warn', 'retrying', {
      attempt,
      delayMs: delay,
      cause: describeAnswer(answer),
      verb: purpose.verb,
      resource: purpose.resource,
    });
    await sleep(delay);
  }
}

/** Milliseconds since the invocation started. */
export function elapsedMs(session: Session): number {
  return Date.now() - session.startedAt;
}

function settle<T>(
  answer: Exclude<Answer<T>, { kind: 'ok' }>,
  uncertain: boolean,
  attempts: number,
  exhausted: boolean,
  session: Session,
  purpose: Purpose,
): Settled<T> {
  if (answer.kind === 'unreachable') {
    throw explainUnreachable(answer, session, purpose, attempts, exhausted ? 'gave up' : 'final');
  }
  return { ...answer, uncertain, attempts, exhausted };
}

function rejectionTreatment(
  answer: Rejected,
  retryRejection: RetryRejection,
): 'backoff' | 'until-deadline' | undefined {
  return RETRYABLE_STATUS_CODES.has(answer.httpStatus) && !isUndeclaredField(answer)
    ? 'backoff'
    : retryRejection(answer);
}

function transportTreatment(answer: Unreachable): 'backoff' | undefined {
  // A certificate the CA does not vouch for, a host that does not resolve, or an answer too large to read does not get
  // better by asking again.
  return answer.tlsTrust || answer.code === 'ENOTFOUND' || answer.code === RESPONSE_TOO_LARGE ? undefined : 'backoff';
}

function delayFor(
  answer: Exclude<Answer<unknown>, { kind: 'ok' }>,
  attempt: number,
  treatment: 'backoff' | 'until-deadline',
): number {
  const backoff = backoffDelay(Math.min(attempt, MAX_ATTEMPTS), Math.random());
  if (answer.kind === 'rejected' && answer.retryAfterMs !== undefined) {
    return answer.retryAfterMs;
  }
  return treatment === 'until-deadline' ? Math.min(backoff, RETRY_MAX_DELAY_MS) : backoff;
}

function describeAnswer(answer: Exclude<Answer<unknown>, { kind: 'ok' }>): string {
  return answer.kind === 'unreachable' ? answer.code : `HTTP ${answer.httpStatus}`;
}
