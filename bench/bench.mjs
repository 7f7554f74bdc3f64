// npm run bench: compiles bench/run.ts (dependencies stay in node_modules) and runs it.
import { build } from 'esbuild';

await build({
  entryPoints: ['bench/run.ts'],
  outfile: 'bench/out/run.mjs',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  packages: 'external',
  logLevel: 'warning',
});
await import(new URL('./out/run.mjs', import.meta.url).href);
