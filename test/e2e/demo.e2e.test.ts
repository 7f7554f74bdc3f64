import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { PROJECT_ROOT } from '../support/lambda.js';

// npm run demo is the README's quick start: its script (after ./build-handler.sh, which npm test has run) must show
// what the README says it shows, and stop everything it started. It starts a control plane of its own; its token
// webhook and function record what they saw for the run-wide secret scan, through the inherited
// LAMBDA_EKS_RUN_RECORD.
describe('npm run demo', () => {
  it('walks a newcomer through create, exists, dry run, apply with wait, get, delete and an error with its fix', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(PROJECT_ROOT, 'test/run.mjs'), 'test/demo/demo.ts'],
      { cwd: PROJECT_ROOT, env: process.env, timeout: 150_000 },
    );

    expect(stdout).toMatch(
      /^A REAL KUBE-APISERVER v1\.36\.\d+ of cluster "demo" on https:\/\/127\.0\.0\.1:\d+, on this machine /m,
    );
    const results = [...stdout.matchAll(/^ {3}(result|error): {1,2}(.*)$/gm)].map(([, kind, text]) =>
      kind === 'result' ? (JSON.parse(text ?? '') as Record<string, unknown>) : { error: text },
    );
    expect(results).toEqual([
      expect.objectContaining({ status: 'created', name: 'nginx-deployment', replicas: 2, uid: expect.any(String) }),
      expect.objectContaining({ status: 'exists', name: 'nginx-deployment' }),
      expect.objectContaining({ status: 'dry-run', name: 'preview' }),
      expect.objectContaining({
        status: 'configured',
        replicas: 3,
        rollout: expect.objectContaining({ state: 'complete', desired: 3, available: 3 }),
      }),
      expect.objectContaining({
        status: 'found',
        replicas: 3,
        rollout: expect.objectContaining({ state: 'complete' }),
      }),
      expect.objectContaining({ status: 'deleted', name: 'nginx-deployment' }),
      {
        error: expect.stringMatching(
          /^ClusterAuthorizationError: .*kubectl apply -n locked -f permissions\.yml -l lambda-eks\/grant=create/,
        ),
      },
    ]);
    // Every step shows the function's own JSON log record.
    expect(stdout.match(/^ {3}log: {4}\{"level":"(INFO|ERROR)","message":"invocation"/gm)).toHaveLength(7);
    expect(stdout).not.toContain('k8s-aws-v1.');
    expect(stdout.trimEnd().endsWith('deploy to a real cluster with ./deploy.sh <cluster-name>.')).toBe(true);
    // It stopped what it started: its kube-apiserver no longer listens.
    const port = Number(/on https:\/\/127\.0\.0\.1:(\d+),/.exec(stdout)?.[1]);
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve('connected'));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  }, 180_000);
});
