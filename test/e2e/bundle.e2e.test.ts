import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from '@jridgewell/sourcemap-codec';
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
    const lines = decode(String(at(map, 'mappings')));
    // esbuild maps every token; coarsened, a segment starts each run of code from one source line, and no more.
    const runs = lines.flatMap((segments) =>
      segments.slice(1).filter((segment, index) => {
        const before = segments[index];
        return before !== undefined && before[1] === segment[1] && before[2] === segment[2];
      }),
    );
    expect(lines.flat().length).toBeGreaterThan(100);
    expect(runs).toEqual([]);
  });

  it('keeps class names, which Lambda logs as errorType', () => {
    for (const name of ['ConfigurationError', 'ClusterAuthorizationError', 'RolloutFailedError', 'NotManagedError']) {
      // esbuild's keepNames: each class sets its name in a static block.
      expect(code).toMatch(new RegExp(`static\\{\\w+\\(this,"${name}"\\)\\}`));
    }
  });
});
