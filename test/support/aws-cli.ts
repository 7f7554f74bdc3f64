// The reference token: `aws eks get-token` from the real AWS CLI, under a frozen clock (faketime -f) and a clean
// environment, which makes it deterministic byte for byte.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { at } from './json.js';
import { requireTool } from './tools.js';

const run = promisify(execFile);

export interface CliTokenInput {
  readonly clusterName: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** UTC, "YYYY-MM-DD hh:mm:ss". */
  readonly frozenTime: string;
}

/** Runs `aws eks get-token` and returns status.token of its ExecCredential. */
export async function awsCliToken(input: CliTokenInput): Promise<string> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: '/nonexistent',
    TZ: 'UTC',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: input.accessKeyId,
    AWS_SECRET_ACCESS_KEY: input.secretAccessKey,
    ...(input.sessionToken ? { AWS_SESSION_TOKEN: input.sessionToken } : {}),
  };
  const { stdout } = await run(
    requireTool('faketime'),
    [
      '-f',
      input.frozenTime,
      requireTool('aws'),
      'eks',
      'get-token',
      '--cluster-name',
      input.clusterName,
      '--region',
      input.region,
    ],
    { env, timeout: 60_000 },
  );
  const token = at(JSON.parse(stdout), 'status', 'token');
  if (typeof token !== 'string') {
    throw new Error(`aws eks get-token printed no status.token: ${stdout.slice(0, 200)}`);
  }
  return token;
}
