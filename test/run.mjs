// Runs a TypeScript script of the project's tooling: compiles it with esbuild into test/out/ and imports it. How npm
// run demo, cluster, invoke and bench start. Usage: node test/run.mjs <script.ts> [arguments...]
import { basename } from 'node:path';
import { runScript } from '../esbuild.config.mjs';

const [entry] = process.argv.slice(2);
if (entry === undefined) {
  console.error('usage: node test/run.mjs <script.ts> [arguments...]');
  process.exit(2);
}
// The script sees its own arguments at process.argv.slice(2), as if it had been started itself.
process.argv.splice(2, 1);
await runScript(entry, `test/out/${basename(entry, '.ts')}.mjs`);
