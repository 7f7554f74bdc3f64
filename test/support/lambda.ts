// Runs the built function as Lambda runs it: Lambda's own Node.js runtime interface client (npm aws-lambda-ric, the
// code behind /var/runtime/index.mjs) in a Node process started with the flags of Lambda's bootstrap
// (lambda-bootstrap.mjs) and the environment Lambda sets, loading the template's Handler from its CodeUri, and fed by
// a Runtime API on 127.0.0.1 (runtime-api.ts). The process lives across invocations, like a warm execution
// environment; it can be frozen between them, as Lambda freezes an idle environment, and its wall clock moved on.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { parse, type Tags } from 'yaml';
import { at, jsonRecords } from './json.js';
import { lambdaNodeArgs, memorySizeOf } from './lambda-bootstrap.mjs';
import { FUNCTION_ARN, FUNCTION_NAME, FUNCTION_VERSION, LOG_GROUP_NAME } from './lambda-context.mjs';
import { recordOutput } from './run-record.js';
import { RuntimeApiServer, type InvocationOutcome, type PostedError } from './runtime-api.js';
import { MissingToolError } from './tools.js';
import { PROJECT_ROOT } from './paths.js';

export { PROJECT_ROOT };

/** The sample events in events/ (file names), without the env-vars files of sam local invoke. */
export function sampleEvents(): string[] {
  return readdirSync(join(PROJECT_ROOT, 'events')).filter((file) => file.endsWith('.json') && !file.startsWith('env.'));
}

/** Lambda's runtime interface client, as the managed runtime runs it. */
const RUNTIME_CLIENT = join(PROJECT_ROOT, 'node_modules/aws-lambda-ric/index.mjs');

/** How long Lambda lets a function initialise (the Init phase of the execution environment lifecycle). */
const INIT_LIMIT_MS = 10_000;

/** How long after the deadline the environment is killed if it has not answered: Lambda's timeout is not to the
 * millisecond either, and the function's own deadline handling must not race the kill. */
const DEADLINE_GRACE_MS = 100;

const INTRINSICS = [
  'Ref',
  'Sub',
  'GetAtt',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'Select',
  'Split',
  'Join',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Base64',
  'Cidr',
  'Condition',
];

/** CloudFormation's short-form tags (!Ref, !Sub, ...) as their long forms. */
export const CFN_TAGS: Tags = INTRINSICS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  return [
    { tag: `!${name}`, resolve: (value: string) => ({ [key]: name === 'GetAtt' ? value.split('.') : value }) },
    {
      tag: `!${name}`,
      collection: 'seq' as const,
      resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }),
    },
    {
      tag: `!${name}`,
      collection: 'map' as const,
      resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }),
    },
  ];
});

/** Parses a CloudFormation/SAM template. */
export function readTemplate(path = join(PROJECT_ROOT, 'template.yml')): unknown {
  return parse(readFileSync(path, 'utf8'), { customTags: CFN_TAGS });
}

/** NODE_OPTIONS as the template sets it for the function, which Lambda passes to the runtime's Node process. */
export function templateNodeOptions(templatePath?: string): string {
  return templateFunction(templatePath).environment['NODE_OPTIONS'] ?? '';
}

/** The template's MemorySize for the function, in MB. */
export function templateMemorySize(templatePath?: string): number {
  return memorySizeOf(readTemplate(templatePath));
}

/** What Lambda reads from the template to run the function. */
export interface TemplateFunction {
  /** The CodeUri directory, absolute: Lambda's task root. */
  readonly codeDir: string;
  /** Handler, as _HANDLER carries it (module.export). */
  readonly handler: string;
  /** Runtime, such as nodejs24.x. */
  readonly runtime: string;
  readonly memorySizeMb: number;
  /** LoggingConfig.LogFormat: JSON or Text (Lambda's default). */
  readonly logFormat: string;
  /** LoggingConfig.ApplicationLogLevel; with JSON logs Lambda's default is INFO. Undefined with Text logs. */
  readonly applicationLogLevel: string | undefined;
  /** The function's environment variables whose values are literal strings (not intrinsic functions). */
  readonly environment: Readonly<Record<string, string>>;
}

/** The one AWS::Serverless::Function of the template, with Globals.Function applied. */
export function templateFunction(templatePath = join(PROJECT_ROOT, 'template.yml')): TemplateFunction {
  const template = readTemplate(templatePath);
  const resources = at(template, 'Resources');
  const functions = Object.values(typeof resources === 'object' && resources !== null ? resources : {}).filter(
    (resource) => at(resource, 'Type') === 'AWS::Serverless::Function',
  );
  if (functions.length !== 1) {
    throw new Error(`template.yml has ${functions.length} AWS::Serverless::Function resources; expected 1`);
  }
  const property = (...path: string[]): unknown =>
    at(functions[0], 'Properties', ...path) ?? at(template, 'Globals', 'Function', ...path);
  const codeUri = property('CodeUri');
  const handler = property('Handler');
  const runtime = property('Runtime');
  if (typeof codeUri !== 'string' || typeof handler !== 'string' || typeof runtime !== 'string') {
    throw new Error('the function needs a string CodeUri, Handler and Runtime');
  }
  const logFormat = property('LoggingConfig', 'LogFormat');
  const level = property('LoggingConfig', 'ApplicationLogLevel');
  const format = typeof logFormat === 'string' ? logFormat : 'Text';
  const variables = property('Environment', 'Variables');
  const environment = Object.fromEntries(
    Object.entries(typeof variables === 'object' && variables !== null ? variables : {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
  return {
    // SAM reads CodeUri relative to the template.
    codeDir: join(dirname(templatePath), codeUri),
    handler,
    runtime,
    memorySizeMb: memorySizeOf(template),
    logFormat: format,
    applicationLogLevel: format.toUpperCase() === 'JSON' ? (typeof level === 'string' ? level : 'INFO') : undefined,
    environment,
  };
}

/** The file and export Lambda would load for the template's function (the module name with .js, .mjs or .cjs,
 * tried in that order, as the runtime's module loader does). */
export function resolveHandler(templatePath?: string): { file: string; exportName: string } {
  const { codeDir, handler } = templateFunction(templatePath);
  const dot = handler.lastIndexOf('.');
  const moduleName = handler.slice(0, dot);
  const base = join(codeDir, moduleName);
  const file = ['.js', '.mjs', '.cjs'].map((extension) => base + extension).find((candidate) => existsSync(candidate));
  if (file === undefined) {
    throw new Error(`no ${moduleName}.js, .mjs or .cjs in ${codeDir}: run ./build-handler.sh`);
  }
  return { file, exportName: handler.slice(dot + 1) };
}

/** What the invoker gets back; durationMs runs from when the runtime took the event. */
export type Invocation =
  | {
      readonly ok: true;
      readonly requestId: string;
      readonly result: Record<string, unknown>;
      readonly durationMs: number;
    }
  | {
      readonly ok: false;
      readonly requestId: string;
      readonly errorType: string;
      readonly errorMessage: string;
      readonly durationMs: number;
    };

export interface EnvironmentOptions {
  /** Give the environment's process a wall clock that advanceClock() moves (libfaketime). Default false. */
  readonly controllableClock?: boolean;
  /** The SAM template whose function to run. Default: the project's template.yml. */
  readonly templatePath?: string;
}

/** Every line the function ever wrote, across all environments of the test run's process. */
export const allLogLines: string[] = [];

/** Lambda's log levels, lowest first (LoggingConfig.ApplicationLogLevel). */
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** Whether Lambda keeps a line the function wrote to stdout or stderr at application log level `minimum`: with JSON
 * logs it reads the line's "level" key, and treats a line without a valid one as INFO (Lambda Developer Guide,
 * "Log-level filtering"). */
function keptAtLevel(line: string, minimum: string | undefined): boolean {
  if (minimum === undefined) return true;
  let level = 'INFO';
  try {
    const value: unknown = at(JSON.parse(line), 'level');
    if (typeof value === 'string' && LOG_LEVELS.includes(value.toUpperCase())) level = value.toUpperCase();
  } catch {
    // not JSON: INFO
  }
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(minimum.toUpperCase());
}

/** Splits a stream into lines, across chunk boundaries. */
function eachLine(stream: Readable | null, onLine: (line: string) => void): void {
  let rest = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    lines.filter(Boolean).forEach(onLine);
  });
  stream?.on('end', () => {
    if (rest) onLine(rest);
    rest = '';
  });
}

/** Reads the runtime's telemetry frames (aws-lambda-ric, TelemetryLogger: a 4-byte type, a 4-byte length, an 8-byte
 * timestamp in microseconds, big-endian, then the message): each frame is one log event. */
function eachFrame(stream: Readable | null, onFrame: (message: string) => void): void {
  let buffered = Buffer.alloc(0);
  stream?.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 16) {
      const length = buffered.readUInt32BE(4);
      if (buffered.length < 16 + length) break;
      onFrame(
        buffered
          .subarray(16, 16 + length)
          .toString('utf8')
          .replace(/\n$/, ''),
      );
      buffered = buffered.subarray(16 + length);
    }
  });
}

let nodeVersionOfExecPath: string | undefined;

/** The version of the Node binary the environments run (the one running the tests: npm puts Node 24 first). */
function runtimeNodeVersion(): string {
  nodeVersionOfExecPath ??= execFileSync(process.execPath, ['--version'], { encoding: 'utf8' }).trim().slice(1);
  return nodeVersionOfExecPath;
}

/** libfaketime's preload library: LIBFAKETIME, else where the Debian/Ubuntu and Homebrew packages install it. */
function libfaketime(): { variable: string; path: string } {
  const candidates = [
    process.env['LIBFAKETIME'],
    ...['/usr/lib', '/usr/lib64', '/usr/local/lib'].flatMap((root) => {
      const multiarch = existsSync(root) ? readdirSync(root).map((dir) => join(root, dir, 'faketime')) : [];
      return [join(root, 'faketime'), ...multiarch].map((dir) => join(dir, 'libfaketimeMT.so.1'));
    }),
    '/opt/homebrew/lib/faketime/libfaketime.1.dylib',
    '/usr/local/lib/faketime/libfaketime.1.dylib',
  ];
  const path = candidates.find((candidate): candidate is string => candidate !== undefined && existsSync(candidate));
  if (path === undefined) {
    throw new MissingToolError(
      'test prerequisite missing: libfaketime, for an environment with a controllable clock. Install it ' +
        '(apt-get install -y faketime, or brew install libfaketime), or set LIBFAKETIME to its preload library.',
    );
  }
  return { variable: path.endsWith('.dylib') ? 'DYLD_INSERT_LIBRARIES' : 'LD_PRELOAD', path };
}

/** A log stream name as Lambda names them: date/[version]id. */
function logStreamName(): string {
  const date = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${date}/[${FUNCTION_VERSION}]${randomBytes(16).toString('hex')}`;
}

/** libfaketime (0.9.10) creates a shared memory object and a semaphore named after the process, and removes them only
 * when the process exits normally; Lambda-style kills leave them behind, and a later faketime wrapper that gets the
 * same process id then fails ("sem_open: File exists"). */
function removeFaketimeSharedMemory(pid: number | undefined): void {
  if (pid === undefined) return;
  for (const name of [`faketime_shm_${pid}`, `sem.faketime_sem_${pid}`]) {
    rmSync(join('/dev/shm', name), { force: true });
  }
}

/** The wall clock of one environment's process: an offset from real time in a file libfaketime reads on every call
 * (FAKETIME_NO_CACHE), with the monotonic clock left alone so that timers keep their durations. */
class ControllableClock {
  private offsetMs = 0;

  constructor(private readonly dir: string) {
    this.write();
  }

  get file(): string {
    return join(this.dir, 'faketime.rc');
  }

  /** Epoch ms as the environment reads its clock. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
    this.write();
  }

  private write(): void {
    // Written whole, then renamed: the process never reads a half-written offset.
    const next = join(this.dir, 'faketime.rc.next');
    writeFileSync(next, `${this.offsetMs >= 0 ? '+' : ''}${(this.offsetMs / 1000).toFixed(3)}\n`);
    renameSync(next, this.file);
  }
}

/** One execution environment: Lambda's runtime in a process that has loaded the bundle and serves invocations. */
export class LambdaEnvironment {
  /** Every line this environment wrote, from init on: its stdout and stderr lines and the runtime's log events,
   * before Lambda's log-level filter. */
  readonly logs: string[] = [];
  /** What the runtime posted for failed invocations: the error document, raw and parsed. */
  readonly errors: PostedError[] = [];
  readonly nodeVersion: string;

  private readonly functionLines: string[] = [];
  private readonly consoleLines: string[] = [];
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private frozen = false;
  private initDurationMs = 0;

  private constructor(
    private readonly child: ChildProcess,
    private readonly api: RuntimeApiServer,
    private readonly clock: ControllableClock | undefined,
    private readonly clockDir: string | undefined,
    private readonly applicationLogLevel: string | undefined,
  ) {
    this.nodeVersion = runtimeNodeVersion();
    this.exited = new Promise((resolveExit) =>
      child.once('exit', (code, signal) => {
        if (clock) removeFaketimeSharedMemory(child.pid);
        resolveExit({ code, signal });
      }),
    );
    const collect = (line: string, into: string[]): void => {
      this.logs.push(line);
      allLogLines.push(line);
      recordOutput(line);
      into.push(line);
    };
    eachLine(child.stdout, (line) => collect(line, this.functionLines));
    eachLine(child.stderr, (line) => collect(line, this.functionLines));
    const telemetry = child.stdio[3];
    eachFrame(telemetry instanceof Readable ? telemetry : null, (message) => collect(message, this.consoleLines));
  }

  /** Starts an environment whose function environment is `env` (the test's variables, over the template's literal
   * ones), and waits for the end of init. Throws with the runtime's init error when init fails. */
  static async start(env: Record<string, string>, options: EnvironmentOptions = {}): Promise<LambdaEnvironment> {
    const fn = templateFunction(options.templatePath);
    resolveHandler(options.templatePath);
    const clockDir = options.controllableClock ? mkdtempSync(join(tmpdir(), 'lambda-eks-clock-')) : undefined;
    const clock = clockDir === undefined ? undefined : new ControllableClock(clockDir);
    const api = await RuntimeApiServer.start({
      functionArn: FUNCTION_ARN,
      clock: clock ? () => clock.now() : Date.now,
    });
    const region = env['AWS_REGION'];
    const lambdaEnv: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      LAMBDA_TASK_ROOT: fn.codeDir,
      LAMBDA_RUNTIME_DIR: dirname(RUNTIME_CLIENT),
      _HANDLER: fn.handler,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
      AWS_LAMBDA_RUNTIME_API: api.address,
      AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
      AWS_LAMBDA_FUNCTION_VERSION: FUNCTION_VERSION,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySizeMb),
      AWS_LAMBDA_LOG_GROUP_NAME: LOG_GROUP_NAME,
      AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(),
      AWS_LAMBDA_LOG_FORMAT: fn.logFormat,
      ...(fn.applicationLogLevel === undefined ? {} : { AWS_LAMBDA_LOG_LEVEL: fn.applicationLogLevel }),
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      ...(region ? { AWS_DEFAULT_REGION: region } : {}),
      // The managed runtime's console writes its log events to this descriptor, apart from stdout and stderr.
      _LAMBDA_TELEMETRY_LOG_FD: '3',
      ...fn.environment,
      ...env,
    };
    if (clock) {
      const { variable, path } = libfaketime();
      Object.assign(lambdaEnv, {
        [variable]: path,
        FAKETIME_TIMESTAMP_FILE: clock.file,
        FAKETIME_NO_CACHE: '1',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      });
    }
    const started = performance.now();
    const child = spawn(process.execPath, [...lambdaNodeArgs(fn.memorySizeMb), RUNTIME_CLIENT, fn.handler], {
      cwd: fn.codeDir,
      env: lambdaEnv,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    // Lambda filters stdout and stderr by level only for a function with JSON logs.
    const filterLevel =
      lambdaEnv['AWS_LAMBDA_LOG_FORMAT']?.toUpperCase() === 'JSON' ? lambdaEnv['AWS_LAMBDA_LOG_LEVEL'] : undefined;
    const environment = new LambdaEnvironment(child, api, clock, clockDir, filterLevel);
    let timer: NodeJS.Timeout | undefined;
    const init = await Promise.race([
      api.initialized,
      environment.exited.then(({ code, signal }) => ({ ok: false as const, code, signal })),
      new Promise<{ ok: false; timedOut: true }>((resolveTimeout) => {
        timer = setTimeout(() => resolveTimeout({ ok: false, timedOut: true }), INIT_LIMIT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!init.ok) {
      if ('timedOut' in init) child.kill('SIGKILL');
      await environment.stop();
      const reason =
        'error' in init
          ? `${init.error.document?.errorType ?? init.error.errorTypeHeader}: ${init.error.document?.errorMessage}`
          : 'timedOut' in init
            ? `the runtime did not ask for an event within ${INIT_LIMIT_MS} ms, Lambda's limit for init`
            : `the runtime exited (${init.code ?? init.signal})`;
      throw new Error(`init failed: ${reason}\n${environment.logs.join('\n')}`);
    }
    environment.initDurationMs = init.at - started;
    return environment;
  }

  /** Init duration: from starting the process to the runtime's first request for an event. */
  get initMs(): number {
    return this.initDurationMs;
  }

  /** Invokes the function with a timeout of `timeoutMs`, counted from when the runtime takes the event. Like Lambda,
   * thaws a frozen environment first; kills the environment and rejects with "Task timed out" when the deadline
   * passes without an answer. Invocations wait their turn: an environment runs one at a time. */
  async invoke(event: unknown, timeoutMs = 3000): Promise<Invocation> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      throw new Error('the environment has ended; start another');
    }
    if (this.frozen) this.thaw();
    const queued = this.api.enqueue(event, timeoutMs);
    const ended = this.exited.then(({ code, signal }) => ({ kind: 'exit' as const, code, signal }));
    const dispatched = await Promise.race([queued.dispatched, ended]);
    if ('kind' in dispatched) throw new Error(`the environment exited (${dispatched.code ?? dispatched.signal})`);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<{ kind: 'timeout' }>((resolveTimeout) => {
      timer = setTimeout(() => resolveTimeout({ kind: 'timeout' }), timeoutMs + DEADLINE_GRACE_MS);
    });
    const settled = await Promise.race([queued.outcome, ended, deadline]);
    clearTimeout(timer);
    const durationMs = performance.now() - dispatched.at;
    if (settled.kind === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`Task timed out after ${timeoutMs} ms`);
    }
    // Whatever the runtime wrote before it answered is in the pipes already: read it before returning.
    await new Promise((resolveTurn) => setImmediate(resolveTurn));
    return this.settle(settled, queued.requestId, durationMs);
  }

  /** The JSON log records the function wrote to stdout and stderr, as CloudWatch keeps them (Lambda drops those
   * below the application log level), parsed. */
  records(): Record<string, unknown>[] {
    return jsonRecords(this.functionLines.filter((line) => keptAtLevel(line, this.applicationLogLevel)));
  }

  /** The JSON log events written through the runtime's patched console: the runtime's own (its "Invoke Error"
   * record) and any console.* call of the function, parsed. */
  consoleRecords(): Record<string, unknown>[] {
    return jsonRecords(this.consoleLines);
  }

  /** Freezes the process (SIGSTOP) once the runtime is waiting for its next event, as Lambda freezes an idle
   * execution environment. */
  async freeze(): Promise<void> {
    await this.api.whenIdle();
    this.child.kill('SIGSTOP');
    this.frozen = true;
  }

  /** Resumes a frozen process (SIGCONT). */
  thaw(): void {
    this.child.kill('SIGCONT');
    this.frozen = false;
  }

  /** Moves the environment's wall clock on by `ms`, as the minutes a frozen environment does not see pass. Needs
   * the controllableClock option. Timers are not affected: they run on the monotonic clock. */
  advanceClock(ms: number): void {
    if (!this.clock) throw new Error('start the environment with { controllableClock: true } to move its clock');
    this.clock.advance(ms);
  }

  /** Ends the process and the Runtime API. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      if (this.frozen) this.thaw();
    }
    await this.exited;
    await this.api.stop();
    if (this.clockDir) rmSync(this.clockDir, { recursive: true, force: true });
  }

  private settle(
    settled: InvocationOutcome | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null },
    requestId: string,
    durationMs: number,
  ): Invocation {
    if (settled.kind === 'exit') {
      // What Lambda answers when the runtime dies during an invocation.
      const status = settled.signal ? `signal: ${settled.signal}` : `exit status ${settled.code}`;
      const errorMessage = `RequestId: ${requestId} Error: Runtime exited with error: ${status}`;
      recordOutput(errorMessage);
      return { ok: false, requestId, errorType: 'Runtime.ExitError', errorMessage, durationMs };
    }
    if (settled.kind === 'error') {
      recordOutput(settled.errorMessage, settled.payload);
      const posted = this.api.errors.at(-1);
      if (posted?.requestId === requestId) this.errors.push(posted);
      return { ok: false, requestId, errorType: settled.errorType, errorMessage: settled.errorMessage, durationMs };
    }
    const result: unknown = JSON.parse(settled.payload);
    if (typeof result !== 'object' || result === null || Array.isArray(result)) {
      throw new Error(`the function returned ${settled.payload}, not a JSON object`);
    }
    return { ok: true, requestId, result: { ...result }, durationMs };
  }
}
