import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from '@jridgewell/sourcemap-codec';
import { describe, expect, it } from '@jest/globals';
import { loadedAtImport } from '../../esbuild.config.mjs';
import { at } from '../support/json.js';
import { PROJECT_ROOT, resolveHandler } from '../support/lambda.js';

// What ./build-handler.sh produced, which the other end-to-end tests run.
const read = (file: string): string => readFileSync(join(PROJECT_ROOT, 'dist', file), 'utf8');

describe('the bundle', () => {
  const handlerFile = resolveHandler().file;
  // What Lambda loads for every invocation: index.mjs, the chunks it imports, vendor.mjs.
  const loaded = loadedAtImport(join(PROJECT_ROOT, 'dist'));
  const ours = loaded.filter((file) => file !== 'vendor.mjs');
  const code = ours.map(read).join('\n');
  const vendor = read('vendor.mjs');
  const setChunks = readdirSync(join(PROJECT_ROOT, 'dist')).filter(
    (file) => file.endsWith('.mjs') && !loaded.includes(file) && /^(actions|manifest-resource)-/.test(file),
  );

  it('is the ES module template.yml points at, importing the libraries from vendor.mjs and its own chunks', () => {
    expect(handlerFile).toBe(join(PROJECT_ROOT, 'dist/index.mjs'));
    expect(loaded).toEqual(expect.arrayContaining(['index.mjs', 'vendor.mjs']));
    expect(code).toMatch(/from"\.\/vendor\.mjs"/);
    expect(code).not.toMatch(/from"(?!\.\/(vendor|chunk-[A-Z0-9]+)\.mjs"|node:)/);
  });

  it('leaves the set engine to chunks loaded on first use, which the Deployment actions never load', () => {
    expect(setChunks.length).toBe(2);
    const handler = read('index.mjs');
    for (const chunk of setChunks) expect(handler).toContain(`import("./${chunk}")`);
    // The set engine's own words are not in what every invocation loads.
    for (const marker of [
      'cannot take these objects',
      'readiness cannot be observed',
      'is not the manifest its SHA-256',
    ]) {
      expect(code.includes(marker)).toBe(false);
    }
  });

  it('maps our files, and only our sources, with their source maps; vendor.mjs has none', () => {
    for (const file of [...ours, ...setChunks]) {
      expect(read(file).trimEnd().endsWith(`//# sourceMappingURL=${file}.map`)).toBe(true);
      const sources = at(JSON.parse(read(`${file}.map`)), 'sources');
      expect(Array.isArray(sources) && sources.length > 0).toBe(true);
      for (const source of Array.isArray(sources) ? sources : []) {
        expect(String(source)).toMatch(/^\.\.\/src\/.*\.ts$/);
      }
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

  it.each(['index.mjs', 'manifest-resource'])(
    'maps %s by source line: one segment per run on a line, no names',
    (name) => {
      const file =
        readdirSync(join(PROJECT_ROOT, 'dist')).find(
          (candidate) => candidate.startsWith(name) && candidate.endsWith('.mjs.map'),
        ) ?? '';
      const map: unknown = JSON.parse(read(file));
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
    },
  );

  it('keeps class names, which Lambda logs as errorType', () => {
    for (const name of ['ConfigurationError', 'ClusterAuthorizationError', 'RolloutFailedError', 'NotManagedError']) {
      // esbuild's keepNames: each class sets its name in a static block.
      expect(code).toMatch(new RegExp(`static\\{\\w+\\(this,"${name}"\\)\\}`));
    }
  });
});
