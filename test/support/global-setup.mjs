// Creates the directory where every test worker records the function's output and the secrets it held.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function globalSetup() {
  process.env.LAMBDA_EKS_RUN_RECORD = mkdtempSync(join(tmpdir(), 'lambda-eks-run-'));
}
