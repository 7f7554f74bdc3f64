// Runs the built function as Lambda does: find CodeUri and Handler in template.yml, resolve the module file the way
// the Node.js runtime does (.js, then .mjs, then .cjs), start it in a separate Node process with only the given
// environment, and invoke it with a deadline. The process lives across invocations, like a warm execution environment.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, type Tags } from 'yaml';
import { at, jsonRecords } from './json.js';
import { recordOutput } from './run-record.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

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
  const value = at(
    readTemplate(templatePath),
    'Resources',
    'DeployerFunction',
    'Properties',
    'Environment',
    'Variables',
    'NODE_OPTIONS',
  );
  return typeof value === 'string' ? value : '';
}

/** The file and export Lambda would load for the template's function. */
export function resolveHandler(templatePath?: string): { file: string; exportName: string } {
  const template = readTemplate(templatePath);
  const resources = at(template, 'Resources');
  const functions = Object.values(typeof resources === 'object' && resources !== null ? resources : {}).filter(
    (resource) => at(resource, 'Type') === 'AWS::Serverless::Function',
  );
  if (functions.length !== 1) {
    throw new Error(`template.yml has ${functions.length} AWS::Serverless::Function resources; expected 1`);
  }
  const codeUri = at(functions[0], 'Properties', 'CodeUri') ?? at(template, 'Globals', 'Function', 'CodeUri');
  const handler = at(functions[0], 'Properties', 'Handler') ?? at(template, 'Globals', 'Function', 'Handler');
  if (typeof codeUri !== 'string' || typeof handler !== 'string') {
    throw new Error('the function needs a string CodeUri and Handler');
  }
  const dot = handler.lastIndexOf('.');
  const moduleName = handler.slice(0, dot);
  const base = join(PROJECT_ROOT, codeUri, moduleName);
  const file = ['.js', '.mjs', '.cjs'].map((extension) => base + extension).find((candidate) => existsSync(candidate));
  if (file === undefined) {
    throw new Error(`no ${moduleName}.js, .mjs or .cjs in ${codeUri}: run ./build-handler.sh`);
  }
  return { file, exportName: handler.slice(dot + 1) };
}

export type Invocation =
  | { readonly ok: true; readonly result: Record<string, unknown>; readonly durationMs: number }
  | { readonly ok: false; readonly errorType: string; readonly errorMessage: string; readonly durationMs: number };

interface ResultMessage {
  type: 'result';
  id: string;
  ok: boolean;
  result?: Record<string, unknown>;
  errorType?: string;
  errorMessage?: string;
}

/** Every line the function ever wrote, across all environments of the test run's process. */
export const allLogLines: string[] = [];

/** One execution environment: a process that has loaded the bundle and serves invocations. */
export class LambdaEnvironment {
  private readonly pending = new Map<string, (message: ResultMessage) => void>();

  private constructor(
    private readonly child: ChildProcess,
    /** Every line this environment wrote, from init on. */
    readonly logs: string[],
    readonly nodeVersion: string,
    readonly initMs: number,
  ) {
    child.on('message', (message: ResultMessage) => {
      if (message.type === 'result') {
        this.pending.get(message.id)?.(message);
        this.pending.delete(message.id);
      }
    });
  }

  /** Starts an environment with exactly `env` (plus PATH), loading the handler the template names. */
  static async start(env: Record<string, string>): Promise<LambdaEnvironment> {
    const { file, exportName } = resolveHandler();
    const child = fork(join(PROJECT_ROOT, 'test/support/lambda-runtime.mjs'), [file, exportName], {
      env: { PATH: process.env['PATH'] ?? '', TZ: 'UTC', NODE_OPTIONS: templateNodeOptions(), ...env },
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const lines: string[] = [];
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(line);
        allLogLines.push(line);
        recordOutput(line);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const ready = await new Promise<{ node: string; initMs: number }>((resolveReady, reject) => {
      child.once('message', (message: { type: string; node: string; initMs: number; errorMessage?: string }) => {
        if (message.type === 'ready') resolveReady(message);
        else reject(new Error(`init failed: ${message.errorMessage ?? JSON.stringify(message)}`));
      });
      child.once('exit', (code) => reject(new Error(`the runtime exited during init (${code}): ${lines.join('\n')}`)));
    });
    return new LambdaEnvironment(child, lines, ready.node, ready.initMs);
  }

  /** Invokes the function; like Lambda, gives up (and kills the environment) 100 ms after the timeout. */
  invoke(event: unknown, timeoutMs = 3000): Promise<Invocation> {
    const id = randomUUID();
    const started = performance.now();
    return new Promise((resolveInvocation, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.child.kill('SIGKILL');
        reject(new Error(`Task timed out after ${timeoutMs} ms`));
      }, timeoutMs + 100);
      this.pending.set(id, (message) => {
        clearTimeout(timer);
        const durationMs = performance.now() - started;
        if (!message.ok) recordOutput(message.errorMessage ?? '');
        resolveInvocation(
          message.ok
            ? { ok: true, result: message.result ?? {}, durationMs }
            : { ok: false, errorType: message.errorType ?? '', errorMessage: message.errorMessage ?? '', durationMs },
        );
      });
      this.child.send({ id, event, timeoutMs, requestId: id });
    });
  }

  /** The JSON log records the function wrote, parsed. */
  records(): Record<string, unknown>[] {
    return jsonRecords(this.logs);
  }

  /** Ends the process. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolveExit) => this.child.once('exit', resolveExit));
    this.child.kill('SIGTERM');
    await exited;
  }
}
