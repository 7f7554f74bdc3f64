import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { at } from '../support/json.js';
import { PROJECT_ROOT, resolveHandler } from '../support/lambda.js';

// What ./build-handler.sh produced, which the other end-to-end tests run.
const read = (file: string): string => readFileSync(join(PROJECT_ROOT, 'dist', file), 'utf8');

describe('the bundle', () => {
  const handlerFile = resolveHandler().file;
  const code = readFileSync(handlerFile, 'utf8');
  const vendor = read('vendor.mjs');

  it('is the ES module template.yml points at, importing the libraries from vendor.mjs', () => {
    expect(handlerFile).toBe(join(PROJECT_ROOT, 'dist/index.mjs'));
    expect(code).toMatch(/from"\.\/vendor\.mjs"/);
    expect(code).not.toMatch(/from"(?!\.\/vendor\.mjs"|node:)/);
  });

  it('maps index.mjs, and only our sources, with its source map; vendor.mjs has none', () => {
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
    const sources = at(JSON.parse(read('index.mjs.map')), 'sources');
    expect(Array.isArray(sources) && sources.length > 10).toBe(true);
    for (const source of Array.isArray(sources) ? sources : []) {
      expect(String(source)).toMatch(/^\.\.\/src\/.*\.ts$/);
    }
    expect(vendor).not.toContain('sourceMappingURL');
  });

  it('leaves the AWS SDK to describe-cluster.mjs, imported only to discover the cluster', () => {
    const sdk = read('describe-cluster.mjs');
    expect(code).toContain('import("./describe-cluster.mjs")');
    // The SDK client's middleware stack and the operation name, which minification keeps.
    for (const marker of ['middlewareStack', '"DescribeCluster"']) {
      expect(sdk.includes(marker)).toBe(true);
      expect(code.includes(marker)).toBe(false);
      expect(vendor.includes(marker)).toBe(false);
    }
  });

  it('carries neither undici nor the kubeconfig loaders', () => {
    for (const marker of ['undici', 'openid-client', 'ExecAuth', 'loadFromFile']) {
      expect(code.includes(marker)).toBe(false);
      expect(vendor.includes(marker)).toBe(false);
    }
  });

  it('loads node:fs/promises and node:os only when a library calls them, which the function never does', () => {
    expect(vendor).not.toMatch(/from"node:(fs\/promises|os)"/);
    expect(vendor).toContain('process.getBuiltinModule("node:fs/promises")');
  });

  it('maps index.mjs by source line: at most one segment per run on a line, and no names', () => {
    const map: unknown = JSON.parse(read('index.mjs.map'));
    expect(at(map, 'names')).toEqual([]);
    const mappings = String(at(map, 'mappings'));
    // esbuild's own map of this code has about 9,500 segments (one per token); by line, about a quarter.
    expect(mappings.split(/[,;]/).filter(Boolean).length).toBeLessThan(4000);
  });

  it('keeps class names, which Lambda logs as errorType', () => {
    for (const name of ['ConfigurationError', 'ClusterAuthorizationError', 'RolloutFailedError', 'NotManagedError']) {
      // esbuild's keepNames: each class sets its name in a static block.
      expect(code).toMatch(new RegExp(`static\\{\\w+\\(this,"${name}"\\)\\}`));
    }
  });
});
