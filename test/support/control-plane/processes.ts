// The processes of the local control plane: each started with its output in a log file, tied to this process's life
// (on Linux, `setpriv --pdeathsig` kills it if this process dies without stopping it), and stopped with SIGTERM, then
// SIGKILL after a grace period.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** One started binary. */
export interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Set once it has exited, with the exit code or signal. */
  exited: string | undefined;
}

const SETPRIV = '/usr/bin/setpriv';
const STOP_GRACE_MS = 5000;

function hasSetpriv(): boolean {
  try {
    accessSync(SETPRIV, constants.X_OK);
    return process.platform === 'linux';
  } catch {
    return false;
  }
}

/** Starts `binary` with `args`, its stdout and stderr appended to `logFile`. */
export function startProcess(
  name: string,
  binary: string,
  args: readonly string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): Started {
  const log = openSync(logFile, 'a');
  const [command, fullArgs] = hasSetpriv()
    ? [SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args]]
    : [binary, [...args]];
  const child = spawn(command, fullArgs, { stdio: ['ignore', log, log], env });
  closeSync(log);
  const started: Started = { name, child, logFile, exited: undefined };
  child.on('exit', (code, signal) => {
    started.exited = signal ?? `exit code ${code}`;
  });
  child.on('error', (error) => {
    started.exited = error.message;
  });
  return started;
}

/** Stops the process: SIGTERM, then SIGKILL if it has not exited after a grace period. */
export async function stopProcess(started: Started): Promise<void> {
  if (started.exited !== undefined || started.child.exitCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => started.child.once('exit', () => resolve()));
  started.child.kill('SIGTERM');
  const timer = setTimeout(() => started.child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** The last lines of a process's log, for an error message. */
export function logTail(started: Started, lines = 15): string {
  try {
    return readFileSync(started.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A TCP port of 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` right now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `check` until it answers true, the process dies, or `timeoutMs` passes; throws naming what it waited for. */
export async function waitUntil(
  what: string,
  started: Started | undefined,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (started?.exited !== undefined) {
      throw new Error(`${started.name} exited (${started.exited}) before ${what}. Its log:\n${logTail(started)}`);
    }
    if (await check().catch(() => false)) {
      return;
    }
    if (Date.now() > deadline) {
      const tail = started === undefined ? '' : ` Its log:\n${logTail(started)}`;
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}.${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
