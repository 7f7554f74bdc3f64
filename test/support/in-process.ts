// Runs the handler from src/ inside the test process, for tests that control what a separate process cannot: the
// clock, the environment between invocations. Its log lines are captured (and recorded for the secret scan).
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

/** Invokes the handler with `env` as process.env, capturing console output. */
export async function invokeInProcess(
  event: unknown,
  env: Record<string, string>,
  timeoutMs = 3000,
): Promise<InProcessResult> {
  const saved = { env: process.env, info: console.info, warn: console.warn, error: console.error };
  const lines: string[] = [];
  const capture = (line: unknown): void => {
    lines.push(String(line));
  };
  process.env = { ...env };
  console.info = capture;
  console.warn = capture;
  console.error = capture;
  try {
    const result = await handler(event, lambdaContext('in-process', Date.now() + timeoutMs));
    return { ok: true, result, logs: jsonRecords(lines) };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    recordOutput(message);
    return { ok: false, errorType: name, errorMessage: message, logs: jsonRecords(lines) };
  } finally {
    process.env = saved.env;
    console.info = saved.info;
    console.warn = saved.warn;
    console.error = saved.error;
    recordOutput(...lines);
  }
}
