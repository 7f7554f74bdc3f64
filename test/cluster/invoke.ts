// npm run invoke -- <event.json | ->: runs the built bundle (dist/, nothing is built) under Lambda's own runtime
// client, as Lambda's bootstrap starts it, against the cluster npm run cluster is serving, with one event; prints the
// result or the error, and the function's log records. For a CloudFormation custom resource request whose
// ResponseURL is missing or points at 127.0.0.1, it serves that URL itself and prints the answer the function sent.
// Exit status: 0 a result (or a SUCCESS answer), 1 an error (or a FAILED answer), 2 bad usage.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeThrown } from '../../src/errors.js';
import { CfnReceiver } from '../support/cfn-receiver.js';
import { LambdaEnvironment, resolveHandler } from '../support/lambda.js';
import { CLUSTER_STATE_FILE, PROJECT_ROOT } from '../support/paths.js';

const USAGE = `usage: npm run invoke -- <event.json | ->

Invokes the built function (dist/; run npm run build first) once with the event in the file, or on stdin for "-",
as Lambda runs it (aws-lambda-ric, Lambda's runtime interface client), against the local cluster that npm run cluster
is serving (its settings are read from ${CLUSTER_STATE_FILE}). Prints the result or the error, then the function's
log records. A CloudFormation custom resource request (an event with RequestType) whose ResponseURL is missing or
points at 127.0.0.1 gets a ResponseURL served here, and the answer is printed too.

Exit status: 0 a result, or a SUCCESS answer; 1 an error, or a FAILED answer; 2 bad usage.`;

/** The variables the function gets from npm run cluster's state file. */
const FUNCTION_VARIABLES = [
  'CLUSTER_NAME',
  'CLUSTER_ENDPOINT',
  'CLUSTER_CA_DATA',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'NAMESPACE',
];

/** The template's Timeout: how long Lambda would let the function run. */
const TIMEOUT_MS = 300_000;

function readEvent(argument: string): unknown {
  const text = argument === '-' ? readFileSync(0, 'utf8') : readFileSync(resolve(argument), 'utf8');
  return text.trim() === '' ? {} : JSON.parse(text);
}

function clusterEnv(): Record<string, string> {
  if (!existsSync(CLUSTER_STATE_FILE)) {
    throw new UsageError(
      `no local cluster is running (${CLUSTER_STATE_FILE} is missing): start one with "npm run cluster" in another ` +
        'terminal, and invoke once it prints its settings.',
    );
  }
  const lines = readFileSync(CLUSTER_STATE_FILE, 'utf8').split('\n');
  const values = new Map(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  return Object.fromEntries(
    FUNCTION_VARIABLES.flatMap((name) => (values.has(name) ? [[name, values.get(name) ?? '']] : [])),
  );
}

class UsageError extends Error {}

/** A ResponseURL the function cannot reach from here is replaced; one on 127.0.0.1 is served here. */
function servesResponseUrl(event: Record<string, unknown>): boolean {
  const url = event['ResponseURL'];
  if (url === undefined) return true;
  try {
    return typeof url === 'string' && new URL(url).hostname === '127.0.0.1';
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  if (args.length !== 1 || args[0] === undefined) {
    console.error(`npm run invoke: give one event file, or - for stdin\n${USAGE}`);
    return 2;
  }
  let event: unknown;
  try {
    event = readEvent(args[0]);
  } catch (error) {
    console.error(`npm run invoke: cannot read the event ${args[0]}: ${describeThrown(error).message}`);
    return 2;
  }
  const env = clusterEnv();
  try {
    resolveHandler();
  } catch {
    throw new UsageError(`the function is not built (no ${join(PROJECT_ROOT, 'dist/index.mjs')}): run npm run build`);
  }
  const customResource: Record<string, unknown> | undefined =
    typeof event === 'object' && event !== null && !Array.isArray(event) && 'RequestType' in event
      ? Object.fromEntries(Object.entries(event))
      : undefined;
  const receiver = customResource !== undefined && servesResponseUrl(customResource) ? new CfnReceiver() : undefined;
  if (receiver !== undefined && customResource !== undefined) {
    await receiver.start();
    customResource['ResponseURL'] = receiver.urlFor(String(customResource['RequestId'] ?? 'invoke'));
  }
  const lambda = await LambdaEnvironment.start(env);
  try {
    const invocation = await lambda.invoke(customResource ?? event, TIMEOUT_MS);
    console.log(
      invocation.ok
        ? `result: ${JSON.stringify(invocation.result)}`
        : `error: ${invocation.errorType}: ${invocation.errorMessage}`,
    );
    for (const line of lambda.logs) console.log(`log: ${line}`);
    if (receiver === undefined) return invocation.ok ? 0 : 1;
    const answer = receiver.answers().at(-1);
    console.log(`answer: ${answer === undefined ? '(none was sent)' : JSON.stringify(answer)}`);
    return invocation.ok && answer?.['Status'] === 'SUCCESS' ? 0 : 1;
  } finally {
    await lambda.stop();
    await receiver?.stop();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`npm run invoke: ${error.message}`);
  process.exitCode = 1;
}
