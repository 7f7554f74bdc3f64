// Runs the handler from src/ inside the test process, for tests that control what a separate process cannot: the
// clock, the environment between invocations. Its log lines are captured (and recorded for the secret scan).
import { randomBytes, randomUUID } from 'node:crypto';
import { handler } from '../../src/handler.js';
import { jsonRecords } from './json.js';
import { lambdaContext } from './lambda-context.mjs';
import { recordOutput } from './run-record.js';

export interface InProcessResult {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly errorType?: string;
  readonly errorMessage?: string;
  readonly logs: Record<string, unknown>[];
}

/** Invokes the handler with `env` as process.env, as Lambda's runtime does: a fresh request id, and the X-Ray trace
 * header it copies into _X_AMZN_TRACE_ID for each invocation. Captures what the function writes. */
export async function invokeInProcess(
  event: unknown,
  env: Record<string, string>,
  timeoutMs = 3000,
): Promise<InProcessResult> {
  const saved = { env: process.env, stdout: process.stdout.write, stderr: process.stderr.write };
  const lines: string[] = [];
  // The function logs with Powertools, which writes each record to stdout or stderr as one line.
  const capture = (chunk: string | Uint8Array): boolean => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  const traceId = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Sampled=0`;
  process.env = { _X_AMZN_TRACE_ID: traceId, ...env };
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    const result = await handler(event, lambdaContext(randomUUID(), Date.now() + timeoutMs));
    return { ok: true, result, logs: jsonRecords(lines) };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    recordOutput(message);
    return { ok: false, errorType: name, errorMessage: message, logs: jsonRecords(lines) };
  } finally {
    process.env = saved.env;
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
    recordOutput(...lines);
  }
}
