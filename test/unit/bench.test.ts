import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { build } from 'esbuild';
import { bundleOptions } from '../../esbuild.config.mjs';
import { PROJECT_ROOT } from '../support/lambda.js';

// The benchmark is not run by the tests (npm run bench); this keeps it compiling and its baseline bundling.
describe('bench/', () => {
  it('compiles the benchmark runner', async () => {
    const result = await build({
      entryPoints: [join(PROJECT_ROOT, 'bench/run.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles[0]?.text).toContain('formatTable');
  });

  it('bundles the naive baseline with the function options, undici and all', async () => {
    const result = await build({
      ...bundleOptions({ index: join(PROJECT_ROOT, 'bench/naive-handler.ts') }, join(PROJECT_ROOT, 'bench/out/test')),
      write: false,
    });
    const inputs = Object.keys(result.metafile?.inputs ?? {});
    expect(inputs.some((input) => input.includes('node_modules/undici/'))).toBe(true);
    expect(inputs.some((input) => input.includes('client-node/dist/config.js'))).toBe(true);
  });
});
