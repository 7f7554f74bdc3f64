// npm run bench: compiles bench/run.ts and runs it (npm run bench -- --record keeps the figures in bench/results.json).
import { runScript } from '../esbuild.config.mjs';

await runScript('bench/run.ts', 'bench/out/run.mjs');
