// A small HTTPS proxy of ours between the function and the real kube-apiserver, for what no healthy server does: a
// reset or silently dropped connection, an answer lost after the server acted, a body cut short, 429 with Retry-After,
// 500/503, an HTML page from a proxy (with status 200 too). Everything else passes through untouched to the real
// server, which authenticates the function's own bearer token. It serves the cluster's own certificate (or another,
// for the TLS tests), records each request (method, path, query; never a body's secrets are asserted on) and counts
// TLS handshakes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, request, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { KeyPair } from './pki.js';
import { recordSecrets } from './run-record.js';

/** What the proxy does to a request instead of (or around) passing it on. */
export type Fault =
  /** Answers as kube-apiserver does when overloaded or failing: a Status body with this code. */
  | { readonly kind: 'status'; readonly code: 429 | 500 | 502 | 503 | 504; readonly retryAfterSeconds?: number }
  /** Answers with an HTML page, as a load balancer or proxy in front of a cluster does. */
  | { readonly kind: 'html'; readonly code: number }
  /** Closes the connection before answering (the client sees ECONNRESET, "socket hang up"). */
  | { readonly kind: 'reset' }
  /** Never answers, and keeps the connection open. */
  | { readonly kind: 'drop' }
  /** Passes the request on, then answers after `ms`. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Passes the request on, so the server acts, then closes the connection: the answer is lost. */
  | { readonly kind: 'lose-answer' }
  /** Passes the request on, then sends the headers and half the body, and closes the connection. */
  | { readonly kind: 'truncate' };

/** A request as the proxy saw it. */
export interface SeenRequest {
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: string;
  /** The fault the proxy applied, if any. */
  readonly fault: Fault['kind'] | undefined;
  /** The status the client got: the server's, the fault's, or 0 when it got none. Set once answered. */
  status: number;
}

/** Which requests a fault applies to. */
export type RequestMatcher = (request: { method: string; path: string; query: URLSearchParams }) => boolean;

const STATUS_REASONS: Readonly<Record<number, string>> = {
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export class FaultProxy {
  /** Every request, in order of arrival. */
  readonly requests: SeenRequest[] = [];
  /** TLS handshakes completed by clients. */
  handshakes = 0;
  private readonly server: Server;
  private readonly upstream: Agent;
  private readonly sockets = new Set<Socket>();
  private readonly queue: { fault: Fault; when: RequestMatcher }[] = [];
  private listening: string | undefined;

  constructor(
    private readonly target: string,
    caPem: string,
    tls: KeyPair,
  ) {
    this.upstream = new Agent({ keepAlive: true, ca: caPem });
    this.server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => this.handle(req, res));
    this.server.on('secureConnection', () => {
      this.handshakes += 1;
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on an ephemeral port of 127.0.0.1; answers the https URL to give the function. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the fault proxy is not listening');
    this.listening = `https://127.0.0.1:${address.port}`;
    return this.listening;
  }

  /** The https URL to give the function (once started). */
  get url(): string {
    if (this.listening === undefined) throw new Error('the fault proxy has not started');
    return this.listening;
  }

  /** Queues faults: each is taken by the next request `when` matches (any request by default). */
  inject(faults: readonly Fault[], when: RequestMatcher = () => true): void {
    this.queue.push(...faults.map((fault) => ({ fault, when })));
  }

  /** Forgets the requests seen and the faults not taken, and closes the open connections. */
  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.handshakes = 0;
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.upstream.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'https://proxy.invalid');
      const method = req.method ?? 'GET';
      const index = this.queue.findIndex(({ when }) => when({ method, path: url.pathname, query: url.searchParams }));
      const fault = index < 0 ? undefined : this.queue.splice(index, 1)[0]?.fault;
      const authorization = req.headers.authorization;
      if (authorization?.startsWith('Bearer ')) recordSecrets(authorization.slice('Bearer '.length));
      const seen: SeenRequest = {
        method,
        path: url.pathname,
        query: url.searchParams,
        contentType: req.headers['content-type'],
        authorization,
        body: body.toString('utf8'),
        fault: fault?.kind,
        status: 0,
      };
      this.requests.push(seen);
      res.on('finish', () => {
        seen.status = res.statusCode;
      });
      this.answer(req, res, body, fault);
    });
  }

  private answer(req: IncomingMessage, res: ServerResponse, body: Buffer, fault: Fault | undefined): void {
    switch (fault?.kind) {
      case 'status': {
        const headers: Record<string, string> = { 'Content-Type': 'application/json' };
        if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
        const reason = STATUS_REASONS[fault.code] ?? 'InternalError';
        res.writeHead(fault.code, headers).end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: fault.code === 429 ? 'Too many requests, please try again later.' : `injected ${reason}`,
            reason,
            ...(fault.retryAfterSeconds === undefined
              ? {}
              : { details: { retryAfterSeconds: fault.retryAfterSeconds } }),
            code: fault.code,
          }),
        );
        return;
      }
      case 'html':
        res
          .writeHead(fault.code, { 'Content-Type': 'text/html' })
          .end(`<html><head><title>${fault.code}</title></head><body><h1>${fault.code}</h1></body></html>\n`);
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'drop':
        return;
      default:
        this.forward(req, res, body, fault);
    }
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    fault: Extract<Fault, { kind: 'delay' | 'lose-answer' | 'truncate' }> | undefined,
  ): void {
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    const upstream = request(
      new URL(req.url ?? '/', this.target),
      { method: req.method ?? 'GET', headers, agent: this.upstream },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const payload = Buffer.concat(chunks);
          const send = (): void => {
            if (fault?.kind === 'lose-answer') {
              req.socket.destroy();
              return;
            }
            const headersOut = { ...answer.headers };
            delete headersOut.connection;
            delete headersOut['transfer-encoding'];
            if (fault?.kind === 'truncate') {
              res.writeHead(answer.statusCode ?? 502, { ...headersOut, 'content-length': String(payload.length) });
              // Close only once the half body is flushed: a destroy in the same tick discards it, and the client would
              // see a reset with no answer instead of a body cut short.
              res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => req.socket.destroy());
              return;
            }
            res.writeHead(answer.statusCode ?? 502, { ...headersOut, 'content-length': String(payload.length) });
            res.end(payload);
          };
          if (fault?.kind === 'delay') {
            // Let go as soon as the client hangs up, so that no timer outlives the test.
            const timer = setTimeout(send, fault.ms);
            req.socket.once('close', () => clearTimeout(timer));
          } else {
            send();
          }
        });
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' }).end(`fault proxy: ${error.message}`);
    });
    upstream.end(body);
  }
}
