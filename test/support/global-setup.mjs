// Creates the directory where every test worker records the function's output and the secrets it held, and starts
// the run's control plane (test/support/test-run-cluster.ts), unless every test the run selects is a unit test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** Whether the run selects unit tests only (npm run test:unit): they need no control plane. */
function unitTestsOnly(globalConfig) {
  const patterns = globalConfig.testPathPatterns?.patterns ?? globalConfig.testPathPatterns ?? [];
  return patterns.length > 0 && patterns.every((pattern) => /^(\.\/)?test\/unit(\/|$)/.test(pattern));
}

export default async function globalSetup(globalConfig) {
  const runDir = mkdtempSync(join(tmpdir(), 'lambda-eks-run-'));
  process.env.LAMBDA_EKS_RUN_RECORD = runDir;
  if (unitTestsOnly(globalConfig)) return;
  // In test/out/, as deep as test/support/: the compiled code finds the project from where it is. One file per run,
  // so that two runs at once do not overwrite each other's.
  const outfile = join(process.cwd(), `test/out/test-run-cluster-${process.pid}.mjs`);
  await build({
    entryPoints: ['test/support/test-run-cluster.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
  const { startTestRunCluster } = await import(pathToFileURL(outfile).href);
  rmSync(outfile);
  globalThis.stopTestRunCluster = await startTestRunCluster(runDir);
}
