// The set path of npm run bench (issue 17): apply-manifest of bench/set.yaml, 20 objects of 10 kinds, against the same
// real kube-apiserver as the Deployment actions, compared with `kubectl apply --server-side` of the same manifest.
// - warm: one execution environment (bench/invoker.mjs serve), the set applied unchanged (as YAML, and as an array
//   of objects), and with one ConfigMap value alternated (exactly one object changes);
// - cold: a fresh process per sample, the set applied unchanged: import and first invocation;
// - kubectl: the control plane's own kubectl as a process, its discovery cache warm (a --cache-dir a first run
//   filled), on another instance of the same manifest, unchanged.
// Sampled round-robin, one of each per round. The function's requests are counted by the proxy, per invocation; then
// the requests of one unchanged apply are replayed by a minimal client in the function's own order and concurrency,
// through the proxy and straight to the server, and with a client certificate instead of the EKS token, to tell the
// server's time from the function's own.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { ControlPlaneInfo } from '../test/support/control-plane/control-plane.js';
import type { FaultProxy, SeenRequest } from '../test/support/fault-proxy.js';
import { functionEnv, SETS_GROUP, SETS_IDENTITY } from '../test/support/fixture.js';
import { at } from '../test/support/json.js';
import { restPath, type KubeAdmin } from '../test/support/kube-admin.js';

const run = promisify(execFile);

/** The template, its objects and their count: the bench refuses to run on another. */
export const SET_TEMPLATE = 'bench/set.yaml';
export const SET_OBJECTS = 20;
const SET_NAME = 'bench';
/** The function's concurrency within a group of objects (src/manifests/apply.ts CONCURRENCY). */
const FUNCTION_CONCURRENCY = 4;
const REPLAYS = 7;
/** kubectl runs with -v=6, to read where its time goes (medians). */
const VERBOSE_RUNS = 5;

export interface SetBenchOptions {
  readonly info: ControlPlaneInfo;
  readonly admin: KubeAdmin;
  /** The counting proxy in front of the server; the function's processes reach the server through it. */
  readonly proxy: FaultProxy;
  /** Our bundle's index.mjs, and bench/invoker.mjs. */
  readonly bundle: string;
  readonly invoker: string;
  /** How Lambda's bootstrap starts node, and the template's NODE_OPTIONS. */
  readonly lambdaArgs: readonly string[];
  readonly nodeOptions: string;
  /** PATH, TZ, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, ...: the environment besides the cluster's and the identity's. */
  readonly env: Readonly<Record<string, string>>;
  readonly rounds: number;
  readonly progress: (line: string) => void;
}

interface Stats {
  median: number;
  min: number;
  max: number;
}

function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

const median = (values: readonly number[]): number => stats(values).median;

/** The manifest of one instance: the template with its id and the revision of ConfigMap web-settings. */
export function setManifest(template: string, instance: string, revision: string): string {
  return template.replaceAll('__RUN__', instance).replaceAll('__REVISION__', revision);
}

/** What the proxy saw that wrote something: not a read, not a dry run. */
function isWrite(seen: SeenRequest): boolean {
  return seen.method !== 'GET' && seen.query.get('dryRun') !== 'All';
}

/** Counts of a set result, as the function returns them. */
type Counts = Readonly<Record<string, number>>;

function sameCounts(actual: unknown, expected: Counts): boolean {
  const entries = Object.entries(typeof actual === 'object' && actual !== null ? actual : {}).filter(
    ([, value]) => value !== 0,
  );
  return entries.length === Object.keys(expected).length && entries.every(([key, value]) => expected[key] === value);
}

interface Reply {
  readonly id: number;
  readonly ms: number;
  readonly cpuMs?: number;
  readonly status?: string;
  readonly counts?: Counts;
  readonly rssBytes?: number;
  readonly error?: string;
}

/** A warm execution environment: bench/invoker.mjs serve, driven over IPC. */
class WarmEnvironment {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private next = 0;
  private stderr = '';
  readonly ready: Promise<number>;

  constructor(options: SetBenchOptions, env: Record<string, string>, nodeOptions: string) {
    this.child = spawn(process.execPath, [...options.lambdaArgs, options.invoker, 'serve', options.bundle], {
      env: { ...env, NODE_OPTIONS: nodeOptions },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    // The function's log records: read and dropped, as Lambda's runtime would ship them.
    this.child.stdout?.resume();
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => {
        const error = `the warm environment exited (${code}): ${this.stderr}`;
        reject(new Error(error));
        for (const [id, answer] of this.waiting) answer({ id, ms: Number.NaN, error });
        this.waiting.clear();
      });
      this.child.on('message', (message: unknown) => {
        if (at(message, 'ready') === true) {
          resolve(Number(at(message, 'importMs')));
          return;
        }
        const reply = message as Reply;
        this.waiting.get(reply.id)?.(reply);
        this.waiting.delete(reply.id);
      });
    });
    // Awaited by invoke; an environment that exits unused (the bench failed before) is no error of its own.
    this.ready.catch(() => undefined);
  }

  async invoke(event: unknown): Promise<Reply> {
    await this.ready;
    this.next += 1;
    const id = this.next;
    const answered = new Promise<Reply>((resolve) => this.waiting.set(id, resolve));
    this.child.send({ id, event });
    return answered;
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

/** One request as the proxy recorded it, sent again. */
interface Replayed {
  readonly method: string;
  readonly path: string;
  readonly ms: number;
  readonly status: number;
}

/** Sends `seen` again to `endpoint`: with its own EKS token, or (with a client certificate in the agent) without. */
function resend(endpoint: string, agent: Agent, seen: SeenRequest, withToken: boolean): Promise<Replayed> {
  const query = seen.query.toString();
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'lambda-eks-bench-replay' };
  if (withToken && seen.authorization !== undefined) headers['Authorization'] = seen.authorization;
  if (seen.body !== '') {
    headers['Content-Type'] = seen.contentType ?? 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(seen.body));
  }
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(`${seen.path}${query === '' ? '' : `?${query}`}`, endpoint),
      { method: seen.method, headers, agent, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            method: seen.method,
            path: seen.path,
            ms: performance.now() - started,
            status: res.statusCode ?? 0,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${seen.method} ${seen.path} timed out`)));
    req.on('error', reject);
    req.end(seen.body === '' ? undefined : seen.body);
  });
}

/** The function's schedule of an unchanged apply, from the requests it made: what it sends at once, step by step. The
 * record's GET alone; then the objects' GETs, FUNCTION_CONCURRENCY at a time; then the dry runs, one group of objects
 * after the other, each group FUNCTION_CONCURRENCY at a time (a group is one kind, here: every kind of the set has
 * its own place in the install order), the CRD's read (waited for until Established) in its place. */
function scheduleOf(requests: readonly SeenRequest[]): SeenRequest[][] {
  const steps: SeenRequest[][] = [];
  const collection = (seen: SeenRequest) => `${seen.method} ${seen.path.split('/').slice(0, -1).join('/')}`;
  const [record, ...rest] = requests;
  if (record !== undefined) steps.push([record]);
  const firstPatch = rest.findIndex((seen) => seen.method !== 'GET');
  // The reads up to the last GET before the first dry run; the CRD's own read (the wait) is its own step.
  const reads = rest.slice(0, firstPatch < 0 ? rest.length : firstPatch);
  steps.push(reads);
  let group: SeenRequest[] = [];
  for (const seen of rest.slice(reads.length)) {
    if (group.length > 0 && collection(group[0] as SeenRequest) !== collection(seen)) {
      steps.push(group);
      group = [];
    }
    group.push(seen);
  }
  if (group.length > 0) steps.push(group);
  return steps;
}

/** Replays a schedule: each step's requests FUNCTION_CONCURRENCY at a time (or all one after the other); the total
 * time and each request's. */
async function replay(
  steps: readonly (readonly SeenRequest[])[],
  send: (seen: SeenRequest) => Promise<Replayed>,
  concurrency: number,
): Promise<{ ms: number; readsMs: number; requests: Replayed[] }> {
  const done: Replayed[] = [];
  const started = performance.now();
  let readsMs = 0;
  for (const [index, step] of steps.entries()) {
    // The reads (the record's, then every object's) are the first two steps; the dry runs follow.
    if (index === 2) readsMs = performance.now() - started;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < step.length) {
        const seen = step[next];
        next += 1;
        if (seen !== undefined) done.push(await send(seen));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, step.length) }, worker));
  }
  return { ms: performance.now() - started, readsMs, requests: done };
}

/** kubectl's requests in its -v=6 log: each answer's verb, URL, time, and when it came (ms of the day, klog's clock). */
export function kubectlRequests(log: string): { verb: string; url: string; ms: number; at: number }[] {
  const found: { verb: string; url: string; ms: number; at: number }[] = [];
  for (const line of log.split('\n')) {
    const match = /"Response" verb="(\w+)" url="([^"]+)".*milliseconds=(\d+)/.exec(line);
    if (match) found.push({ verb: match[1] ?? '', url: match[2] ?? '', ms: Number(match[3]), at: klogTime(line) });
  }
  return found;
}

/** The time of a klog line (`I1206 16:32:35.563478 ...`), in ms of the day; NaN for another line. */
function klogTime(line: string): number {
  const match = /^[IWEF]\d{4} (\d{2}):(\d{2}):(\d{2}\.\d+)/.exec(line);
  if (!match) return Number.NaN;
  return ((Number(match[1]) * 60 + Number(match[2])) * 60 + Number(match[3])) * 1000;
}

/** Where a kubectl process spends its time, from its -v=6 log: from its first log line (its kubeconfig read) to its
 * first PATCH sent (the OpenAPI documents it loads, from its cache, come in between), and its PATCHes, one after the
 * other. */
function kubectlPhases(log: string): { beforePatchesMs: number; patchesMs: number; patchMs: number } {
  const first = klogTime(log.split('\n').find((line) => Number.isFinite(klogTime(line))) ?? '');
  const patches = kubectlRequests(log).filter((request) => request.verb === 'PATCH');
  const start = (patches[0]?.at ?? Number.NaN) - (patches[0]?.ms ?? 0);
  return {
    beforePatchesMs: start - first,
    patchesMs: (patches[patches.length - 1]?.at ?? Number.NaN) - start,
    patchMs: median(patches.map((request) => request.ms)),
  };
}

export async function benchSet(options: SetBenchOptions): Promise<Record<string, unknown>> {
  const { info, admin, proxy, progress } = options;
  const template = readFileSync(SET_TEMPLATE, 'utf8');
  const objects = parseAllDocuments(setManifest(template, 'x', '1')).filter((doc) => doc.contents !== null);
  if (objects.length !== SET_OBJECTS) {
    throw new Error(`${SET_TEMPLATE} holds ${objects.length} objects; the set bench applies ${SET_OBJECTS}`);
  }
  const kinds = objects.map((doc) => String(at(doc.toJSON(), 'kind')));
  const kindCounts = Object.fromEntries(
    [...new Set(kinds)].map((kind) => [kind, kinds.filter((k) => k === kind).length]),
  );

  // Instances of the set, each with its own cluster-scoped names: this run's own (a fresh control plane), and
  // unique within it.
  const suffix = Date.now().toString(36);
  const instance = (role: string) => `${role}-${suffix}`;
  const instances = { warm: instance('warm'), cold: instance('cold'), kubectl: instance('kubectl') };
  // The sets' home namespaces, where their records live (a set cannot hold the namespace of its record); kubectl's is
  // made too, though it keeps no record there.
  const homeOf = (id: string) => `set-${id}`;
  for (const id of Object.values(instances)) {
    await admin.create(restPath('v1', 'namespaces'), { metadata: { name: homeOf(id) } });
  }
  // The set tests' identity, bound to cluster-admin for the run: a set may hold any kind, anywhere.
  const binding = `lambda-eks-bench-sets-${suffix}`;
  await admin.apply(restPath('rbac.authorization.k8s.io/v1', 'clusterrolebindings', undefined, binding), {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: binding },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: SETS_GROUP }],
  });

  const env = (id: string): Record<string, string> => ({
    ...options.env,
    ...functionEnv(proxy.url, info.pki.caData, SETS_IDENTITY),
    NAMESPACE: homeOf(id),
  });
  const event = (id: string, revision: string, form: 'yaml' | 'objects' = 'yaml') => {
    const manifest = setManifest(template, id, revision);
    return {
      action: 'apply-manifest',
      set: SET_NAME,
      namespace: homeOf(id),
      manifest:
        form === 'yaml'
          ? manifest
          : parseAllDocuments(manifest)
              .filter((doc) => doc.contents !== null)
              .map((doc): unknown => doc.toJSON()),
    };
  };
  const check = (what: string, counts: unknown, expected: Counts): void => {
    if (!sameCounts(counts, expected)) {
      throw new Error(`set bench: ${what} answered counts ${JSON.stringify(counts)}, not ${JSON.stringify(expected)}`);
    }
  };
  const unchanged = { unchanged: SET_OBJECTS };
  const oneChange = { configured: 1, unchanged: SET_OBJECTS - 1 };

  const work = mkdtempSync(join(tmpdir(), 'lambda-eks-bench-set-'));
  const warm = new WarmEnvironment(options, env(instances.warm), options.nodeOptions);
  // The same with V8's JIT (the template's NODE_OPTIONS without --jitless), on the same instance: what --jitless costs.
  const jit = new WarmEnvironment(options, env(instances.warm), options.nodeOptions.replace('--jitless', '').trim());
  try {
    // A fresh environment: import and one invocation; the proxy's requests of that process are its own.
    const coldRun = async (what: string, expected: Counts) => {
      const before = proxy.requests.length;
      const started = performance.now();
      const { stdout } = await run(
        process.execPath,
        [...options.lambdaArgs, options.invoker, 'cold', options.bundle, JSON.stringify(event(instances.cold, '1'))],
        { env: { ...env(instances.cold), NODE_OPTIONS: options.nodeOptions }, maxBuffer: 64 * 1024 * 1024 },
      );
      const processMs = performance.now() - started;
      const line: unknown = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
      check(what, at(line, 'counts'), expected);
      const seen = proxy.requests.slice(before);
      return {
        processMs,
        importMs: Number(at(line, 'importMs')),
        firstInvocationMs: Number(at(line, 'firstInvokeMs')),
        requests: seen.length,
        writes: seen.filter(isWrite).length,
      };
    };

    // kubectl: the manifest of its own instance (every object names its namespace), its own field manager, the admin
    // kubeconfig, a cache of its own.
    const kubectlFile = join(work, 'set.yaml');
    writeFileSync(kubectlFile, setManifest(template, instances.kubectl, '1'));
    const cacheDir = join(work, 'kubectl-cache');
    const kubectlArgs = [
      'apply',
      '--server-side',
      '--field-manager=lambda-eks-bench-kubectl',
      `--kubeconfig=${info.kubeconfig}`,
      `--cache-dir=${cacheDir}`,
      '-f',
      kubectlFile,
    ];
    const kubectl = async (extra: string[] = []) => {
      const started = performance.now();
      const { stdout, stderr } = await run(info.kubectl, [...kubectlArgs, ...extra], { maxBuffer: 16 * 1024 * 1024 });
      return { ms: performance.now() - started, stdout, stderr };
    };
    const kubectlStart = async () => {
      const started = performance.now();
      await run(info.kubectl, ['version', '--client', '-o', 'json']);
      return performance.now() - started;
    };

    progress('sets: first applies (the function warm and cold, kubectl)');
    const created = await warm.invoke(event(instances.warm, '1'));
    if (created.error !== undefined) throw new Error(`set bench: the first warm apply failed: ${created.error}`);
    check('the first warm apply', created.counts, { created: SET_OBJECTS });
    await coldRun('the first cold apply', { created: SET_OBJECTS });
    // kubectl cannot map the Widgets before their CRD is served: it applies them once it is (as a user would, again).
    let kubectlFilled = false;
    for (let attempt = 0; attempt < 20 && !kubectlFilled; attempt += 1) {
      kubectlFilled = await kubectl().then(
        () => true,
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 500));
          return false;
        },
      );
    }
    if (!kubectlFilled) await kubectl();
    const kubectlOut = await kubectl();
    const applied = kubectlOut.stdout.split('\n').filter((line) => line.includes('serverside-applied')).length;
    if (applied !== SET_OBJECTS)
      throw new Error(`set bench: kubectl applied ${applied} objects:\n${kubectlOut.stdout}`);

    // Round-robin: in each round the warm environment applies the set unchanged (YAML), unchanged (objects) and with
    // one change, the one with the JIT unchanged; then one kubectl process, one kubectl start (kubectl version), one
    // fresh environment. The first two rounds warm up.
    const samples = {
      warmUnchanged: [] as number[],
      warmUnchangedCpu: [] as number[],
      warmUnchangedObjects: [] as number[],
      warmChange: [] as number[],
      warmUnchangedJit: [] as number[],
      warmUnchangedJitCpu: [] as number[],
      warmUnchangedRequests: [] as number[],
      warmUnchangedWrites: [] as number[],
      warmChangeRequests: [] as number[],
      warmChangeWrites: [] as number[],
      kubectl: [] as number[],
      kubectlStart: [] as number[],
      coldProcess: [] as number[],
      coldImport: [] as number[],
      coldFirstInvocation: [] as number[],
      coldImportAndInvocation: [] as number[],
      coldRequests: [] as number[],
      coldWrites: [] as number[],
    };
    let revision = '1';
    let lastUnchanged: SeenRequest[] = [];
    let maxRss = 0;
    const warmApply = async (
      environment: WarmEnvironment,
      what: string,
      form: 'yaml' | 'objects',
      expected: Counts,
    ) => {
      const before = proxy.requests.length;
      const reply = await environment.invoke(event(instances.warm, revision, form));
      if (reply.error !== undefined) throw new Error(`set bench: ${what} failed: ${reply.error}`);
      check(what, reply.counts, expected);
      if (environment === warm) maxRss = Math.max(maxRss, reply.rssBytes ?? 0);
      return { ms: reply.ms, cpuMs: reply.cpuMs ?? Number.NaN, seen: proxy.requests.slice(before) };
    };
    const warmup = 2;
    progress(`sets: ${options.rounds} rounds (and ${warmup} to warm up)`);
    for (let round = 0; round < options.rounds + warmup; round += 1) {
      const keep = round >= warmup;
      // The warm invocations in turn, each round starting with another: the first after the processes of the round
      // before is slower (caches, and V8 shrinking its heap while idle), and no kind should always pay for it.
      const warmKinds = {
        same: () => warmApply(warm, 'a warm unchanged apply', 'yaml', unchanged),
        sameObjects: () => warmApply(warm, 'a warm unchanged apply of objects', 'objects', unchanged),
        changed: () => {
          revision = revision === '1' ? '2' : '1';
          return warmApply(warm, 'a warm apply of one change', 'yaml', oneChange);
        },
      };
      const order = Object.keys(warmKinds) as (keyof typeof warmKinds)[];
      const took: Partial<Record<keyof typeof warmKinds, Awaited<ReturnType<typeof warmApply>>>> = {};
      for (let i = 0; i < order.length; i += 1) {
        const kind = order[(round + i) % order.length] ?? 'same';
        took[kind] = await warmKinds[kind]();
      }
      const { same, sameObjects, changed } = took;
      const withJit = await warmApply(jit, 'a warm unchanged apply with the JIT', 'yaml', unchanged);
      if (same === undefined || sameObjects === undefined || changed === undefined)
        throw new Error('set bench: a round');
      const byKubectl = await kubectl();
      const started = await kubectlStart();
      const cold = await coldRun('a cold unchanged apply', unchanged);
      if (!keep) continue;
      lastUnchanged = same.seen;
      samples.warmUnchanged.push(same.ms);
      samples.warmUnchangedCpu.push(same.cpuMs);
      samples.warmUnchangedObjects.push(sameObjects.ms);
      samples.warmUnchangedJit.push(withJit.ms);
      samples.warmUnchangedJitCpu.push(withJit.cpuMs);
      samples.warmChange.push(changed.ms);
      samples.warmUnchangedRequests.push(same.seen.length, sameObjects.seen.length);
      samples.warmUnchangedWrites.push(same.seen.filter(isWrite).length, sameObjects.seen.filter(isWrite).length);
      samples.warmChangeRequests.push(changed.seen.length);
      samples.warmChangeWrites.push(changed.seen.filter(isWrite).length);
      samples.kubectl.push(byKubectl.ms);
      samples.kubectlStart.push(started);
      samples.coldProcess.push(cold.processMs);
      samples.coldImport.push(cold.importMs);
      samples.coldFirstInvocation.push(cold.firstInvocationMs);
      samples.coldImportAndInvocation.push(cold.importMs + cold.firstInvocationMs);
      samples.coldRequests.push(cold.requests);
      samples.coldWrites.push(cold.writes);
    }

    // Where the time goes. kubectl's own requests, from its log (one more run, not timed).
    const verbose: { ms: number; stderr: string }[] = [];
    for (let i = 0; i < VERBOSE_RUNS; i += 1) verbose.push(await kubectl(['-v=6']));
    const kubectlSeen = kubectlRequests(verbose[0]?.stderr ?? '');
    const phases = verbose.map((one) => ({ processMs: one.ms, ...kubectlPhases(one.stderr) }));
    // The function's requests of the last unchanged apply, replayed in its schedule by a minimal client (JIT on, this
    // process): through the proxy with its token; straight to the server with its token; straight with the admin's
    // client certificate, as kubectl authenticates (no token review). And all one after the other, as kubectl sends.
    const schedule = scheduleOf(lastUnchanged);
    const viaProxy = new Agent({ keepAlive: true, ca: info.pki.ca.cert });
    const direct = new Agent({ keepAlive: true, ca: info.pki.ca.cert });
    const withCert = new Agent({
      keepAlive: true,
      ca: info.pki.ca.cert,
      cert: info.pki.admin.cert,
      key: info.pki.admin.key,
    });
    const replays = {
      proxyToken: (seen: SeenRequest) => resend(proxy.url, viaProxy, seen, true),
      directToken: (seen: SeenRequest) => resend(info.endpoint, direct, seen, true),
      directCert: (seen: SeenRequest) => resend(info.endpoint, withCert, seen, false),
    };
    const replayed: Record<
      string,
      { scheduled: number[]; reads: number[]; sequential: number[]; get: number[]; dryRun: number[] }
    > = Object.fromEntries(
      Object.keys(replays).map((key) => [key, { scheduled: [], reads: [], sequential: [], get: [], dryRun: [] }]),
    );
    for (let i = 0; i < REPLAYS + 1; i += 1) {
      for (const [key, send] of Object.entries(replays)) {
        const scheduled = await replay(schedule, send, FUNCTION_CONCURRENCY);
        const sequential = await replay(schedule, send, 1);
        const failed = [...scheduled.requests, ...sequential.requests].find((answer) => answer.status >= 300);
        if (failed)
          throw new Error(`set bench: replay ${key}: ${failed.method} ${failed.path} answered ${failed.status}`);
        // The first of each warms its connections up.
        if (i === 0) continue;
        const target = replayed[key];
        target?.scheduled.push(scheduled.ms);
        target?.reads.push(scheduled.readsMs);
        target?.sequential.push(sequential.ms);
        target?.get.push(median(sequential.requests.filter((r) => r.method === 'GET').map((r) => r.ms)));
        target?.dryRun.push(median(sequential.requests.filter((r) => r.method !== 'GET').map((r) => r.ms)));
      }
    }
    for (const agent of [viaProxy, direct, withCert]) agent.destroy();

    const warmUnchanged = stats(samples.warmUnchanged);
    const kubectlMs = stats(samples.kubectl);
    const coldTotal = stats(samples.coldImportAndInvocation);
    const coldProcess = stats(samples.coldProcess);
    const requestsPerObject = median(samples.warmUnchangedRequests) / SET_OBJECTS;
    const writesUnchanged = Math.max(...samples.warmUnchangedWrites, ...samples.coldWrites);
    const replayFigures = Object.fromEntries(
      Object.entries(replayed).map(([key, series]) => [
        key,
        {
          scheduledMs: median(series.scheduled),
          scheduledReadsMs: median(series.reads),
          sequentialMs: median(series.sequential),
          getMs: median(series.get),
          dryRunPatchMs: median(series.dryRun),
        },
      ]),
    );
    return {
      template: SET_TEMPLATE,
      objects: SET_OBJECTS,
      kinds: kindCounts,
      rounds: options.rounds,
      warm: {
        unchangedMs: warmUnchanged,
        unchangedCpuMs: stats(samples.warmUnchangedCpu),
        unchangedWithJitMs: stats(samples.warmUnchangedJit),
        unchangedWithJitCpuMs: stats(samples.warmUnchangedJitCpu),
        unchangedObjectsMs: stats(samples.warmUnchangedObjects),
        oneChangeMs: stats(samples.warmChange),
        requestsUnchanged: median(samples.warmUnchangedRequests),
        requestsOneChange: median(samples.warmChangeRequests),
        writesUnchanged: Math.max(...samples.warmUnchangedWrites),
        writesOneChange: median(samples.warmChangeWrites),
        peakRssMb: maxRss / 2 ** 20,
      },
      cold: {
        firstInvocationMs: stats(samples.coldFirstInvocation),
        importMs: stats(samples.coldImport),
        importAndInvocationMs: coldTotal,
        processMs: coldProcess,
        requests: median(samples.coldRequests),
        writes: Math.max(...samples.coldWrites),
      },
      kubectl: {
        processMs: kubectlMs,
        startMs: stats(samples.kubectlStart),
        requests: kubectlSeen.length,
        requestsByVerb: Object.fromEntries(
          [...new Set(kubectlSeen.map((r) => r.verb))].map((verb) => [
            verb,
            kubectlSeen.filter((r) => r.verb === verb).length,
          ]),
        ),
        verboseRuns: {
          runs: VERBOSE_RUNS,
          processMs: median(phases.map((phase) => phase.processMs)),
          beforePatchesMs: median(phases.map((phase) => phase.beforePatchesMs)),
          patchesMs: median(phases.map((phase) => phase.patchesMs)),
          patchMs: median(phases.map((phase) => phase.patchMs)),
        },
      },
      replay: {
        note:
          "the requests of one warm unchanged apply, sent again by a minimal client: 'scheduled' in the function's " +
          "order and concurrency (scheduledReadsMs: its first two steps, the record's GET and the objects' GETs), " +
          "'sequential' one after the other; getMs and dryRunPatchMs are medians of one request",
        requests: lastUnchanged.length,
        steps: schedule.length,
        ...replayFigures,
      },
      ratios: {
        warmUnchangedToKubectl: warmUnchanged.median / kubectlMs.median,
        coldToKubectl: coldTotal.median / kubectlMs.median,
        coldProcessToKubectl: coldProcess.median / kubectlMs.median,
        requestsPerObject,
        writesUnchanged,
      },
    };
  } finally {
    warm.stop();
    jit.stop();
    rmSync(work, { recursive: true, force: true });
    await admin.delete(restPath('rbac.authorization.k8s.io/v1', 'clusterrolebindings', undefined, binding));
  }
}

/** The set's table, from the results JSON. */
export function formatSetTable(results: unknown): string {
  const get = (...path: string[]): number => {
    const value = at(results, 'set', ...path);
    return typeof value === 'number' ? value : Number.NaN;
  };
  const f = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '');
  const range = (...path: string[]): string =>
    Number.isFinite(get(...path, 'median'))
      ? `${f(get(...path, 'median'))} (${f(get(...path, 'min'))}-${f(get(...path, 'max'))})`
      : '';
  const rows: string[][] = [
    [
      'warm apply, unchanged, ms',
      range('warm', 'unchangedMs'),
      range('kubectl', 'processMs'),
      f(get('ratios', 'warmUnchangedToKubectl'), 2),
      '<= 0.2',
    ],
    ['warm apply, unchanged: CPU of the function, ms', range('warm', 'unchangedCpuMs'), '', '', ''],
    ['warm apply, unchanged, manifest as objects, ms', range('warm', 'unchangedObjectsMs'), '', '', ''],
    [
      'warm apply, unchanged, with the JIT (no --jitless), ms (CPU ms)',
      `${range('warm', 'unchangedWithJitMs')} (${f(get('warm', 'unchangedWithJitCpuMs', 'median'))})`,
      '',
      '',
      '',
    ],
    ['warm apply, one object changed, ms', range('warm', 'oneChangeMs'), '', '', ''],
    [
      'fresh environment: import + first invocation, ms',
      range('cold', 'importAndInvocationMs'),
      range('kubectl', 'processMs'),
      f(get('ratios', 'coldToKubectl'), 2),
      '<= 1.0',
    ],
    ['fresh environment: first invocation, ms', range('cold', 'firstInvocationMs'), '', '', ''],
    [
      'fresh environment: whole process (node start too), ms',
      range('cold', 'processMs'),
      range('kubectl', 'processMs'),
      f(get('ratios', 'coldProcessToKubectl'), 2),
      '',
    ],
    ['process start (kubectl version --client), ms', '', range('kubectl', 'startMs'), '', ''],
    [
      'requests per object: warm unchanged (cold)',
      `${f(get('ratios', 'requestsPerObject'), 2)} (${f(get('cold', 'requests') / get('objects'), 2)})`,
      f(get('kubectl', 'requests') / get('objects'), 2),
      '',
      '<= 3',
    ],
    [
      'writes: unchanged / one change',
      `${f(get('ratios', 'writesUnchanged'), 0)} / ${f(get('warm', 'writesOneChange'), 0)}`,
      '',
      '',
      '0 unchanged',
    ],
    [
      'replay of the warm unchanged requests, in its schedule: proxy+token / token / client cert, ms',
      ['proxyToken', 'directToken', 'directCert'].map((key) => f(get('replay', key, 'scheduledMs'))).join(' / '),
      '',
      '',
      '',
    ],
    [
      'the same, proxy+token: its reads (record, 20 GETs) / the rest (dry runs, CRD read), ms',
      `${f(get('replay', 'proxyToken', 'scheduledReadsMs'))} / ${f(
        get('replay', 'proxyToken', 'scheduledMs') - get('replay', 'proxyToken', 'scheduledReadsMs'),
      )}`,
      '',
      '',
      '',
    ],
    [
      'one request (median): GET / dry-run PATCH, proxy+token; client cert / kubectl: PATCH, ms',
      `${f(get('replay', 'proxyToken', 'getMs'), 2)} / ${f(get('replay', 'proxyToken', 'dryRunPatchMs'), 2)}; ` +
        `${f(get('replay', 'directCert', 'getMs'), 2)} / ${f(get('replay', 'directCert', 'dryRunPatchMs'), 2)}`,
      f(get('kubectl', 'verboseRuns', 'patchMs'), 1),
      '',
      '',
    ],
    [
      'kubectl -v=6: first log line to first PATCH (OpenAPI loaded) / its 20 PATCHes, ms',
      '',
      `${f(get('kubectl', 'verboseRuns', 'beforePatchesMs'))} / ${f(get('kubectl', 'verboseRuns', 'patchesMs'))}`,
      '',
      '',
    ],
  ];
  const header = [
    `set of ${f(get('objects'), 0)} objects (bench/set.yaml)`,
    'lambda-eks',
    'kubectl apply --server-side',
    'ratio',
    'goal',
  ];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]): string => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
