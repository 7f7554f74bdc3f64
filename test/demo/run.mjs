// npm run demo: compiles test/demo/demo.ts and runs it (npm run demo builds the function first).
import { runScript } from '../../esbuild.config.mjs';

await runScript('test/demo/demo.ts', 'test/out/demo.mjs');
