// Runs the handler from src/ inside the test process, for tests that control what a separate process cannot: the
// clock, the environment between invocations. Its log lines are captured (and recorded for the secret scan).
import type { Context } from 'aws-lambda';
import { handler } from '../../src/handler.js';
import { recordOutput } from './run-record.js';

export interface InProcessResult {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly errorType?: string;
  readonly errorMessage?: string;
  readonly logs: Record<string, unknown>[];
}

function context(timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: 'in-process',
    functionName: 'lambda-eks-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:lambda-eks-test',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/lambda-eks-test',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
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
    const result = await handler(event, context(timeoutMs));
    return { ok: true, result, logs: parse(lines) };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    recordOutput(message);
    return { ok: false, errorType: name, errorMessage: message, logs: parse(lines) };
  } finally {
    process.env = saved.env;
    console.info = saved.info;
    console.warn = saved.warn;
    console.error = saved.error;
    recordOutput(...lines);
  }
}

function parse(lines: string[]): Record<string, unknown>[] {
  return lines.map((line) => {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null ? { ...parsed } : {};
  });
}
