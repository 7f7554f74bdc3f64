// Stops the run's control plane, then makes the secret scan of the whole test run: no line the function wrote and no error message it returned may contain a
// token, a secret key or a session token. Fails the run otherwise.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

function read(dir, suffix) {
  return readdirSync(dir)
    .filter((file) => file.endsWith(suffix))
    .flatMap((file) =>
      readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    );
}

export default async function globalTeardown() {
  await globalThis.stopTestRunCluster?.();
  const dir = process.env.LAMBDA_EKS_RUN_RECORD;
  if (!dir) return;
  try {
    const lines = read(dir, '.lines');
    const secrets = [...new Set(read(dir, '.secrets'))];
    const leaks = lines.filter((line) => secrets.some((secret) => line.includes(secret)));
    if (lines.length === 0 || secrets.length === 0) {
      // A run of tests that never start the function (npm run test:unit -- retry, say) has nothing to scan.
      console.log('\nsecret scan: these tests ran no function, nothing to scan');
      return;
    }
    console.log(
      `\nsecret scan: ${lines.length} log lines and error messages, ${secrets.length} secrets, ${leaks.length} leaks`,
    );
    if (leaks.length > 0) {
      throw new Error(`secret scan: a secret appears in ${leaks.length} lines, e.g. ${leaks[0].slice(0, 120)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
