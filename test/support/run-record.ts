// A record of the whole test run, across jest's workers: every line the function wrote, every error message it
// returned, and every secret it held (credentials, and each token the token webhook or a proxy saw). The global teardown
// (test/support/global-teardown.mjs) checks that no secret appears in any line.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

// Read once, when the module loads: an in-process invocation (in-process.ts) replaces process.env while it runs, and
// the fault proxy and the token webhook record the tokens they see during that time.
const RECORD_DIR = process.env['LAMBDA_EKS_RUN_RECORD'];

function append(kind: 'lines' | 'secrets', values: readonly string[]): void {
  if (!RECORD_DIR || values.length === 0) return;
  appendFileSync(
    join(RECORD_DIR, `${process.pid}.${kind}`),
    values.map((value) => `${JSON.stringify(value)}\n`).join(''),
  );
}

/** Records output of the function (log lines, error messages). */
export function recordOutput(...lines: string[]): void {
  append('lines', lines);
}

/** Records values that must never appear in the function's output. */
export function recordSecrets(...secrets: string[]): void {
  append(
    'secrets',
    secrets.filter((secret) => secret.length >= 8),
  );
}
