// Runs inside a fresh Node process for the benchmark, started with Lambda's bootstrap flags. Modes:
//   import <bundle>                 import the bundle, nothing else (for process wall time)
//   cold <bundle> <event.json>      import, invoke once; print import and first-invocation times and CPU
//   error <bundle>                  import, invoke once expecting an error; print how long its stack took to format
//   setup <bundle> <n> <kind>       make the object a warm get or apply run reads (n is ignored)
//   warm <bundle> <n> <kind>        import, invoke n times (kind: create, apply, get, delete, custom-resource);
//                                   print each invocation's time, and RSS and live heap (after a full GC) at
//                                   invocation 100 and n
//   serve <bundle>                  import, then invoke the handler with each event the parent sends over IPC
//                                   (`{ id, event }`), one at a time; answer each with its time and the result's
//                                   status and counts (or the error); exit when the parent disconnects
import { pathToFileURL } from 'node:url';

const [mode, bundle, ...rest] = process.argv.slice(2);
const context = (id) => ({
  awsRequestId: id,
  functionName: 'lambda-eks-bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:lambda-eks-bench',
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '256',
  getRemainingTimeInMillis: () => 30_000,
});
const prefix = process.env.BENCH_PREFIX ?? 'bench';
const cpuMs = (usage) => (usage.user + usage.system) / 1000;

const cpuBefore = process.cpuUsage();
const beforeImport = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const imported = performance.now();
const importCpu = cpuMs(process.cpuUsage(cpuBefore));

if (mode === 'import') {
  process.exit(0);
}
if (mode === 'cold') {
  const event = JSON.parse(rest[0] ?? '{}');
  const cpuFirst = process.cpuUsage();
  const result = await handler(event, context('cold'));
  const invoked = performance.now();
  console.log(
    JSON.stringify({
      bootMs: beforeImport,
      importMs: imported - beforeImport,
      importCpuMs: importCpu,
      firstInvokeMs: invoked - imported,
      firstInvokeCpuMs: cpuMs(process.cpuUsage(cpuFirst)),
      // A set's result says what it did to its objects (created, unchanged, ...): the benchmark checks it.
      counts: result?.counts,
    }),
  );
  process.exit(0);
}
if (mode === 'serve') {
  // A warm execution environment the parent drives: it times each invocation here, and reads between two
  // invocations what the proxy saw, so that each invocation's requests are its own.
  let served = 0;
  process.on('message', async ({ id, event }) => {
    served += 1;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    try {
      const result = await handler(event, context(`serve-${served}`));
      const ms = performance.now() - started;
      const cpu = cpuMs(process.cpuUsage(cpuBefore));
      process.send({
        id,
        ms,
        cpuMs: cpu,
        status: result?.status,
        counts: result?.counts,
        rssBytes: process.memoryUsage().rss,
      });
    } catch (error) {
      process.send({ id, ms: performance.now() - started, error: `${error?.name}: ${error?.message}` });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true, importMs: imported - beforeImport });
  await new Promise(() => {});
}
if (mode === 'error') {
  const started = performance.now();
  let error;
  try {
    await handler({}, context('error'));
  } catch (thrown) {
    error = thrown;
  }
  const failed = performance.now();
  // Lambda's runtime reads the stack to post the error: the first read formats it (and maps it, with source maps).
  const trace = String(error?.stack ?? '').split('\n');
  const formatted = performance.now();
  console.log(
    JSON.stringify({
      errorType: error?.name,
      invocationMs: failed - started,
      stackMs: formatted - failed,
      srcFrames: trace.filter((frame) => frame.includes('/src/')).length,
    }),
  );
  process.exit(0);
}

const n = Number(rest[0]);
const kind = rest[1] ?? 'create';
const responseUrl = process.env.BENCH_RESPONSE_URL ?? '';
/** The timed event of iteration i, and any untimed event that must run before it. Deployments of 0 replicas: the
 * requests are the same, and no pods keep the cluster busy while the next subject is measured. */
function eventsFor(i) {
  if (kind === 'apply') return { timed: { action: 'apply', name: `${prefix}-applied`, replicas: 2 + (i % 2) } };
  if (kind === 'get') return { timed: { action: 'get', name: `${prefix}-read` } };
  if (kind === 'delete') {
    return { before: { name: `${prefix}-${i}`, replicas: 0 }, timed: { action: 'delete', name: `${prefix}-${i}` } };
  }
  if (kind === 'custom-resource') {
    return {
      timed: {
        RequestType: 'Create',
        ResponseURL: `${responseUrl}/${i}`,
        StackId: 'arn:aws:cloudformation:us-west-2:111122223333:stack/bench/00000000-0000-0000-0000-000000000000',
        RequestId: `request-${i}`,
        LogicalResourceId: `Web${i}`,
        ResourceType: 'Custom::KubernetesDeployment',
        ResourceProperties: {
          ServiceToken: 'arn:aws:lambda:us-west-2:111122223333:function:f',
          Name: `${prefix}-${i}`,
          Replicas: '0',
        },
      },
    };
  }
  return { timed: { name: `${prefix}-${i}`, replicas: 0 } };
}
if (mode === 'setup') {
  // The object a warm get or apply run reads, made in a process of its own so that its requests are not counted.
  if (kind === 'get') await handler({ name: `${prefix}-read` }, context('setup'));
  if (kind === 'apply') await handler({ action: 'apply', name: `${prefix}-applied` }, context('setup'));
  process.exit(0);
}
const durations = [];
let rssAt100 = 0;
let heapAt100 = 0;
for (let i = 1; i <= n; i += 1) {
  const { before, timed } = eventsFor(i);
  if (before) await handler(before, context(`before-${i}`));
  const started = performance.now();
  await handler(timed, context(String(i)));
  durations.push(performance.now() - started);
  if (i === 100) {
    globalThis.gc?.();
    ({ rss: rssAt100, heapUsed: heapAt100 } = process.memoryUsage());
  }
}
globalThis.gc?.();
const { rss: rssAtEnd, heapUsed: heapAtEnd } = process.memoryUsage();
const maxRssBytes = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ durations, rssAt100, rssAtEnd, heapAt100, heapAtEnd, maxRssBytes }));
