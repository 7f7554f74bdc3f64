// npm run bench: builds our bundle and the naive baseline with the same esbuild options, measures both against the
// local HTTPS API stand-in on 127.0.0.1, prints a table and writes bench/results.json.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { resetWarmState } from '../src/state.js';
import { issueEksToken } from '../src/aws/token-cache.js';
import { mintEksToken } from '../src/aws/token.js';
import { awsCliToken } from '../test/support/aws-cli.js';
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN, startTestBed } from '../test/support/fixture.js';
import { at } from '../test/support/json.js';
import { templateNodeOptions } from '../test/support/lambda.js';
import { requireTool } from '../test/support/tools.js';
import { buildFunction, bundleOptions } from '../esbuild.config.mjs';

const run = promisify(execFile);
const ROOT = process.cwd();
const OUT = join(ROOT, 'bench/out');
const COLD_RUNS = Number(process.env['BENCH_COLD_RUNS'] ?? 15);
const WARM_LATENCY = 200;
const WARM_MEMORY = 1000;

interface Stats {
  median: number;
  min: number;
  max: number;
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

/** Bundles with the function's esbuild options; the size counts every .mjs file written (not the source maps). */
async function bundle(
  entryPoints: Record<string, string> | 'function',
  outdir: string,
): Promise<{ bytes: number; gzipBytes: number }> {
  const metafiles =
    entryPoints === 'function'
      ? Object.values(await buildFunction(outdir))
      : [(await build(bundleOptions(entryPoints, outdir))).metafile];
  const files = metafiles
    .flatMap((metafile) => Object.keys(metafile?.outputs ?? {}))
    .filter((file) => file.endsWith('.mjs'));
  const code = files.map((file) => readFileSync(join(ROOT, file)));
  return {
    bytes: code.reduce((sum, part) => sum + part.length, 0),
    gzipBytes: code.reduce((sum, part) => sum + gzipSync(part, { level: 9 }).length, 0),
  };
}

async function wallMs(args: string[], env: Record<string, string>): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, args, { env, maxBuffer: 64 * 1024 * 1024 });
  return { ms: performance.now() - started, stdout };
}

function lastLine(stdout: string): unknown {
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

function num(value: unknown, key: string): number {
  const field = at(value, key);
  if (typeof field !== 'number') throw new Error(`benchmark child printed no ${key}`);
  return field;
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const ours = join(OUT, 'ours/index.mjs');
  const naive = join(OUT, 'naive/index.mjs');
  const sizes = {
    ours: await bundle('function', join(OUT, 'ours')),
    naive: await bundle({ index: 'bench/naive-handler.ts' }, join(OUT, 'naive')),
  };

  const bed = await startTestBed();
  const baseEnv = { PATH: process.env['PATH'] ?? '', ...bed.env };
  // Each runs as it is deployed: ours with the template's NODE_OPTIONS, the baseline with Node's defaults.
  const envFor = { ours: { ...baseEnv, NODE_OPTIONS: templateNodeOptions() }, naive: baseEnv };
  const invoker = join(ROOT, 'bench/invoker.mjs');
  const results: Record<string, unknown> = {};
  try {
    // Cold start: a fresh process per run.
    const empty: number[] = [];
    const emptyBoot: number[] = [];
    for (let i = 0; i < COLD_RUNS; i += 1) {
      const { ms, stdout } = await wallMs(
        ['-e', 'process.stdout.write(JSON.stringify({ bootMs: performance.now() }))'],
        baseEnv,
      );
      empty.push(ms);
      emptyBoot.push(num(JSON.parse(stdout), 'bootMs'));
    }
    const cold: Record<string, { importWall: number[]; import: number[]; firstInvoke: number[] }> = {};
    for (const [label, file] of [
      ['ours', ours],
      ['naive', naive],
    ] as const) {
      cold[label] = { importWall: [], import: [], firstInvoke: [] };
      for (let i = 0; i < COLD_RUNS; i += 1) {
        cold[label].importWall.push((await wallMs([invoker, 'import', file], envFor[label])).ms);
        const { stdout } = await wallMs([invoker, 'cold', file], {
          ...envFor[label],
          BENCH_PREFIX: `${label}-cold-${i}`,
        });
        const line = lastLine(stdout);
        cold[label].import.push(num(line, 'importMs'));
        cold[label].firstInvoke.push(num(line, 'firstInvokeMs'));
      }
    }

    // Warm: one process, 1,000 invocations; latency over the first 200, handshakes counted by the stand-in.
    const warm: Record<
      string,
      { p50: number; p99: number; handshakes: number; peakRssMb: number; rssGrowthMb: number }
    > = {};
    for (const [label, file] of [
      ['ours', ours],
      ['naive', naive],
    ] as const) {
      bed.server.reset();
      let handshakesAt200 = 0;
      const poll = setInterval(() => {
        if (bed.server.deployments.size <= WARM_LATENCY) handshakesAt200 = bed.server.handshakes;
      }, 1);
      const { stdout } = await wallMs(['--expose-gc', invoker, 'warm', file, String(WARM_MEMORY)], {
        ...envFor[label],
        BENCH_PREFIX: `${label}-warm`,
      });
      clearInterval(poll);
      const line = lastLine(stdout);
      const durations = at(line, 'durations');
      const latencies = (Array.isArray(durations) ? durations : []).slice(0, WARM_LATENCY).map(Number);
      warm[label] = {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        handshakes: handshakesAt200,
        peakRssMb: num(line, 'maxRssBytes') / 2 ** 20,
        rssGrowthMb: (num(line, 'rssAtEnd') - num(line, 'rssAt100')) / 2 ** 20,
      };
    }

    // Token minting.
    const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SESSION_TOKEN };
    // Every mint signs a new date, so none is served from a cache; 5 rounds of 1,000 after a warm-up, median of rounds.
    const mint = (i: number) =>
      mintEksToken({
        credentials,
        region: 'us-west-2',
        clusterName: 'demo',
        signingDate: new Date(1_767_225_600_000 + i * 1000),
      });
    for (let i = 0; i < 500; i += 1) await mint(i);
    const rounds: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const roundStarted = performance.now();
      for (let i = 0; i < 1000; i += 1) await mint(round * 1000 + i);
      rounds.push(performance.now() - roundStarted);
    }
    const freshMint = stats(rounds);
    const freshMintUs = freshMint.median;
    resetWarmState();
    const now = Date.now();
    await issueEksToken(credentials, 'us-west-2', 'demo', now);
    const cachedCalls = 100_000;
    const started = performance.now();
    for (let i = 0; i < cachedCalls; i += 1) {
      await issueEksToken(credentials, 'us-west-2', 'demo', now);
    }
    const cachedUs = ((performance.now() - started) * 1000) / cachedCalls;
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
    // awsCliToken runs the CLI under faketime; that wrapper is part of the measured time, a few ms at most.
    const cliMs = stats(cli).median;

    const emptyStats = stats(empty);
    const section = (label: 'ours' | 'naive') => {
      const c = cold[label];
      if (!c) throw new Error(`no cold figures for ${label}`);
      const importWall = stats(c.importWall);
      return {
        bundle: sizes[label],
        coldStart: {
          importWallMs: importWall,
          importOverheadMs: importWall.median - emptyStats.median,
          importMs: stats(c.import),
          firstInvocationMs: stats(c.firstInvoke),
        },
        warm: warm[label],
      };
    };
    const o = section('ours');
    const n = section('naive');
    Object.assign(results, {
      machine: {
        node: process.version,
        nodeOptionsOurs: templateNodeOptions(),
        nproc: availableParallelism(),
        date: new Date().toISOString(),
        awsCli: execFileSync(requireTool('aws'), ['--version'], { encoding: 'utf8' }).trim(),
      },
      runs: { cold: COLD_RUNS, warmLatency: WARM_LATENCY, warmMemory: WARM_MEMORY },
      emptyNode: { wallMs: emptyStats, bootMs: stats(emptyBoot) },
      ours: o,
      naive: n,
      token: {
        freshMintUs: freshMint,
        cachedUs,
        awsCliGetTokenMs: cliMs,
        cliOverFreshMint: (cliMs * 1000) / freshMintUs,
      },
      ratios: {
        bundleBytes: o.bundle.bytes / n.bundle.bytes,
        bundleGzip: o.bundle.gzipBytes / n.bundle.gzipBytes,
        importOverhead: o.coldStart.importOverheadMs / n.coldStart.importOverheadMs,
        firstInvocation: o.coldStart.firstInvocationMs.median / n.coldStart.firstInvocationMs.median,
        warmP50: (o.warm?.p50 ?? 0) / (n.warm?.p50 ?? 1),
        warmP99: (o.warm?.p99 ?? 0) / (n.warm?.p99 ?? 1),
      },
    });
  } finally {
    await bed.server.stop();
  }
  writeFileSync(join(ROOT, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(formatTable(results));
}

function formatTable(results: Record<string, unknown>): string {
  const get = (...path: string[]): number => {
    const value = at(results, ...path);
    return typeof value === 'number' ? value : Number.NaN;
  };
  const f = (value: number, digits = 1): string => value.toFixed(digits);
  const range = (...path: string[]): string =>
    `${f(get(...path, 'median'))} (${f(get(...path, 'min'))}-${f(get(...path, 'max'))})`;
  const rows: [string, string, string, string][] = [
    [
      'bundle, bytes (minified)',
      String(get('ours', 'bundle', 'bytes')),
      String(get('naive', 'bundle', 'bytes')),
      f(get('ratios', 'bundleBytes'), 2),
    ],
    [
      'bundle, bytes (gzip)',
      String(get('ours', 'bundle', 'gzipBytes')),
      String(get('naive', 'bundle', 'gzipBytes')),
      f(get('ratios', 'bundleGzip'), 2),
    ],
    ['node -e 0, process ms', range('emptyNode', 'wallMs'), '', ''],
    [
      'import-only process, ms',
      range('ours', 'coldStart', 'importWallMs'),
      range('naive', 'coldStart', 'importWallMs'),
      '',
    ],
    [
      'import overhead (minus node -e 0), ms',
      f(get('ours', 'coldStart', 'importOverheadMs')),
      f(get('naive', 'coldStart', 'importOverheadMs')),
      f(get('ratios', 'importOverhead'), 2),
    ],
    ['import, in process, ms', range('ours', 'coldStart', 'importMs'), range('naive', 'coldStart', 'importMs'), ''],
    [
      'first invocation, ms',
      range('ours', 'coldStart', 'firstInvocationMs'),
      range('naive', 'coldStart', 'firstInvocationMs'),
      f(get('ratios', 'firstInvocation'), 2),
    ],
    [
      'warm p50, ms (200 invocations)',
      f(get('ours', 'warm', 'p50'), 2),
      f(get('naive', 'warm', 'p50'), 2),
      f(get('ratios', 'warmP50'), 2),
    ],
    [
      'warm p99, ms',
      f(get('ours', 'warm', 'p99'), 2),
      f(get('naive', 'warm', 'p99'), 2),
      f(get('ratios', 'warmP99'), 2),
    ],
    [
      'TLS handshakes, 200 warm invocations',
      String(get('ours', 'warm', 'handshakes')),
      String(get('naive', 'warm', 'handshakes')),
      '',
    ],
    [
      'peak RSS after 1,000 invocations, MB',
      f(get('ours', 'warm', 'peakRssMb')),
      f(get('naive', 'warm', 'peakRssMb')),
      '',
    ],
    ['RSS growth 100 -> 1,000, MB', f(get('ours', 'warm', 'rssGrowthMb')), f(get('naive', 'warm', 'rssGrowthMb')), ''],
    ['token: fresh mint, us', range('token', 'freshMintUs'), '', ''],
    ['token: cached, us', f(get('token', 'cachedUs'), 2), '', ''],
    [
      'token: one aws eks get-token process, ms',
      f(get('token', 'awsCliGetTokenMs')),
      '',
      `${f(get('token', 'cliOverFreshMint'), 0)}x a fresh mint`,
    ],
  ];
  const header: [string, string, string, string] = ['figure', 'lambda-eks', 'naive baseline', 'ratio'];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]): string => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

await main();
