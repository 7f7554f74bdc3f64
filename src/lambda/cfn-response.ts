// The answer to a CloudFormation custom resource request: a PUT of a JSON document to the presigned S3 URL the
// request carries (AWS CloudFormation User Guide, "Custom resource response objects"). Built in one place, at most
// 4096 bytes, sent with retries before the deadline. The URL is a credential: it is never logged or quoted.
import { request as httpsRequest } from 'node:https';
import { describeThrown, LambdaEksError } from '../errors.js';
import { backoffDelay, sleep } from '../retry.js';

/** CloudFormation's limit on the whole response document. */
export const MAX_RESPONSE_BYTES = 4096;
const PUT_TIMEOUT_MS = 5000;
const MAX_PUT_ATTEMPTS = 8;
/** S3 refuses these for good (an expired or altered presigned URL); anything else is worth another try. */
const FINAL_STATUSES: ReadonlySet<number> = new Set([400, 403, 404, 405, 411]);

/** The response document's fields (`Reason` is required when FAILED). */
export interface CfnResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho?: boolean;
  readonly Data?: Readonly<Record<string, string>>;
}

/** CloudFormation could not be told the outcome: the PUT to the response URL failed until the deadline. Thrown so
 * that Lambda retries the (idempotent) invocation, which answers again. */
export class ResponseNotDeliveredError extends LambdaEksError {
  override readonly name = 'ResponseNotDeliveredError';
}

/** The response as the JSON body to PUT, at most MAX_RESPONSE_BYTES: an over-long Reason is cut (its start, with the
 * errorType, kept) to fit. Pure. */
export function responseBody(response: CfnResponse): string {
  const whole = JSON.stringify(response);
  if (Buffer.byteLength(whole) <= MAX_RESPONSE_BYTES || response.Reason === undefined) {
    return whole;
  }
  const budget = MAX_RESPONSE_BYTES - Buffer.byteLength(JSON.stringify({ ...response, Reason: '' }));
  return JSON.stringify({ ...response, Reason: fitReason(response.Reason, budget) });
}

/** The longest start of `reason`, marked with "...", whose JSON encoding takes at most `budget` bytes. */
function fitReason(reason: string, budget: number): string {
  const mark = '...';
  let used = mark.length;
  let end = 0;
  for (const char of reason) {
    // Quotes, backslashes and control characters grow when JSON-encoded; other characters take their UTF-8 bytes.
    const size = Buffer.byteLength(JSON.stringify(char)) - 2;
    if (used + size > budget) {
      break;
    }
    used += size;
    end += char.length;
  }
  return `${reason.slice(0, end)}${mark}`;
}

/** PUTs the body to the response URL: empty Content-Type (the URL was presigned without one), Content-Length in
 * bytes. Retries with backoff until it is accepted or `deadline` (epoch ms) comes. Returns the attempts it took;
 * throws ResponseNotDeliveredError. */
export async function sendResponse(url: URL, body: string, deadline: number): Promise<number> {
  let lastProblem = 'no attempt was possible before the deadline';
  for (let attempt = 1; attempt <= MAX_PUT_ATTEMPTS; attempt += 1) {
    const timeoutMs = Math.floor(Math.min(PUT_TIMEOUT_MS, deadline - Date.now()));
    if (timeoutMs < 50) {
      break;
    }
    const problem = await put(url, body, timeoutMs);
    if (problem === undefined) {
      return attempt;
    }
    lastProblem = problem.detail;
    const delay = backoffDelay(attempt + 1, Math.random());
    if (problem.final || Date.now() + delay + 50 > deadline) {
      break;
    }
    await sleep(delay);
  }
  throw new ResponseNotDeliveredError(
    `the answer to CloudFormation could not be delivered to the response URL on ${url.host} (${lastProblem}); ` +
      'Lambda retries the invocation, which answers again. If it keeps failing, check that the function can reach S3 ' +
      '(a function in a VPC needs a NAT gateway or an S3 gateway endpoint).',
  );
}

/** One PUT; undefined when S3 accepted it, else what went wrong (never the URL's query, which is the credential). */
function put(url: URL, body: string, timeoutMs: number): Promise<{ detail: string; final: boolean } | undefined> {
  // node:http only for a loopback http: URL (tests, sam local invoke), and never as an ES module import: Node builds
  // its ES module facade by reading every export, and one of them loads Node's internal undici (~90 ms at import
  // under Lambda's flags, measured in the benchmark).
  const send = url.protocol === 'https:' ? httpsRequest : process.getBuiltinModule('node:http').request;
  return new Promise((resolve) => {
    const req = send(
      url,
      {
        method: 'PUT',
        headers: { 'Content-Type': '', 'Content-Length': Buffer.byteLength(body) },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve(
            status >= 200 && status < 300 ? undefined : { detail: `HTTP ${status}`, final: FINAL_STATUSES.has(status) },
          );
        });
        res.on('error', (error: unknown) => resolve({ detail: transportProblem(error), final: false }));
      },
    );
    req.on('error', (error: unknown) => resolve({ detail: transportProblem(error), final: false }));
    req.end(body);
  });
}

function transportProblem(error: unknown): string {
  const { name, code } = describeThrown(error);
  return name === 'AbortError' || name === 'TimeoutError' ? 'no answer in time' : (code ?? name);
}
