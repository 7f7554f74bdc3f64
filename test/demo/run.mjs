// npm run demo: compiles test/demo/demo.ts (dependencies stay in node_modules) and runs it. Build the function first
// (npm run demo does: ./build-handler.sh).
import { build } from 'esbuild';

await build({
  entryPoints: ['test/demo/demo.ts'],
  outfile: 'test/out/demo.mjs',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  packages: 'external',
  logLevel: 'warning',
});
await import(new URL('../out/demo.mjs', import.meta.url).href);
