// The real kubectl against a stand-in: a temporary kubeconfig with the stand-in's URL, its CA and an EKS token, a
// cache directory of its own, and every call bounded in time.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { requireTool } from './tools.js';

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Kubectl {
  /** Runs kubectl with `args` (and `stdin`, if given); never rejects for a non-zero exit. */
  run(args: readonly string[], stdin?: string): Promise<KubectlResult>;
  /** Writes a manifest file in the kubectl's directory and returns its path. */
  manifest(name: string, object: unknown): string;
  /** Removes the kubeconfig, cache and manifests. */
  close(): void;
}

/** A kubectl for `server` (https URL), trusting `caData` (base64 PEM), authenticating with `token`, in `namespace`. */
export function kubectlFor(server: string, caData: string, token: string, namespace = 'default'): Kubectl {
  const binary = requireTool('kubectl');
  const dir = mkdtempSync(join(tmpdir(), 'lambda-eks-kubectl-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'demo', cluster: { server, 'certificate-authority-data': caData } }],
      users: [{ name: 'function', user: { token } }],
      contexts: [{ name: 'demo', context: { cluster: 'demo', user: 'function', namespace } }],
      'current-context': 'demo',
    }),
    { mode: 0o600 },
  );
  return {
    run(args, stdin) {
      return new Promise((resolve) => {
        const child = execFile(
          binary,
          ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), '--request-timeout=5s', ...args],
          { env: { PATH: process.env['PATH'] ?? '', HOME: dir }, timeout: 20_000, encoding: 'utf8' },
          (error, stdout, stderr) => {
            const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
            resolve({ code, stdout, stderr });
          },
        );
        if (stdin !== undefined) child.stdin?.end(stdin);
      });
    },
    manifest(name, object) {
      const path = join(dir, name);
      writeFileSync(path, stringify(object));
      return path;
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
