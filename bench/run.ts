// npm run bench: builds our function, a naive baseline and a floor with the same esbuild options, starts each the
// way Lambda's Node.js bootstrap starts Node for the template's MemorySize (test/support/lambda-bootstrap.mjs), runs
// them against the local control plane's real kube-apiserver on 127.0.0.1 (test/support/local-cluster.ts), and prints
// a table; and the set path (apply-manifest of bench/set.yaml, 20 objects) against kubectl apply --server-side
// (bench/set-bench.ts). It writes bench/out/results.json; with
// --record (npm run bench -- --record) also bench/results.json, the figures the README quotes.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { issueEksToken } from '../src/aws/token-cache.js';
import { mintEksToken } from '../src/aws/token.js';
import { resetWarmState } from '../src/state.js';
import { awsCliToken } from '../test/support/aws-cli.js';
import { CfnReceiver } from '../test/support/cfn-receiver.js';
import { FaultProxy } from '../test/support/fault-proxy.js';
import { ACCESS_KEY_ID, functionEnv, SECRET_ACCESS_KEY, SESSION_TOKEN } from '../test/support/fixture.js';
import { restPath } from '../test/support/kube-admin.js';
import { adminOf, applyGrants, GRANTS, startLocalCluster } from '../test/support/local-cluster.js';
import { at } from '../test/support/json.js';
import { lambdaNodeArgs } from '../test/support/lambda-bootstrap.mjs';
import { templateMemorySize, templateNodeOptions } from '../test/support/lambda.js';
import { requireTool } from '../test/support/tools.js';
import { buildFunction, bundleOptions, loadedAtImport, trimmedModels } from '../esbuild.config.mjs';
import { benchSet, formatSetTable } from './set-bench.js';

const run = promisify(execFile);
const ROOT = process.cwd();
const OUT = join(ROOT, 'bench/out');
const RECORD = process.argv.includes('--record');
const COLD_RUNS = Number(process.env['BENCH_COLD_RUNS'] ?? 15);
/** Rounds of the set bench (bench/set-bench.ts): each a warm apply unchanged and with one change, a kubectl process and
 * a fresh environment. */
const SET_ROUNDS = Number(process.env['BENCH_SET_ROUNDS'] ?? 21);
const WARM_LATENCY = 200;
const WARM_MEMORY = 1000;
const MEMORY_SIZE_MB = templateMemorySize();
const LAMBDA_ARGS = lambdaNodeArgs(MEMORY_SIZE_MB);
const OUR_NODE_OPTIONS = templateNodeOptions();
/** Lambda gives a function CPU in proportion to its memory: a full vCPU at 1769 MB. */
const FULL_VCPU_MB = 1769;

interface Stats {
  median: number;
  min: number;
  max: number;
}

interface Subject {
  readonly label: string;
  readonly file: string;
  readonly nodeOptions: string;
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function num(value: unknown, ...path: string[]): number {
  const field = at(value, ...path);
  if (typeof field !== 'number') throw new Error(`benchmark child printed no ${path.join('.')}`);
  return field;
}

function sizeOf(files: string[]): { bytes: number; gzipBytes: number } {
  const code = files.map((file) => readFileSync(file));
  return {
    bytes: code.reduce((sum, part) => sum + part.length, 0),
    gzipBytes: code.reduce((sum, part) => sum + gzipSync(part, { level: 9 }).length, 0),
  };
}

async function singleFile(entry: string, outdir: string, overrides: Record<string, unknown> = {}): Promise<string> {
  await build({ ...bundleOptions({ index: entry }, outdir), ...overrides });
  return join(outdir, 'index.mjs');
}

/** Runs node with Lambda's bootstrap flags (and `extraArgs`), `nodeOptions` as NODE_OPTIONS; the wall time and the
 * last line of stdout, parsed when it is JSON. */
async function lambdaNode(
  args: string[],
  env: Record<string, string>,
  nodeOptions: string,
  extraArgs: string[] = [],
): Promise<{ ms: number; line: unknown }> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, [...LAMBDA_ARGS, ...extraArgs, ...args], {
    env: { ...env, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - started;
  const last = stdout.trim().split('\n').pop() ?? '';
  return { ms, line: last.startsWith('{') ? JSON.parse(last) : undefined };
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const oursDir = join(OUT, 'ours');
  await buildFunction(oursDir);
  const subjects: Subject[] = [
    { label: 'ours', file: join(oursDir, 'index.mjs'), nodeOptions: OUR_NODE_OPTIONS },
    { label: 'naive', file: await singleFile('bench/naive-handler.ts', join(OUT, 'naive')), nodeOptions: '' },
    {
      label: 'floor',
      file: await singleFile('bench/floor-handler.ts', join(OUT, 'floor')),
      nodeOptions: OUR_NODE_OPTIONS,
    },
  ];
  const sizes = {
    // What Lambda loads for every invocation: index.mjs, its chunks and vendor.mjs (not the parts loaded on first use).
    ours: sizeOf(loadedAtImport(oursDir).map((file) => join(oursDir, file))),
    oursDescribeCluster: sizeOf([join(oursDir, 'describe-cluster.mjs')]),
    naive: sizeOf([subjects[1]?.file ?? '']),
    floor: sizeOf([subjects[2]?.file ?? '']),
  };
  // Variants of our build, each without one of the shipped choices, to measure what each is worth.
  const variant = async (name: string, choices: Record<string, boolean>) => {
    await buildFunction(join(OUT, name), choices);
    return join(OUT, name, 'index.mjs');
  };
  const variants = {
    singleFileWithMap: await singleFile('src/handler.ts', join(OUT, 'single-map'), {
      sourcemap: true,
      sourcesContent: false,
      plugins: [...(bundleOptions(undefined, OUT).plugins ?? []), trimmedModels()],
    }),
    tokenMap: await variant('token-map', { lineMap: false }),
    withoutKeepNames: await variant('no-keep-names', { keepNames: false }),
    vendorKeepNames: await variant('vendor-keep-names', { vendorKeepNames: true }),
    untrimmedModels: await variant('untrimmed', { trimModels: false }),
    eagerBuiltins: await variant('eager-builtins', { lazyBuiltins: false }),
  };

  // The real API server, as the function's own identity with the grants of permissions.yml, through a proxy that
  // only counts requests and TLS handshakes. Its answers cost the same for every subject, so the ratios are the
  // function's own time. The events create Deployments of 0 replicas, so that thousands of them do not keep the
  // controllers, the scheduler and kwok busy with pods while the subjects are measured.
  const cluster = await startLocalCluster((line) => console.error(`control plane: ${line}`));
  const admin = adminOf(cluster.info);
  const proxy = new FaultProxy(cluster.info.endpoint, cluster.info.pki.ca.cert, cluster.info.pki.server);
  const receiver = new CfnReceiver();
  await receiver.start();
  let namespaces = 0;
  /** A namespace of its own for each run, with every grant: runs never see each other's objects. */
  const freshNamespace = async (): Promise<string> => {
    namespaces += 1;
    const name = `bench-${namespaces}`;
    await admin.create(restPath('v1', 'namespaces'), { metadata: { name } });
    await applyGrants(admin, name, GRANTS);
    return name;
  };
  const lambdaEnv: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    TZ: ':UTC',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(MEMORY_SIZE_MB),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  };
  const baseEnv: Record<string, string> = {
    ...lambdaEnv,
    ...functionEnv(await proxy.start(), cluster.info.pki.caData),
    NAMESPACE: await freshNamespace(),
  };
  const invoker = join(ROOT, 'bench/invoker.mjs');
  const results: Record<string, unknown> = {};
  try {
    // Every comparison below is sampled round-robin, one process per subject per round, so that the machine's drift
    // (a shared 2-core machine varies by tens of ms over minutes) falls on every subject alike.
    const rounds = async (count: number, sample: (round: number) => Promise<void>) => {
      for (let round = 0; round < count; round += 1) await sample(round);
    };
    const empty: Record<string, number[]> = { ours: [], naive: [] };
    const samples = new Map(subjects.map((subject) => [subject.label, new Map<string, number[]>()]));
    const add = (label: string, key: string, value: number) => {
      const series = samples.get(label) ?? new Map<string, number[]>();
      samples.set(label, series.set(key, [...(series.get(key) ?? []), value]));
    };
    await rounds(COLD_RUNS, async (round) => {
      // Node's own start, for each set of flags.
      empty['ours']?.push((await lambdaNode(['-e', '0'], baseEnv, OUR_NODE_OPTIONS)).ms);
      empty['naive']?.push((await lambdaNode(['-e', '0'], baseEnv, '')).ms);
      // Cold start: a fresh process per run.
      for (const subject of subjects) {
        add(
          subject.label,
          'importWallMs',
          (await lambdaNode([invoker, 'import', subject.file], baseEnv, subject.nodeOptions)).ms,
        );
        const { line } = await lambdaNode(
          [invoker, 'cold', subject.file, JSON.stringify({ name: `${subject.label}-cold-${round}` })],
          baseEnv,
          subject.nodeOptions,
        );
        add(subject.label, 'importMs', num(line, 'importMs'));
        add(subject.label, 'importCpuMs', num(line, 'importCpuMs'));
        add(subject.label, 'firstInvocationMs', num(line, 'firstInvokeMs'));
        add(subject.label, 'firstInvocationCpuMs', num(line, 'firstInvokeCpuMs'));
      }
    });
    const emptyMs = { ours: stats(empty['ours'] ?? []), naive: stats(empty['naive'] ?? []) };
    const cold: Record<string, Record<string, Stats>> = Object.fromEntries(
      [...samples].map(([label, series]) => [label, Object.fromEntries([...series].map(([k, v]) => [k, stats(v)]))]),
    );

    // The first error: a ConfigurationError at the first invocation, its stack formatted as the runtime does.
    const { CLUSTER_CA_DATA: _ca, ...brokenEnv } = baseEnv;
    const ourFile = subjects[0]?.file ?? '';
    const errorFiles = { ours: ourFile, singleFileWithMap: variants.singleFileWithMap, tokenMap: variants.tokenMap };
    const errorSamples = new Map(
      Object.keys(errorFiles).map((key) => [key, { stack: [] as number[], invocation: [] as number[], srcFrames: 0 }]),
    );
    await rounds(COLD_RUNS, async () => {
      for (const [key, file] of Object.entries(errorFiles)) {
        const { line } = await lambdaNode([invoker, 'error', file], brokenEnv, OUR_NODE_OPTIONS);
        const target = errorSamples.get(key);
        target?.stack.push(num(line, 'stackMs'));
        target?.invocation.push(num(line, 'invocationMs'));
        if (target) target.srcFrames = num(line, 'srcFrames');
      }
    });
    const errors = Object.fromEntries(
      [...errorSamples].map(([key, { stack, invocation, srcFrames }]) => [
        key,
        { stackMs: stats(stack), invocationMs: stats(invocation), srcFrames },
      ]),
    );

    // Choices measured: each shipped choice turned off once, and the wrapper-only and compile-cache options.
    const cacheDir = mkdtempSync(join(tmpdir(), 'lambda-eks-compile-cache-'));
    const cachedEnv = { ...baseEnv, NODE_COMPILE_CACHE: cacheDir };
    await lambdaNode([invoker, 'import', ourFile], cachedEnv, OUR_NODE_OPTIONS);
    const withoutJitless = OUR_NODE_OPTIONS.replace('--jitless', '').trim();
    const choiceRuns: Record<
      string,
      { file: string; nodeOptions: string; extraArgs?: string[]; env?: typeof baseEnv }
    > = {
      shipped: { file: ourFile, nodeOptions: OUR_NODE_OPTIONS },
      singleFileWithMap: { file: variants.singleFileWithMap, nodeOptions: OUR_NODE_OPTIONS },
      tokenMap: { file: variants.tokenMap, nodeOptions: OUR_NODE_OPTIONS },
      withoutKeepNames: { file: variants.withoutKeepNames, nodeOptions: OUR_NODE_OPTIONS },
      vendorKeepNames: { file: variants.vendorKeepNames, nodeOptions: OUR_NODE_OPTIONS },
      untrimmedModels: { file: variants.untrimmedModels, nodeOptions: OUR_NODE_OPTIONS },
      eagerBuiltins: { file: variants.eagerBuiltins, nodeOptions: OUR_NODE_OPTIONS },
      withoutJitless: { file: ourFile, nodeOptions: withoutJitless },
      liteModeWrapper: { file: ourFile, nodeOptions: OUR_NODE_OPTIONS, extraArgs: ['--lite-mode'] },
      compileCache: { file: ourFile, nodeOptions: OUR_NODE_OPTIONS, env: cachedEnv },
    };
    const choiceSamples = new Map(Object.keys(choiceRuns).map((key) => [key, [] as number[]]));
    await rounds(COLD_RUNS, async () => {
      for (const [key, { file, nodeOptions, extraArgs, env }] of Object.entries(choiceRuns)) {
        const { ms } = await lambdaNode([invoker, 'import', file], env ?? baseEnv, nodeOptions, extraArgs);
        choiceSamples.get(key)?.push(ms);
      }
    });
    const choices = Object.fromEntries([...choiceSamples].map(([key, values]) => [key, stats(values)]));
    rmSync(cacheDir, { recursive: true, force: true });

    // Sets: apply-manifest of bench/set.yaml (20 objects), warm and cold, against kubectl apply --server-side. Before
    // the warm Deployment runs, whose thousands of Deployments the namespace controller deletes in the background.
    proxy.reset();
    const set = await benchSet({
      info: cluster.info,
      admin,
      proxy,
      bundle: ourFile,
      invoker,
      lambdaArgs: LAMBDA_ARGS,
      nodeOptions: OUR_NODE_OPTIONS,
      env: lambdaEnv,
      rounds: SET_ROUNDS,
      progress: (line) => console.error(line),
    });

    // Warm: one process per subject and action; latency over the first 200 invocations, RSS over 1,000 creates.
    const warmRun = async (subject: Subject, kind: string, count: number) => {
      proxy.reset();
      receiver.reset();
      const env = {
        ...baseEnv,
        NAMESPACE: await freshNamespace(),
        BENCH_PREFIX: `${subject.label}-${kind}`,
        BENCH_RESPONSE_URL: receiver.urlFor('bench').split('?')[0] ?? '',
      };
      await lambdaNode([invoker, 'setup', subject.file, '0', kind], env, subject.nodeOptions);
      proxy.reset();
      let handshakesAt200 = 0;
      const poll = setInterval(() => {
        if (proxy.requests.length <= WARM_LATENCY) handshakesAt200 = proxy.handshakes;
      }, 1);
      try {
        const { line } = await lambdaNode(
          [invoker, 'warm', subject.file, String(count), kind],
          env,
          subject.nodeOptions,
        );
        const durations = at(line, 'durations');
        const latencies = (Array.isArray(durations) ? durations : []).slice(0, WARM_LATENCY).map(Number);
        return {
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          handshakes: handshakesAt200,
          // delete's untimed create before each timed invocation is one request, not counted.
          requestsPerInvocation: (proxy.requests.length - (kind === 'delete' ? count : 0)) / count,
          peakRssMb: num(line, 'maxRssBytes') / 2 ** 20,
          rssGrowthMb: (num(line, 'rssAtEnd') - num(line, 'rssAt100')) / 2 ** 20,
          // What a leak would be: the heap live after a full GC. RSS also counts V8 growing its young generation
          // (up to Lambda's --max-semi-space-size) as back-to-back invocations keep allocating.
          heapGrowthMb: (num(line, 'heapAtEnd') - num(line, 'heapAt100')) / 2 ** 20,
        };
      } finally {
        clearInterval(poll);
        // The namespace controller removes what the run made, in the background.
        await admin.delete(restPath('v1', 'namespaces', undefined, env.NAMESPACE));
      }
    };
    const warm: Record<string, Record<string, Awaited<ReturnType<typeof warmRun>>>> = {
      ours: {},
      naive: {},
      floor: {},
    };
    // Ours with V8's JIT (the template's NODE_OPTIONS without --jitless): what --jitless saves in memory.
    const withJit = { label: 'ours-jit', file: ourFile, nodeOptions: OUR_NODE_OPTIONS.replace('--jitless', '').trim() };
    const jit = { create: await warmRun(withJit, 'create', WARM_MEMORY) };
    // Kind by kind, the subjects one after the other, so that each comparison is made at the same time.
    for (const kind of ['create', 'apply', 'get', 'delete', 'custom-resource']) {
      for (const subject of subjects) {
        const takes =
          kind === 'create' || (kind === 'custom-resource' ? subject.label === 'ours' : subject.label !== 'floor');
        const target = warm[subject.label];
        if (takes && target)
          target[kind] = await warmRun(subject, kind, kind === 'create' ? WARM_MEMORY : WARM_LATENCY);
      }
    }

    // Token minting, in this process (JIT on): 5 rounds of 1,000 after a warm-up, each a new date; median round.
    const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SESSION_TOKEN };
    const mint = (i: number) =>
      mintEksToken({
        credentials,
        region: 'us-west-2',
        clusterName: 'demo',
        signingDate: new Date(1_767_225_600_000 + i * 1000),
      });
    for (let i = 0; i < 500; i += 1) await mint(i);
    const mintRounds: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const roundStarted = performance.now();
      for (let i = 0; i < 1000; i += 1) await mint(round * 1000 + i);
      mintRounds.push(performance.now() - roundStarted);
    }
    resetWarmState();
    const now = Date.now();
    await issueEksToken(credentials, 'us-west-2', 'demo', now);
    const cachedCalls = 100_000;
    const cachedStarted = performance.now();
    for (let i = 0; i < cachedCalls; i += 1) await issueEksToken(credentials, 'us-west-2', 'demo', now);
    const cachedUs = ((performance.now() - cachedStarted) * 1000) / cachedCalls;
    const cli: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const t0 = performance.now();
      await awsCliToken({
        clusterName: 'demo',
        region: 'us-west-2',
        accessKeyId: ACCESS_KEY_ID,
        secretAccessKey: SECRET_ACCESS_KEY,
        frozenTime: '2026-01-01 00:00:00',
      });
      cli.push(performance.now() - t0);
    }

    const overhead = (label: 'ours' | 'naive' | 'floor') =>
      (cold[label]?.['importWallMs']?.median ?? 0) - emptyMs[label === 'naive' ? 'naive' : 'ours'].median;
    const ratio = (a: number, b: number) => a / b;
    const oursCreate = warm['ours']?.['create'];
    const naiveCreate = warm['naive']?.['create'];
    Object.assign(results, {
      machine: {
        node: process.version,
        nproc: availableParallelism(),
        date: new Date().toISOString(),
        memorySizeMb: MEMORY_SIZE_MB,
        lambdaArgs: LAMBDA_ARGS.join(' '),
        nodeOptionsOurs: OUR_NODE_OPTIONS,
        awsCli: execFileSync(requireTool('aws'), ['--version'], { encoding: 'utf8' }).trim(),
      },
      runs: { cold: COLD_RUNS, warmLatency: WARM_LATENCY, warmMemory: WARM_MEMORY },
      sizes,
      emptyNodeMs: emptyMs,
      cold,
      importOverheadMs: { ours: overhead('ours'), naive: overhead('naive'), floor: overhead('floor') },
      firstError: errors,
      choices,
      warm,
      warmWithJit: jit,
      token: {
        freshMintUs: stats(mintRounds),
        cachedUs,
        awsCliGetTokenMs: stats(cli).median,
      },
      lambdaAtMemorySize: {
        note: `CPU-bound milliseconds at ${MEMORY_SIZE_MB} MB: CPU ms x ${(FULL_VCPU_MB / MEMORY_SIZE_MB).toFixed(1)}`,
        importMs: (cold['ours']?.['importCpuMs']?.median ?? 0) * (FULL_VCPU_MB / MEMORY_SIZE_MB),
        firstInvocationMs: (cold['ours']?.['firstInvocationCpuMs']?.median ?? 0) * (FULL_VCPU_MB / MEMORY_SIZE_MB),
      },
      ratios: {
        bundleBytes: ratio(sizes.ours.bytes, sizes.naive.bytes),
        importOverhead: ratio(overhead('ours'), overhead('naive')),
        firstInvocation: ratio(
          cold['ours']?.['firstInvocationMs']?.median ?? 0,
          cold['naive']?.['firstInvocationMs']?.median ?? 1,
        ),
        warmP50: ratio(oursCreate?.p50 ?? 0, naiveCreate?.p50 ?? 1),
        warmP99: ratio(oursCreate?.p99 ?? 0, naiveCreate?.p99 ?? 1),
        ...Object.fromEntries(
          ['apply', 'get', 'delete'].map((kind) => [
            `warmP50${kind[0]?.toUpperCase()}${kind.slice(1)}`,
            ratio(warm['ours']?.[kind]?.p50 ?? 0, warm['naive']?.[kind]?.p50 ?? 1),
          ]),
        ),
      },
      set,
    });
  } finally {
    await receiver.stop();
    await proxy.stop();
    admin.close();
    await cluster.stop();
  }
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(join(OUT, 'results.json'), json);
  if (RECORD) writeFileSync(join(ROOT, 'bench/results.json'), json);
  console.log(formatTable(results));
  console.log(
    `\nwritten: bench/out/results.json${RECORD ? ' and bench/results.json' : ' (npm run bench -- --record to keep it)'}`,
  );
}

/** The table the README's Performance section shows. */
export function formatTable(results: unknown): string {
  const get = (...path: string[]): number => {
    const value = at(results, ...path);
    return typeof value === 'number' ? value : Number.NaN;
  };
  const f = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '');
  const range = (...path: string[]): string =>
    Number.isFinite(get(...path, 'median'))
      ? `${f(get(...path, 'median'))} (${f(get(...path, 'min'))}-${f(get(...path, 'max'))})`
      : '';
  const kb = (...path: string[]): string => f(get(...path) / 1024, 0);
  const rows: string[][] = [
    [
      'handler bundle, KB (minified; gzip)',
      `${kb('sizes', 'ours', 'bytes')} (${kb('sizes', 'ours', 'gzipBytes')})`,
      `${kb('sizes', 'naive', 'bytes')} (${kb('sizes', 'naive', 'gzipBytes')})`,
      f(get('ratios', 'bundleBytes'), 2),
      '<= 0.25',
      kb('sizes', 'floor', 'bytes'),
    ],
    ['node -e 0, process ms', range('emptyNodeMs', 'ours'), range('emptyNodeMs', 'naive'), '', '', ''],
    [
      'import-only process, ms',
      range('cold', 'ours', 'importWallMs'),
      range('cold', 'naive', 'importWallMs'),
      '',
      '',
      range('cold', 'floor', 'importWallMs'),
    ],
    [
      'import overhead (minus node -e 0), ms',
      f(get('importOverheadMs', 'ours')),
      f(get('importOverheadMs', 'naive')),
      f(get('ratios', 'importOverhead'), 2),
      '<= 0.35',
      f(get('importOverheadMs', 'floor')),
    ],
    [
      'import in process, ms (CPU ms)',
      `${range('cold', 'ours', 'importMs')} (${f(get('cold', 'ours', 'importCpuMs', 'median'))})`,
      `${range('cold', 'naive', 'importMs')} (${f(get('cold', 'naive', 'importCpuMs', 'median'))})`,
      '',
      '',
      range('cold', 'floor', 'importMs'),
    ],
    [
      'first invocation (create), ms',
      range('cold', 'ours', 'firstInvocationMs'),
      range('cold', 'naive', 'firstInvocationMs'),
      f(get('ratios', 'firstInvocation'), 2),
      '<= 0.7',
      range('cold', 'floor', 'firstInvocationMs'),
    ],
    [
      'first error: its stack formatted (ConfigurationError), ms',
      range('firstError', 'ours', 'stackMs'),
      '',
      '',
      '< 10',
      '',
    ],
    ['first error: the invocation that threw it, ms', range('firstError', 'ours', 'invocationMs'), '', '', '', ''],
    [
      'warm p50 create, ms',
      f(get('warm', 'ours', 'create', 'p50'), 2),
      f(get('warm', 'naive', 'create', 'p50'), 2),
      f(get('ratios', 'warmP50'), 2),
      '<= 0.35',
      f(get('warm', 'floor', 'create', 'p50'), 2),
    ],
    [
      'warm p99 create, ms',
      f(get('warm', 'ours', 'create', 'p99'), 2),
      f(get('warm', 'naive', 'create', 'p99'), 2),
      f(get('ratios', 'warmP99'), 2),
      '<= 0.3',
      f(get('warm', 'floor', 'create', 'p99'), 2),
    ],
    [
      'warm p50 apply, ms',
      f(get('warm', 'ours', 'apply', 'p50'), 2),
      f(get('warm', 'naive', 'apply', 'p50'), 2),
      f(get('ratios', 'warmP50Apply'), 2),
      '',
      '',
    ],
    [
      'warm p50 get, ms',
      f(get('warm', 'ours', 'get', 'p50'), 2),
      f(get('warm', 'naive', 'get', 'p50'), 2),
      f(get('ratios', 'warmP50Get'), 2),
      '',
      '',
    ],
    [
      'warm p50 delete, ms',
      f(get('warm', 'ours', 'delete', 'p50'), 2),
      f(get('warm', 'naive', 'delete', 'p50'), 2),
      f(get('ratios', 'warmP50Delete'), 2),
      '',
      '',
    ],
    [
      'warm p50 custom resource Create (incl. answer PUT), ms',
      f(get('warm', 'ours', 'custom-resource', 'p50'), 2),
      '',
      '',
      '',
      '',
    ],
    [
      'requests per invocation: create / apply / get / delete',
      ['create', 'apply', 'get', 'delete']
        .map((kind) => f(get('warm', 'ours', kind, 'requestsPerInvocation'), 1))
        .join(' / '),
      ['create', 'apply', 'get', 'delete']
        .map((kind) => f(get('warm', 'naive', kind, 'requestsPerInvocation'), 1))
        .join(' / '),
      '',
      '',
      '',
    ],
    [
      'TLS handshakes, 200 warm creates',
      f(get('warm', 'ours', 'create', 'handshakes'), 0),
      f(get('warm', 'naive', 'create', 'handshakes'), 0),
      '',
      '',
      f(get('warm', 'floor', 'create', 'handshakes'), 0),
    ],
    [
      'peak RSS after 1,000 creates, MB',
      f(get('warm', 'ours', 'create', 'peakRssMb')),
      f(get('warm', 'naive', 'create', 'peakRssMb')),
      '',
      '< 65',
      f(get('warm', 'floor', 'create', 'peakRssMb')),
    ],
    [
      'RSS growth 100 -> 1,000 creates, MB',
      f(get('warm', 'ours', 'create', 'rssGrowthMb')),
      f(get('warm', 'naive', 'create', 'rssGrowthMb')),
      '',
      '~0',
      f(get('warm', 'floor', 'create', 'rssGrowthMb')),
    ],
    [
      'live heap growth 100 -> 1,000 creates, MB',
      f(get('warm', 'ours', 'create', 'heapGrowthMb'), 2),
      f(get('warm', 'naive', 'create', 'heapGrowthMb'), 2),
      '',
      '~0',
      f(get('warm', 'floor', 'create', 'heapGrowthMb'), 2),
    ],
    [
      'token: fresh mint, us / cached, us',
      `${range('token', 'freshMintUs')} / ${f(get('token', 'cachedUs'), 2)}`,
      '',
      '',
      '',
      '',
    ],
    ['token: one aws eks get-token process, ms', f(get('token', 'awsCliGetTokenMs')), '', '', '', ''],
  ];
  const header = ['figure', 'lambda-eks', 'naive baseline', 'ratio', 'goal', 'floor'];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]): string => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const choices: string[][] = [
    [
      'shipped: vendor.mjs + index.mjs (line map, keepNames), trimmed models, lazy built-ins, --jitless',
      range('choices', 'shipped'),
      range('firstError', 'ours', 'stackMs'),
    ],
    [
      'one file with its source map (the previous design; models trimmed)',
      range('choices', 'singleFileWithMap'),
      range('firstError', 'singleFileWithMap', 'stackMs'),
    ],
    [
      "index.mjs with esbuild's token map (not coarsened to lines)",
      range('choices', 'tokenMap'),
      range('firstError', 'tokenMap', 'stackMs'),
    ],
    ['without keepNames (in index.mjs)', range('choices', 'withoutKeepNames'), ''],
    ['keepNames in vendor.mjs too', range('choices', 'vendorKeepNames'), ''],
    ['all 757 client-node models (not trimmed)', range('choices', 'untrimmedModels'), ''],
    ['node:fs/promises and node:os imported eagerly', range('choices', 'eagerBuiltins'), ''],
    ['without --jitless', range('choices', 'withoutJitless'), ''],
    ['--lite-mode (only through AWS_LAMBDA_EXEC_WRAPPER)', range('choices', 'liteModeWrapper'), ''],
    ['Node compile cache (NODE_COMPILE_CACHE, made by this Node)', range('choices', 'compileCache'), ''],
  ];
  const jit = (field: string, digits = 1) => f(get('warmWithJit', 'create', field), digits);
  const jitLine = `Without --jitless, warm creates: p50 ${jit('p50', 2)} ms, peak RSS ${jit('peakRssMb')} MB, RSS growth 100 -> 1,000 ${jit('rssGrowthMb')} MB (with it: ${f(get('warm', 'ours', 'create', 'p50'), 2)} ms, ${f(get('warm', 'ours', 'create', 'peakRssMb'))} MB, ${f(get('warm', 'ours', 'create', 'rssGrowthMb'))} MB).`;
  const choiceHeader = ['our bundle, as measured', 'import-only process, ms', 'first error formatted, ms'];
  const choiceWidths = choiceHeader.map((_, i) =>
    Math.max(...[choiceHeader, ...choices].map((row) => row[i]?.length ?? 0)),
  );
  const choiceLine = (row: string[]): string =>
    `| ${row.map((cell, i) => cell.padEnd(choiceWidths[i] ?? 0)).join(' | ')} |`;
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    choiceLine(choiceHeader),
    choiceLine(choiceWidths.map((w) => '-'.repeat(w))),
    ...choices.map(choiceLine),
    '',
    jitLine,
    '',
    formatSetTable(results),
  ].join('\n');
}

await main();
