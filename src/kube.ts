// The only module that talks to @kubernetes/client-node. It imports the generated client's parts directly rather
// than the package index, and supplies its own HTTP library through the client's `httpApi` extension point: one
// keep-alive TLS agent per execution environment, pinned to the cluster CA, with a per-request timeout. That keeps
// the kubeconfig loaders (exec, OIDC, Azure, GCP) and the bundled undici out of the Lambda bundle and makes N warm
// invocations cost one TLS handshake.
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
import type { Configuration } from '@kubernetes/client-node/dist/gen/configuration.js';
import type { HttpLibrary, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { ResponseContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import type { V1Deployment } from '@kubernetes/client-node/dist/gen/models/V1Deployment.js';
import { from, type Observable } from '@kubernetes/client-node/dist/gen/rxjsStub.js';
import { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
import { ObjectAppsV1Api } from '@kubernetes/client-node/dist/gen/types/ObjectParamAPI.js';
import type { ClusterEndpoint } from './config.js';
import { MANAGER, MAX_RESPONSE_BYTES } from './constants.js';
import { describeThrown } from './errors.js';
import { warm, type Closable } from './state.js';

export type { V1Deployment };

/** The parts of a Kubernetes `Status` body the function reports. */
export interface KubeStatus {
  readonly reason: string | undefined;
  readonly message: string | undefined;
}

/** How one create request ended: the cluster answered 2xx, answered with an error, or could not be reached. */
export type CreateOutcome =
  | { readonly kind: 'created'; readonly httpStatus: number; readonly uid: string | undefined }
  | {
      readonly kind: 'rejected';
      readonly httpStatus: number;
      readonly status: KubeStatus;
      /** From Retry-After, when the server sent one in seconds. */
      readonly retryAfterMs: number | undefined;
    }
  | { readonly kind: 'unreachable'; readonly code: string; readonly tlsTrust: boolean; readonly detail: string };

export interface CreateDeploymentCall {
  readonly cluster: ClusterEndpoint;
  readonly token: string;
  readonly namespace: string;
  readonly body: V1Deployment;
  readonly dryRun: boolean;
  readonly timeoutMs: number;
}

/** Error codes that mean the server's certificate is not trusted: retrying cannot help. */
const TLS_TRUST_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/** POSTs a Deployment (with `dryRun=All` when asked) and reports how it went; never throws for HTTP or network
 * failures, so the caller decides what to retry. */
export async function createDeployment(call: CreateDeploymentCall): Promise<CreateOutcome> {
  const api = new ObjectAppsV1Api(clientConfiguration(call));
  try {
    const created = await api.createNamespacedDeploymentWithHttpInfo({
      namespace: call.namespace,
      body: call.body,
      fieldManager: MANAGER,
      ...(call.dryRun ? { dryRun: 'All' } : {}),
    });
    return { kind: 'created', httpStatus: created.httpStatusCode, uid: created.data.metadata?.uid };
  } catch (error) {
    if (error instanceof ApiException) {
      return {
        kind: 'rejected',
        httpStatus: error.code,
        status: readStatus(error.body),
        retryAfterMs: retryAfterMs(headerValue(error.headers, 'retry-after')),
      };
    }
    if (error instanceof TransportError) {
      return {
        kind: 'unreachable',
        code: error.code,
        tlsTrust: TLS_TRUST_CODES.has(error.code),
        detail: error.message,
      };
    }
    // The client could not parse a 2xx answer: the server may have acted, so it is worth asking again.
    return { kind: 'unreachable', code: 'BAD_RESPONSE', tlsTrust: false, detail: describeThrown(error).message };
  }
}

function clientConfiguration(call: CreateDeploymentCall): Configuration {
  return {
    baseServer: new ServerConfiguration(call.cluster.endpoint, {}),
    httpApi: new NodeHttpsLibrary(pooledAgent(call.cluster), call.timeoutMs),
    middleware: [],
    authMethods: {
      default: {
        getName: () => 'EKS bearer token',
        applySecurityAuthentication: (context: RequestContext) => {
          context.setHeaderParam('Authorization', `Bearer ${call.token}`);
        },
      },
    },
  };
}

/** One keep-alive agent per endpoint and CA, kept for the life of the execution environment. */
function pooledAgent(cluster: ClusterEndpoint): Agent {
  const key = `${cluster.endpoint}\n${cluster.caPem}`;
  const pooled = warm.connection;
  if (pooled?.key === key && pooled.value instanceof PooledAgent) {
    return pooled.value.agent;
  }
  pooled?.value.close();
  const value = new PooledAgent(
    // `ca` replaces the default roots: only the cluster CA is trusted. Verification cannot be switched off.
    new Agent({ ca: cluster.caPem, keepAlive: true, rejectUnauthorized: true }),
  );
  warm.connection = { key, value };
  return value.agent;
}

class PooledAgent implements Closable {
  constructor(readonly agent: Agent) {}
  close(): void {
    this.agent.destroy();
  }
}

/** A network-level failure, with Node's error code. */
class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** client-node's HttpLibrary on node:https: our agent, our timeout, the whole body read (and bounded) before the
 * client sees it, so a truncated answer is a transport failure rather than half a JSON document. */
class NodeHttpsLibrary implements HttpLibrary {
  constructor(
    private readonly agent: Agent,
    private readonly timeoutMs: number,
  ) {}

  send(request: RequestContext): Observable<ResponseContext> {
    return from(this.exchange(request));
  }

  private exchange(request: RequestContext): Promise<ResponseContext> {
    const body = request.getBody();
    if (body !== undefined && typeof body !== 'string') {
      return Promise.reject(new TransportError('ERR_BODY', 'only JSON string bodies are supported'));
    }
    const headers: Record<string, string> = { ...request.getHeaders(), 'User-Agent': MANAGER };
    if (body !== undefined) {
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const timeoutMs = this.timeoutMs;
    return new Promise((resolve, reject) => {
      const fail = (error: unknown): void => reject(toTransportError(error, timeoutMs));
      const req = httpsRequest(
        request.getUrl(),
        { method: request.getHttpMethod(), headers, agent: this.agent, signal: AbortSignal.timeout(timeoutMs) },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(
                new TransportError('ERR_RESPONSE_TOO_LARGE', `response larger than ${MAX_RESPONSE_BYTES} bytes`),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', (error: unknown) => {
            const { message } = describeThrown(error);
            fail(
              new TransportError('ERR_INCOMPLETE_RESPONSE', `the connection broke during the response (${message})`),
            );
          });
          res.on('end', () => {
            if (!res.complete) {
              fail(
                new TransportError('ERR_INCOMPLETE_RESPONSE', 'the connection closed before the response was complete'),
              );
              return;
            }
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
      req.on('error', fail);
      req.end(body);
    });
  }
}

function toTransportError(error: unknown, timeoutMs: number): TransportError {
  if (error instanceof TransportError) {
    return error;
  }
  const { name, message, code } = describeThrown(error);
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new TransportError('ETIMEDOUT', `no complete answer within ${timeoutMs} ms`, { cause: error });
  }
  return new TransportError(code ?? 'ERR_NETWORK', message, { cause: error });
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

function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) {
    return undefined;
  }
  const value: unknown = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return typeof value === 'string' ? value : undefined;
}

/** Retry-After in seconds (Kubernetes never sends an HTTP date here). */
function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,6}$/.test(value.trim())) {
    return undefined;
  }
  return Number(value.trim()) * 1000;
}

/** The API server answers errors with a `Status` object; proxies in front of it may answer with anything. */
function readStatus(body: unknown): KubeStatus {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return { reason: undefined, message: body.slice(0, 300) || undefined };
    }
  }
  if (typeof parsed !== 'object' || parsed === null) {
    return { reason: undefined, message: undefined };
  }
  const reason: unknown = 'reason' in parsed ? parsed.reason : undefined;
  const message: unknown = 'message' in parsed ? parsed.message : undefined;
  return {
    reason: typeof reason === 'string' ? reason : undefined,
    message: typeof message === 'string' ? message : undefined,
  };
}
