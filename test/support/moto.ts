// Starts moto (the AWS API emulator in the machine image) on 127.0.0.1 for the duration of a test file, and talks to
// it with the real AWS CLI.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './lambda.js';
import { accepts, freePort } from './control-plane/processes.js';
import { requirePythonModules, requireTool } from './tools.js';

const run = promisify(execFile);

export const MOTO_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };

/** The endpoint and CA moto gives the clusters created from now on. */
export interface ClusterSeed {
  readonly endpoint: string;
  readonly caData: string;
}

export class Moto {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly seedDir: string,
  ) {}

  /** Starts moto with EKS clusters seeded to the given endpoint and CA; waits (at most 20 s) until it listens. */
  static async start(seed: ClusterSeed): Promise<Moto> {
    requirePythonModules('moto');
    const seedDir = mkdtempSync(join(tmpdir(), 'lambda-eks-moto-'));
    writeSeed(seedDir, seed);
    const port = await freePort();
    const child = spawn(
      requireTool('python3'),
      [join(PROJECT_ROOT, 'test/support/moto_eks.py'), '-H', '127.0.0.1', '-p', String(port)],
      {
        env: { ...process.env, MOTO_EKS_SEED: join(seedDir, 'seed.json') },
        stdio: 'ignore',
      },
    );
    for (let attempt = 0; attempt < 200; attempt += 1) {
      if (await accepts(port)) return new Moto(child, `http://127.0.0.1:${port}`, seedDir);
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGKILL');
    rmSync(seedDir, { recursive: true, force: true });
    throw new Error('moto_server did not start within 20 s');
  }

  /** Deletes the cluster and creates it again with another endpoint and CA, as a user recreating it would. */
  async recreateCluster(name: string, seed: ClusterSeed): Promise<void> {
    writeSeed(this.seedDir, seed);
    await this.aws('eks', 'delete-cluster', '--name', name);
    await this.createCluster(name);
  }

  /** Runs the AWS CLI against moto and returns its parsed JSON output. */
  async aws(...args: string[]): Promise<unknown> {
    const { stdout } = await run(
      requireTool('aws'),
      ['--endpoint-url', this.url, '--region', 'us-west-2', '--output', 'json', ...args],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: '/nonexistent',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          ...MOTO_CREDENTIALS,
        },
      },
    );
    return JSON.parse(stdout);
  }

  /** Creates an EKS cluster in moto. */
  async createCluster(name: string): Promise<void> {
    await this.aws(
      'eks',
      'create-cluster',
      '--name',
      name,
      '--role-arn',
      'arn:aws:iam::123456789012:role/eks',
      '--resources-vpc-config',
      'subnetIds=subnet-12345678',
    );
  }

  async stop(): Promise<void> {
    rmSync(this.seedDir, { recursive: true, force: true });
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

function writeSeed(dir: string, seed: ClusterSeed): void {
  writeFileSync(join(dir, 'seed.json'), JSON.stringify(seed));
}
