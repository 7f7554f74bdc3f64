// Runs inside a fresh Node process for the benchmark. Modes:
//   cold <bundle>:        import the bundle, invoke once; print import and first-invocation times
//   import <bundle>:      import only (for process wall time)
//   warm <bundle> <n>:    import, invoke n times; print per-invocation times and RSS at 100 and n
import { pathToFileURL } from 'node:url';

const [mode, bundle, count] = process.argv.slice(2);
const context = (id) => ({ awsRequestId: id, getRemainingTimeInMillis: () => 30_000 });
const prefix = process.env.BENCH_PREFIX ?? 'bench';

const beforeImport = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const imported = performance.now();
if (mode === 'import') {
  process.exit(0);
}
if (mode === 'cold') {
  await handler({ name: `${prefix}-cold` }, context('cold'));
  const invoked = performance.now();
  console.log(
    JSON.stringify({ bootMs: beforeImport, importMs: imported - beforeImport, firstInvokeMs: invoked - imported }),
  );
  process.exit(0);
}
const n = Number(count);
const durations = [];
let rssAt100 = 0;
for (let i = 1; i <= n; i += 1) {
  const started = performance.now();
  await handler({ name: `${prefix}-${i}` }, context(String(i)));
  durations.push(performance.now() - started);
  if (i === 100) {
    globalThis.gc?.();
    rssAt100 = process.memoryUsage().rss;
  }
}
globalThis.gc?.();
const rssAtEnd = process.memoryUsage().rss;
console.log(JSON.stringify({ durations, rssAt100, rssAtEnd, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
