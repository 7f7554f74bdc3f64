// Lambda's Runtime API (version 2018-06-01) for one execution environment, on 127.0.0.1: the runtime long-polls
// /invocation/next for its event and posts the result or the error back. Status codes, bodies and the runtime state
// machine follow Lambda's own implementation, RAPID, as published in aws/aws-lambda-runtime-interface-emulator
// (lambda/rapi/handler/invocation{next,response,error}.go, initerror.go, rendering/rendering.go, core/states.go):
// 200 with the event and the Lambda-Runtime-* headers on next; 202 {"status":"OK"} on response and error; 400
// InvalidRequestID for a request id that is not the current invocation; 403 InvalidStateTransition for a call the
// runtime's state does not allow (a response before any event, a second response, init/error after init); 413 for a
// response over 6 MiB + 100 bytes, which the invoker then sees as Function.ResponseSizeTooLarge.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The largest response or error body Lambda accepts from the runtime (RAPID's interop.MaxPayloadSize). */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 + 100;

const PREFIX = '/2018-06-01/runtime';
const INVOCATION = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;

/** The error document Lambda's Node.js runtime posts for a thrown error: its name, message and stack lines. */
export interface ErrorDocument {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** A body the runtime posted to /invocation/{id}/error or /init/error, as it arrived. */
export interface PostedError {
  /** The invocation's request id; undefined for /init/error. */
  readonly requestId: string | undefined;
  /** The Lambda-Runtime-Function-Error-Type header, when the runtime sent one. */
  readonly errorTypeHeader: string | undefined;
  /** The body, parsed, when it has the shape Lambda's runtimes post. */
  readonly document: ErrorDocument | undefined;
  /** The raw body. */
  readonly body: string;
}

/** What the invoker of a function gets back: the runtime's response payload, or its error. */
export type InvocationOutcome =
  | { readonly kind: 'response'; readonly payload: string }
  | { readonly kind: 'error'; readonly errorType: string; readonly errorMessage: string; readonly payload: string };

/** The moment the runtime took an invocation from /invocation/next. */
export interface Dispatch {
  /** performance.now() when the event went out. */
  readonly at: number;
  /** The Lambda-Runtime-Deadline-Ms header sent: epoch ms on the environment's clock. */
  readonly deadlineMs: number;
}

/** One invocation queued on the Runtime API. */
export interface QueuedInvocation {
  readonly requestId: string;
  readonly traceId: string;
  /** Resolves when the runtime takes the event; rejects if the server stops first. */
  readonly dispatched: Promise<Dispatch>;
  /** Resolves with what the runtime posted; rejects if the server stops first. */
  readonly outcome: Promise<InvocationOutcome>;
}

/** How init ended: the runtime asked for its first event, or it posted /init/error. */
export type InitOutcome =
  { readonly ok: true; readonly at: number } | { readonly ok: false; readonly error: PostedError };

export interface RuntimeApiOptions {
  /** The Lambda-Runtime-Invoked-Function-Arn header. */
  readonly functionArn: string;
  /** The environment's wall clock in epoch ms, from which deadlines are computed (default Date.now). */
  readonly clock?: () => number;
}

type State = 'Started' | 'Ready' | 'RuntimeResponseSentState' | 'InitError';

interface Pending {
  readonly requestId: string;
  readonly traceId: string;
  readonly event: string;
  readonly timeoutMs: number;
  readonly dispatched: PromiseWithResolvers<Dispatch>;
  readonly outcome: PromiseWithResolvers<InvocationOutcome>;
}

/** A promise's resolvers whose promise never counts as unhandled: callers may ignore a rejection on stop. */
function resolvers<T>(): PromiseWithResolvers<T> {
  const deferred = Promise.withResolvers<T>();
  deferred.promise.catch(() => undefined);
  return deferred;
}

/** An X-Ray trace header as Lambda passes it, for a sampled-out request. */
function traceHeader(): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

function errorDocument(body: string): ErrorDocument | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const errorType: unknown = Reflect.get(parsed, 'errorType');
    const errorMessage: unknown = Reflect.get(parsed, 'errorMessage');
    const trace: unknown = Reflect.get(parsed, 'trace');
    if (typeof errorType !== 'string' || typeof errorMessage !== 'string') return undefined;
    const lines = Array.isArray(trace) ? trace.filter((line): line is string => typeof line === 'string') : [];
    return { errorType, errorMessage, trace: lines };
  } catch {
    return undefined;
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

/** Reads a request body, keeping at most `limit` + 1 bytes (enough to tell it is too large). */
async function readBody(request: IncomingMessage, limit: number): Promise<{ text: string; bytes: number }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    if (bytes <= limit) chunks.push(buffer);
    bytes += buffer.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), bytes };
}

/** The Runtime API of one execution environment. */
export class RuntimeApiServer {
  /** Every error body the runtime posted, in order (invocation errors and init errors). */
  readonly errors: PostedError[] = [];

  private state: State = 'Started';
  private readonly queue: Pending[] = [];
  private current: Pending | undefined;
  private poll: ServerResponse | undefined;
  private readonly init = resolvers<InitOutcome>();
  private readonly idleWaiters: PromiseWithResolvers<undefined>[] = [];
  private stopped = false;

  private constructor(
    private readonly server: Server,
    private readonly options: RuntimeApiOptions,
  ) {}

  /** Starts a Runtime API on 127.0.0.1 on a free port. */
  static async start(options: RuntimeApiOptions): Promise<RuntimeApiServer> {
    const server = createServer();
    const api = new RuntimeApiServer(server, options);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      api.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent)
          json(response, 500, { errorType: 'InternalServerError', errorMessage: String(error) });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return api;
  }

  /** host:port, as AWS_LAMBDA_RUNTIME_API carries it. */
  get address(): string {
    const bound: AddressInfo | string | null = this.server.address();
    if (bound === null || typeof bound === 'string') throw new Error('the Runtime API is not listening on TCP');
    return `${bound.address}:${bound.port}`;
  }

  /** Resolves when init ends: at the runtime's first /invocation/next, or its /init/error. */
  get initialized(): Promise<InitOutcome> {
    return this.init.promise;
  }

  /** Resolves when the runtime is waiting in /invocation/next with nothing queued: Lambda freezes it then. */
  whenIdle(): Promise<undefined> {
    if (this.stopped) return Promise.reject(new Error('the Runtime API has stopped'));
    if (this.poll && !this.current && this.queue.length === 0) return Promise.resolve(undefined);
    const waiter = resolvers<undefined>();
    this.idleWaiters.push(waiter);
    return waiter.promise;
  }

  /** Queues an invocation with `event` (JSON-serialised) and a function timeout of `timeoutMs`. */
  enqueue(event: unknown, timeoutMs: number): QueuedInvocation {
    if (this.stopped) throw new Error('the Runtime API has stopped');
    const pending: Pending = {
      requestId: randomUUID(),
      traceId: traceHeader(),
      event: JSON.stringify(event ?? null),
      timeoutMs,
      dispatched: resolvers<Dispatch>(),
      outcome: resolvers<InvocationOutcome>(),
    };
    this.queue.push(pending);
    this.dispatch();
    return {
      requestId: pending.requestId,
      traceId: pending.traceId,
      dispatched: pending.dispatched.promise,
      outcome: pending.outcome.promise,
    };
  }

  /** Stops the server: releases a pending long-poll, closes every socket and rejects what is still queued. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const stopped = new Error('the Runtime API stopped');
    for (const pending of [...this.queue.splice(0), ...(this.current ? [this.current] : [])]) {
      pending.dispatched.reject(stopped);
      pending.outcome.reject(stopped);
    }
    this.current = undefined;
    this.init.reject(stopped);
    for (const waiter of this.idleWaiters.splice(0)) waiter.reject(stopped);
    this.poll?.destroy();
    this.poll = undefined;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (path === `${PREFIX}/invocation/next` && request.method === 'GET') {
      this.next(response);
      return;
    }
    const invocation = INVOCATION.exec(path);
    if (invocation && request.method === 'POST') {
      const [, id = '', kind] = invocation;
      await this.post(request, response, decodeURIComponent(id), kind === 'error');
      return;
    }
    if (path === `${PREFIX}/init/error` && request.method === 'POST') {
      await this.initError(request, response);
      return;
    }
    json(response, 404, { errorType: 'NotFound', errorMessage: `no route for ${request.method} ${path}` });
  }

  private forbidden(response: ServerResponse, to: string): void {
    json(response, 403, {
      errorType: 'InvalidStateTransition',
      errorMessage: `State transition from ${this.state} to ${to} failed for runtime. Error: State transition is not allowed`,
    });
  }

  private next(response: ServerResponse): void {
    if (this.state === 'InitError') {
      this.forbidden(response, 'Ready');
      return;
    }
    if (this.state === 'Started') this.init.resolve({ ok: true, at: performance.now() });
    if (this.state === 'Ready' && this.current) {
      // RAPID answers a repeated /next during an invocation with the same event again.
      this.send(response, this.current);
      return;
    }
    this.poll?.destroy();
    this.poll = response;
    response.once('close', () => {
      if (this.poll === response) this.poll = undefined;
    });
    this.dispatch();
  }

  private dispatch(): void {
    if (!this.poll || this.current || this.stopped) return;
    const pending = this.queue.shift();
    if (!pending) {
      for (const waiter of this.idleWaiters.splice(0)) waiter.resolve(undefined);
      return;
    }
    const response = this.poll;
    this.poll = undefined;
    this.current = pending;
    this.state = 'Ready';
    this.send(response, pending);
  }

  private send(response: ServerResponse, pending: Pending): void {
    const deadlineMs = (this.options.clock ?? Date.now)() + pending.timeoutMs;
    response.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(pending.event),
      'Lambda-Runtime-Aws-Request-Id': pending.requestId,
      'Lambda-Runtime-Deadline-Ms': String(deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': this.options.functionArn,
      'Lambda-Runtime-Trace-Id': pending.traceId,
    });
    response.end(pending.event);
    pending.dispatched.resolve({ at: performance.now(), deadlineMs });
  }

  private async post(request: IncomingMessage, response: ServerResponse, id: string, isError: boolean): Promise<void> {
    const { text, bytes } = await readBody(request, MAX_PAYLOAD_BYTES);
    if (this.state !== 'Ready') {
      this.forbidden(response, isError ? 'InvocationErrorResponse' : 'InvocationResponse');
      return;
    }
    const pending = this.current;
    if (!pending || pending.requestId !== id) {
      json(response, 400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
      return;
    }
    this.current = undefined;
    this.state = 'RuntimeResponseSentState';
    if (bytes > MAX_PAYLOAD_BYTES) {
      const errorMessage = `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`;
      const errorType = 'Function.ResponseSizeTooLarge';
      pending.outcome.resolve({
        kind: 'error',
        errorType,
        errorMessage,
        payload: JSON.stringify({ errorType, errorMessage }),
      });
      json(response, 413, {
        errorMessage: `Exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`,
        errorType: 'RequestEntityTooLarge',
      });
      return;
    }
    if (isError) {
      const posted = this.recordError(request, id, text);
      pending.outcome.resolve({
        kind: 'error',
        errorType: posted.document?.errorType ?? posted.errorTypeHeader ?? '',
        errorMessage: posted.document?.errorMessage ?? '',
        payload: text,
      });
    } else {
      pending.outcome.resolve({ kind: 'response', payload: text });
    }
    json(response, 202, { status: 'OK' });
  }

  private async initError(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { text } = await readBody(request, MAX_PAYLOAD_BYTES);
    if (this.state !== 'Started') {
      this.forbidden(response, 'InitError');
      return;
    }
    this.state = 'InitError';
    this.init.resolve({ ok: false, error: this.recordError(request, undefined, text) });
    json(response, 202, { status: 'OK' });
  }

  private recordError(request: IncomingMessage, requestId: string | undefined, body: string): PostedError {
    const header = request.headers['lambda-runtime-function-error-type'];
    const posted: PostedError = {
      requestId,
      errorTypeHeader: typeof header === 'string' ? header : undefined,
      document: errorDocument(body),
      body,
    };
    this.errors.push(posted);
    return posted;
  }
}
