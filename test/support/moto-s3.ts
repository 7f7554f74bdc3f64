// moto_server for S3, IAM and STS on 127.0.0.1, with moto's IAM authentication switched on once the test has set it
// up: from then on every request must carry a correct SigV4 signature of a known access key, and the identity's
// policies must allow the action, as in AWS. Set up with the real AWS CLI.
//
// One change to moto (MOTO_AS_SENT): it checks a signature against the request path as it was sent. Stock moto
// 5.x rebuilds the path from werkzeug's decoded, IRI form of the URL, where a key's non-ASCII characters and
// !'()*+,;=:@&$ come back unescaped, while S3 and every SDK canonicalise them percent-encoded; so stock moto refuses
// the AWS CLI's own signature for such a key (SignatureDoesNotMatch), and ours with it. Everything else, the
// signature computation (botocore's S3SigV4Auth), the policy evaluation and the errors, is moto's own.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { accepts, freePort } from './control-plane/processes.js';
import { requirePythonModules, requireTool } from './tools.js';

const run = promisify(execFile);

/** The region the tests sign for; moto keeps every region's buckets in one namespace, as S3 does. */
export const MOTO_S3_REGION = 'us-west-2';
/** The credentials of the setup. moto accepts any until authentication is switched on, and none after. */
const SETUP_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** AWS credentials, as the CLI and the function take them. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** python3 -c: moto_server's main, with the authentication of a request given the path as sent (WSGI RAW_URI, the
 * request target byte for byte) instead of the decoded URL. Only S3's handler keeps the request it checks. */
const MOTO_AS_SENT = `
import sys
from urllib.parse import urlsplit
from moto.core.authorization import ActionAuthenticatorMixin
from moto.server import main

_check = ActionAuthenticatorMixin._authenticate_and_authorize_action

def _check_as_sent(self, iam_request_cls, resource="*"):
    environ = getattr(getattr(self, "request", None), "environ", None) or {}
    target = environ.get("RAW_URI")
    if not target:
        return _check(self, iam_request_cls, resource)
    decoded = self.uri
    parts = urlsplit(decoded)
    self.uri = parts.scheme + "://" + parts.netloc + target
    try:
        return _check(self, iam_request_cls, resource)
    finally:
        self.uri = decoded

ActionAuthenticatorMixin._authenticate_and_authorize_action = _check_as_sent
main(sys.argv[1:])
`;

export class MotoS3 {
  private authenticating = false;

  private constructor(
    private readonly child: ChildProcess,
    /** The endpoint, as AWS_ENDPOINT_URL_S3 would name it. */
    readonly url: string,
    private readonly workDir: string,
  ) {}

  /** Starts moto_server with authentication off (INITIAL_NO_AUTH_ACTION_COUNT unlimited, until `authenticate`);
   * waits (at most 20 s) until it listens. Throws MissingToolError when python3 or moto is not installed. */
  static async start(): Promise<MotoS3> {
    const python = requireTool('python3');
    requirePythonModules('moto');
    const port = await freePort();
    const child = spawn(python, ['-c', MOTO_AS_SENT, '-H', '127.0.0.1', '-p', String(port)], {
      env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: 'inf' },
      stdio: 'ignore',
    });
    const workDir = mkdtempSync(join(tmpdir(), 'lambda-eks-moto-s3-'));
    for (let attempt = 0; attempt < 200; attempt += 1) {
      if (await accepts(port)) return new MotoS3(child, `http://127.0.0.1:${port}`, workDir);
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
    throw new Error('moto_server did not start within 20 s');
  }

  /** Switches moto's IAM authentication on (POST /moto-api/reset-auth with 0 requests left without it): every
   * request after this one is checked, its signature and its identity's policies. Setup through `aws` ends here. */
  async authenticate(): Promise<void> {
    const response = await fetch(`${this.url}/moto-api/reset-auth`, { method: 'POST', body: '0' });
    if (!response.ok) {
      throw new Error(`moto refused to switch authentication on: HTTP ${response.status} ${await response.text()}`);
    }
    this.authenticating = true;
  }

  /** Runs the AWS CLI against moto (as the setup identity, before `authenticate`, or as `as`) and returns its parsed
   * JSON output ({} when it prints nothing). */
  async aws(args: readonly string[], as: Credentials = SETUP_CREDENTIALS): Promise<unknown> {
    if (this.authenticating && as === SETUP_CREDENTIALS) {
      throw new Error('moto authenticates requests now; set it up before calling authenticate()');
    }
    const { stdout } = await run(
      requireTool('aws'),
      ['--endpoint-url', this.url, '--region', MOTO_S3_REGION, '--output', 'json', ...args],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: '/nonexistent',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_ACCESS_KEY_ID: as.accessKeyId,
          AWS_SECRET_ACCESS_KEY: as.secretAccessKey,
          ...(as.sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: as.sessionToken }),
        },
        timeout: 60_000,
      },
    );
    return stdout.trim() === '' ? {} : JSON.parse(stdout);
  }

  /** Puts an object and returns its VersionId (undefined in a bucket without versioning). */
  async putObject(bucket: string, key: string, body: Buffer | string): Promise<string | undefined> {
    const file = join(this.workDir, 'body');
    writeFileSync(file, body);
    const answer = await this.aws(['s3api', 'put-object', '--bucket', bucket, '--key', key, '--body', file]);
    const versionId: unknown = (answer as { VersionId?: unknown }).VersionId;
    return typeof versionId === 'string' ? versionId : undefined;
  }

  /** Creates an IAM user with an access key and, when given, an inline policy; returns the key. */
  async createUser(name: string, policy?: unknown): Promise<Credentials> {
    await this.aws(['iam', 'create-user', '--user-name', name]);
    if (policy !== undefined) {
      await this.aws([
        'iam',
        'put-user-policy',
        '--user-name',
        name,
        '--policy-name',
        `${name}-policy`,
        '--policy-document',
        JSON.stringify(policy),
      ]);
    }
    const answer = (await this.aws(['iam', 'create-access-key', '--user-name', name])) as {
      AccessKey: { AccessKeyId: string; SecretAccessKey: string };
    };
    return { accessKeyId: answer.AccessKey.AccessKeyId, secretAccessKey: answer.AccessKey.SecretAccessKey };
  }

  /** Creates an IAM role with an inline policy and assumes it: credentials with a session token, as Lambda gives a
   * function its execution role's. */
  async assumeRole(name: string, policy: unknown): Promise<Credentials> {
    const trust = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    };
    const role = (await this.aws([
      'iam',
      'create-role',
      '--role-name',
      name,
      '--assume-role-policy-document',
      JSON.stringify(trust),
    ])) as { Role: { Arn: string } };
    await this.aws([
      'iam',
      'put-role-policy',
      '--role-name',
      name,
      '--policy-name',
      `${name}-policy`,
      '--policy-document',
      JSON.stringify(policy),
    ]);
    const answer = (await this.aws([
      'sts',
      'assume-role',
      '--role-arn',
      role.Role.Arn,
      '--role-session-name',
      'lambda-eks',
    ])) as { Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } };
    return {
      accessKeyId: answer.Credentials.AccessKeyId,
      secretAccessKey: answer.Credentials.SecretAccessKey,
      sessionToken: answer.Credentials.SessionToken,
    };
  }

  async stop(): Promise<void> {
    rmSync(this.workDir, { recursive: true, force: true });
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
