// client-node's HttpLibrary on node:https, with one keep-alive connection pool per execution environment pinned to
// the cluster CA. Warm invocations reuse one TLS connection; a connection idle for longer than the API server (or a
// NAT in between) keeps it is not reused, and a request that fails on a reused socket is reported as such, so that
// the caller retries it at once on a new connection.
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { HttpLibrary, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { ResponseContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { from, type Observable } from '@kubernetes/client-node/dist/gen/rxjsStub.js';
import type { ClusterEndpoint } from '../config.js';
import { MANAGER, MAX_IDLE_CONNECTION_MS, MAX_RESPONSE_BYTES } from '../constants.js';
import { describeThrown } from '../errors.js';
import { warm, type PooledConnection } from '../state.js';

/** The code of a TransportError for an answer larger than MAX_RESPONSE_BYTES. */
export const RESPONSE_TOO_LARGE = 'ERR_RESPONSE_TOO_LARGE';

/** A network-level failure, with Node's error code, and whether it happened on a socket reused from the pool. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: string,
    message: string,
    readonly reusedSocket: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The pooled connection to a cluster, made when first needed. */
export function connectionTo(cluster: ClusterEndpoint): PooledConnection {
  const key = `${cluster.endpoint}\n${cluster.caPem}`;
  if (warm.connection?.key === key) {
    return warm.connection;
  }
  warm.connection?.agent.destroy();
  // `ca` replaces the default roots: only the cluster CA is trusted. Verification cannot be switched off.
  const agent = new Agent({ ca: cluster.caPem, keepAlive: true, rejectUnauthorized: true });
  warm.connection = { key, agent, lastUsedAt: Date.now() };
  return warm.connection;
}

/** Closes the pooled connection if it has been idle longer than MAX_IDLE_CONNECTION_MS at `now`. Called when an
 * invocation starts: timers do not run while Lambda freezes an environment, so only the clock can tell. */
export function dropIdleConnection(now: number): void {
  if (warm.connection !== undefined && now - warm.connection.lastUsedAt > MAX_IDLE_CONNECTION_MS) {
    dropConnection();
  }
}

/** Closes the pooled connection, so that the next request opens a new one. */
export function dropConnection(): void {
  warm.connection?.agent.destroy();
  delete warm.connection;
}

/** The HttpLibrary client-node's generated API sends through: our pool, our timeout, the whole body read (and
 * bounded) before the client sees it, so a truncated answer is a transport failure rather than half a document. */
export class NodeHttpsLibrary implements HttpLibrary {
  constructor(
    private readonly connection: PooledConnection,
    private readonly timeoutMs: number,
  ) {}

  send(request: RequestContext): Observable<ResponseContext> {
    return from(this.exchange(request));
  }

  /** Sends one request and reads the whole answer; rejects with a TransportError. */
  exchange(request: RequestContext): Promise<ResponseContext> {
    const body = request.getBody();
    if (body !== undefined && typeof body !== 'string') {
      return Promise.reject(new TransportError('ERR_BODY', 'only JSON string bodies are supported', false));
    }
    const headers: Record<string, string> = { ...request.getHeaders(), 'User-Agent': MANAGER };
    if (body !== undefined) {
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const { connection, timeoutMs } = this;
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        request.getUrl(),
        {
          method: request.getHttpMethod(),
          headers,
          agent: connection.agent,
          signal: AbortSignal.timeout(timeoutMs),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              const tooLarge = `response larger than ${MAX_RESPONSE_BYTES} bytes`;
              req.destroy(new TransportError(RESPONSE_TOO_LARGE, tooLarge, req.reusedSocket));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', (error: unknown) => {
            const { message } = describeThrown(error);
            fail(
              new TransportError(
                'ERR_INCOMPLETE_RESPONSE',
                `the connection broke during the response (${message})`,
                req.reusedSocket,
              ),
            );
          });
          res.on('end', () => {
            if (!res.complete) {
              fail(
                new TransportError(
                  'ERR_INCOMPLETE_RESPONSE',
                  'the connection closed before the response was complete',
                  req.reusedSocket,
                ),
              );
              return;
            }
            connection.lastUsedAt = Date.now();
            const data = Buffer.concat(chunks);
            resolve(
              new ResponseContext(res.statusCode ?? 0, flattenHeaders(res.headers), {
                text: () => Promise.resolve(data.toString('utf8')),
                binary: () => Promise.resolve(data),
                stream: () => null,
              }),
            );
          });
        },
      );
      const fail = (error: unknown): void => reject(toTransportError(error, timeoutMs, req.reusedSocket));
      req.on('error', fail);
      req.end(body);
    });
  }
}

function toTransportError(error: unknown, timeoutMs: number, reusedSocket: boolean): TransportError {
  if (error instanceof TransportError) {
    return error;
  }
  const { name, message, code } = describeThrown(error);
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new TransportError('ETIMEDOUT', `no complete answer within ${timeoutMs} ms`, reusedSocket, { cause: error });
  }
  return new TransportError(code ?? 'ERR_NETWORK', message, reusedSocket, { cause: error });
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) {
      flat[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return flat;
}
