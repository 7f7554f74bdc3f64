// The only module of the function that calls @kubernetes/client-node (npm run grants has its own, admin-discovery.ts). It imports the generated client's parts directly rather than
// the package index, and gives the client our HTTP library through its `httpApi` extension point (./http.ts). That
// keeps the kubeconfig loaders (exec, OIDC, Azure, GCP) and the bundled undici out of the Lambda bundle.
// Deployments and ReplicaSets go through the generated AppsV1Api. Pods are listed with the same request, serializer
// and exception types, but not through CoreV1Api: its generated request factory is one class of 1.5 MB whose unused
// methods a bundler cannot drop (measured: +576 KB minified for one list call).
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
import type { Configuration } from '@kubernetes/client-node/dist/gen/configuration.js';
import { HttpMethod, type RequestContext, type ResponseContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import type { V1DeleteOptions } from '@kubernetes/client-node/dist/gen/models/V1DeleteOptions.js';
import type { V1Deployment } from '@kubernetes/client-node/dist/gen/models/V1Deployment.js';
import type { V1Pod } from '@kubernetes/client-node/dist/gen/models/V1Pod.js';
import type { V1PodList } from '@kubernetes/client-node/dist/gen/models/V1PodList.js';
import type { V1ReplicaSet } from '@kubernetes/client-node/dist/gen/models/V1ReplicaSet.js';
import type { V1ReplicaSetList } from '@kubernetes/client-node/dist/gen/models/V1ReplicaSetList.js';
import type { V1Status } from '@kubernetes/client-node/dist/gen/models/V1Status.js';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import type { Middleware } from '@kubernetes/client-node/dist/gen/middleware.js';
import { of } from '@kubernetes/client-node/dist/gen/rxjsStub.js';
import { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
import { ObjectAppsV1Api } from '@kubernetes/client-node/dist/gen/types/ObjectParamAPI.js';
import type { ClusterEndpoint } from '../config.js';
import { MANAGER } from '../constants.js';
import { describeThrown } from '../errors.js';
import { connectionTo, NodeHttpsLibrary, TransportError } from './http.js';

export type { V1Deployment, V1Pod, V1PodList, V1ReplicaSet };

/** The parts of a Kubernetes `Status` body the function reads. */
export interface KubeStatus {
  readonly reason: string | undefined;
  readonly message: string | undefined;
  readonly causes: readonly { readonly reason?: string; readonly message?: string; readonly field?: string }[];
}

/** How one request ended: a 2xx answer that is what was asked for, a non-2xx answer, or no usable answer. */
export type Answer<T> =
  | { readonly kind: 'ok'; readonly httpStatus: number; readonly body: T }
  | {
      readonly kind: 'rejected';
      readonly httpStatus: number;
      readonly status: KubeStatus;
      /** From Retry-After, when the server sent one in seconds. */
      readonly retryAfterMs: number | undefined;
    }
  | {
      readonly kind: 'unreachable';
      readonly code: string;
      readonly tlsTrust: boolean;
      readonly detail: string;
      /** The request went out on a pooled socket that may have died while idle. */
      readonly reusedSocket: boolean;
    };

export type Rejected = Extract<Answer<unknown>, { kind: 'rejected' }>;
export type Unreachable = Extract<Answer<unknown>, { kind: 'unreachable' }>;

/** Where and as whom one request goes, and how long it may take. */
export interface KubeCall {
  readonly cluster: ClusterEndpoint;
  readonly token: string;
  readonly timeoutMs: number;
}

export interface DeploymentRef {
  readonly namespace: string;
  readonly name: string;
}

/** Error codes that mean the server's certificate is not trusted: retrying cannot help. */
const TLS_TRUST_CODES: ReadonlySet<string> = new Set([
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

/** The generated client sends a patch as application/json-patch+json; a server-side apply needs this content type,
 * set the way client-node's own setHeaderOptions sets it. */
const APPLY_CONTENT_TYPE: Middleware = {
  pre: (context: RequestContext) => {
    context.setHeaderParam('Content-Type', 'application/apply-patch+yaml');
    return of(context);
  },
  post: (response: ResponseContext) => of(response),
};

/** POSTs a Deployment (server-side dry run when asked). */
export function createDeployment(
  call: KubeCall,
  { namespace, body, dryRun }: { namespace: string; body: V1Deployment; dryRun: boolean },
): Promise<Answer<V1Deployment>> {
  const name = body.metadata?.name ?? '';
  return answer(
    () =>
      apps(call).createNamespacedDeploymentWithHttpInfo({
        namespace,
        body,
        fieldManager: MANAGER,
        ...dryRunParam(dryRun),
      }),
    (data) => isDeployment(data, name),
  );
}

/** GETs a Deployment. */
export function readDeployment(call: KubeCall, { namespace, name }: DeploymentRef): Promise<Answer<V1Deployment>> {
  return answer(
    () => apps(call).readNamespacedDeploymentWithHttpInfo({ namespace, name }),
    (data) => isDeployment(data, name),
  );
}

/** Server-side applies a Deployment as field manager lambda-eks: PATCH with Content-Type application/apply-patch+yaml
 * (a JSON document is YAML), taking conflicting fields over when `force`. */
export function applyDeployment(
  call: KubeCall,
  { namespace, body, dryRun, force }: { namespace: string; body: V1Deployment; dryRun: boolean; force: boolean },
): Promise<Answer<V1Deployment>> {
  const name = body.metadata?.name ?? '';
  return answer(
    () =>
      apps(call, [APPLY_CONTENT_TYPE]).patchNamespacedDeploymentWithHttpInfo({
        namespace,
        name,
        body,
        fieldManager: MANAGER,
        ...dryRunParam(dryRun),
        ...(force ? { force: true } : {}),
      }),
    (data) => isDeployment(data, name),
  );
}

/** DELETEs a Deployment, only if its uid is still `uid` (so a Deployment recreated since it was checked is not
 * touched), with the given propagation. */
export function deleteDeployment(
  call: KubeCall,
  {
    namespace,
    name,
    uid,
    dryRun,
    propagationPolicy,
  }: DeploymentRef & { uid: string; dryRun: boolean; propagationPolicy: 'Background' | 'Foreground' },
): Promise<Answer<V1Status>> {
  const body: V1DeleteOptions = { propagationPolicy, preconditions: { uid }, ...(dryRun ? { dryRun: ['All'] } : {}) };
  return answer(
    () => apps(call).deleteNamespacedDeploymentWithHttpInfo({ namespace, name, body, ...dryRunParam(dryRun) }),
    // The server answers a Status when the object is gone, and the object itself while finalizers hold it.
    (data) => data.kind === 'Status' || data.kind === 'Deployment',
  );
}

/** Lists the ReplicaSets matching a label selector. */
export function listReplicaSets(
  call: KubeCall,
  { namespace, labelSelector }: { namespace: string; labelSelector: string },
): Promise<Answer<V1ReplicaSetList>> {
  return answer(
    () => apps(call).listNamespacedReplicaSetWithHttpInfo({ namespace, labelSelector }),
    (data) => Array.isArray(data.items),
  );
}

/** Lists one page of the Pods matching a label selector: GET /api/v1/namespaces/{namespace}/pods with `limit` and
 * the `continue` token of the page before, read with client-node's models as CoreV1Api would. */
export function listPods(
  call: KubeCall,
  {
    namespace,
    labelSelector,
    limit,
    continueToken,
  }: { namespace: string; labelSelector: string; limit: number; continueToken: string | undefined },
): Promise<Answer<V1PodList>> {
  return answer(
    async () => {
      const query: Record<string, string> = { labelSelector, limit: String(limit) };
      if (continueToken !== undefined) query['continue'] = continueToken;
      const { httpStatusCode, text, contentType } = await exchange(call, {
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        query,
      });
      const data: V1PodList = ObjectSerializer.deserialize(ObjectSerializer.parse(text, contentType), 'V1PodList', '');
      return { httpStatusCode, data };
    },
    (data) => Array.isArray(data.items),
  );
}

/** A Deployment read as JSON (a set's member), as the client's model: what the rollout rules take. */
export function asDeployment(object: JsonObject): V1Deployment {
  const deployment: V1Deployment = ObjectSerializer.deserialize(object, 'V1Deployment', '');
  return deployment;
}

/** A request of any kind, with a JSON body sent as it is, for the objects of a set (any kind, exactly as written):
 * no client-node model stands between the user's object and the server. */
export interface RawRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** The path, each segment already encoded. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly contentType?: string;
}

/** Sends `request` and reads a JSON object answer. `isExpected` tells a real answer from a proxy's page. */
export function requestJson(
  call: KubeCall,
  request: RawRequest,
  isExpected: (data: JsonObject) => boolean,
): Promise<Answer<JsonObject>> {
  return answer(async () => {
    const { httpStatusCode, text } = await exchange(call, request);
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`HTTP ${httpStatusCode} with a body that is not a JSON object`);
    }
    return { httpStatusCode, data: { ...parsed } };
  }, isExpected);
}

/** A JSON object as the server sent it. */
export type JsonObject = Record<string, unknown>;

/** One request through the function's HTTP library; a non-2xx answer is thrown as client-node's ApiException, as the
 * generated clients do, so that `answer` reads every failure alike. */
async function exchange(
  call: KubeCall,
  { method, path, query = {}, body, contentType }: RawRequest,
): Promise<{ httpStatusCode: number; text: string; contentType: string }> {
  const config = configuration(call);
  const context = config.baseServer.makeRequestContext(path, HttpMethod[method]);
  for (const [key, value] of Object.entries(query)) context.setQueryParam(key, value);
  context.setHeaderParam('Accept', 'application/json, */*;q=0.8');
  if (body !== undefined) {
    context.setHeaderParam('Content-Type', contentType ?? 'application/json');
    context.setBody(JSON.stringify(body));
  }
  await config.authMethods.default?.applySecurityAuthentication(context);
  const response = await config.httpApi.send(context).toPromise();
  const text = await response.body.text();
  if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) {
    return {
      httpStatusCode: response.httpStatusCode,
      text,
      contentType: ObjectSerializer.normalizeMediaType(response.headers['content-type']) ?? 'application/json',
    };
  }
  if (response.httpStatusCode === 401) {
    throw new ApiException(401, 'Unauthorized', undefined, response.headers);
  }
  throw new ApiException(response.httpStatusCode, 'Unknown API Status Code!', text, response.headers);
}

function apps(call: KubeCall, middleware: Middleware[] = []): ObjectAppsV1Api {
  return new ObjectAppsV1Api(configuration(call, middleware));
}

function configuration(call: KubeCall, middleware: Middleware[] = []): Configuration {
  return {
    baseServer: new ServerConfiguration(call.cluster.endpoint, {}),
    httpApi: new NodeHttpsLibrary(connectionTo(call.cluster), call.timeoutMs),
    middleware,
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

function dryRunParam(dryRun: boolean): { dryRun?: string } {
  return dryRun ? { dryRun: 'All' } : {};
}

function isDeployment(data: V1Deployment, name: string): boolean {
  return data.kind === 'Deployment' && data.metadata?.name === name && typeof data.metadata.uid === 'string';
}

/** Runs one request and reports how it went; never throws for HTTP or network failures, so the caller decides what
 * to retry. A 2xx answer that is not what was asked for (a proxy's page, an empty object) is `unreachable`: the
 * server may have acted, so it is worth asking again. */
async function answer<T>(
  send: () => Promise<{ httpStatusCode: number; data: T }>,
  isExpected: (data: T) => boolean,
): Promise<Answer<T>> {
  try {
    const { httpStatusCode, data } = await send();
    if (!isExpected(data)) {
      return {
        kind: 'unreachable',
        code: 'BAD_RESPONSE',
        tlsTrust: false,
        detail: `HTTP ${httpStatusCode} with a body that is not the Kubernetes object asked for`,
        reusedSocket: false,
      };
    }
    return { kind: 'ok', httpStatus: httpStatusCode, body: data };
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
        reusedSocket: error.reusedSocket,
      };
    }
    // The client could not parse a 2xx answer (HTML from a proxy, say).
    return {
      kind: 'unreachable',
      code: 'BAD_RESPONSE',
      tlsTrust: false,
      detail: describeThrown(error).message,
      reusedSocket: false,
    };
  }
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

/** The API server answers errors with a `Status` object; proxies in front of it, and API Priority and Fairness's
 * 429, may answer with plain text. */
function readStatus(body: unknown): KubeStatus {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return { reason: undefined, message: body.slice(0, 300) || undefined, causes: [] };
    }
  }
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const field = (object: unknown, key: string): unknown =>
    typeof object === 'object' && object !== null ? Reflect.get(object, key) : undefined;
  const causes = field(field(parsed, 'details'), 'causes');
  return {
    reason: text(field(parsed, 'reason')),
    message: text(field(parsed, 'message')),
    causes: (Array.isArray(causes) ? causes : []).map((cause: unknown) => {
      const [reason, message, path] = [
        text(field(cause, 'reason')),
        text(field(cause, 'message')),
        text(field(cause, 'field')),
      ];
      return {
        ...(reason === undefined ? {} : { reason }),
        ...(message === undefined ? {} : { message }),
        ...(path === undefined ? {} : { field: path }),
      };
    }),
  };
}
