import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { PROJECT_ROOT, resolveHandler } from '../support/lambda.js';

// What ./build-handler.sh produced, which the other end-to-end tests run.
describe('the bundle', () => {
  const handlerFile = resolveHandler().file;
  const code = readFileSync(handlerFile, 'utf8');

  it('is the ES module template.yml points at, with its source map', () => {
    expect(handlerFile).toBe(join(PROJECT_ROOT, 'dist/index.mjs'));
    expect(code.includes('sourceMappingURL=index.mjs.map')).toBe(true);
    expect(code.startsWith("import { createRequire as __createRequire } from 'node:module'")).toBe(true);
  });

  it('leaves the AWS SDK to describe-cluster.mjs, imported only to discover the cluster', () => {
    const sdk = readFileSync(join(PROJECT_ROOT, 'dist/describe-cluster.mjs'), 'utf8');
    expect(code).toContain('import("./describe-cluster.mjs")');
    // The SDK client's middleware stack and the operation name, which minification keeps.
    for (const marker of ['middlewareStack', '"DescribeCluster"']) {
      expect(sdk.includes(marker)).toBe(true);
      expect(code.includes(marker)).toBe(false);
    }
  });

  it('carries neither undici nor the kubeconfig loaders', () => {
    for (const marker of ['undici', 'openid-client', 'ExecAuth', 'loadFromFile']) {
      expect(code.includes(marker)).toBe(false);
    }
  });
});
