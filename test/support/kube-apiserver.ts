// A stand-in for the Kubernetes API server of an EKS cluster, on 127.0.0.1 with real TLS, that answers as
// kube-apiserver does at the wire: EKS token authentication (401), RBAC per verb, resource and namespace (403 in
// the real words), Deployments (create, get, list, watch, server-side apply with managedFields and conflicts, merge
// and JSON patch, delete with propagation policies), ReplicaSets and Pods (get, list, watch), Table printing, and
// the discovery and OpenAPI documents kubectl reads. Behind it, optionally, a simulated cluster (deployment and
// replicaset controllers, scheduler, kubelets, garbage collector) moves rollouts along on the stand-in's clock.
// It can inject faults (transport, HTTP, admission) and counts TLS handshakes.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { KeyPair } from './pki.js';
import { verifyEksToken, type Partition } from './eks-token-verifier.js';
import { recordSecrets } from './run-record.js';
import { Cluster } from './kube-apiserver/cluster.js';
import type { ClusterOptions } from './kube-apiserver/cluster-options.js';
import {
  API_GROUP_LIST,
  API_VERSIONS,
  APPS_V1_RESOURCES,
  CORE_V1_RESOURCES,
  OPENAPI_V3_INDEX,
  VERSION,
  openApiV3Document,
} from './kube-apiserver/discovery.js';
import {
  createDeployment,
  deleteDeployment,
  OPTIMISTIC_LOCK,
  patchDeployment,
  type ApiServer,
  type Operation,
  type WriteRequest,
} from './kube-apiserver/deployments-api.js';
import { stringAt, type JsonObject } from './kube-apiserver/json.js';
import { parseListQuery, matchesQuery } from './kube-apiserver/query.js';
import { forbiddenReason, Rbac, type Attributes, type RbacRule, type Verb } from './kube-apiserver/rbac.js';
import type { Resource } from './kube-apiserver/schema.js';
import {
  badRequest,
  conflict,
  DEPLOYMENTS,
  failure,
  forbidden,
  notFound,
  PODS,
  REPLICASETS,
  success,
  type Answer,
  type GroupResource,
} from './kube-apiserver/status.js';
import { KIND, ObjectStore, withTypeMeta, type StoredObject } from './kube-apiserver/store.js';
import { table } from './kube-apiserver/tables.js';
import { Watches } from './kube-apiserver/watch.js';

export type { ClusterOptions, ImageBehaviour } from './kube-apiserver/cluster-options.js';
export type { RbacRule, Verb } from './kube-apiserver/rbac.js';
export type { StoredObject } from './kube-apiserver/store.js';
export type { Json, JsonObject } from './kube-apiserver/json.js';
export type { Answer } from './kube-apiserver/status.js';

export interface Identity {
  readonly secretAccessKey: string;
  /** The session token STS issued with the key, if any; a token minted without it (or with another) is rejected. */
  readonly sessionToken?: string;
  /** The Kubernetes user name the access entry (or aws-auth) maps the role to. */
  readonly username: string;
  readonly groups: readonly string[];
}

/** Faults below the API (the request never gets a proper answer) or at its front door. Each request takes the next
 * one, whatever it asks. */
export type TransportFault =
  | { readonly kind: 'status'; readonly code: 429 | 500 | 502 | 503 | 504; readonly retryAfterSeconds?: number }
  | { readonly kind: 'reset' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'drop-after-create' }
  | { readonly kind: 'truncate' }
  | { readonly kind: 'non-json'; readonly code: number }
  | { readonly kind: 'unauthorized' };

/** Faults at admission: each is taken by the next write it applies to (quota and namespace faults by a create,
 * webhook denials by any write), when that write reaches the admission step. */
export type AdmissionFault =
  /** ResourceQuota: `exceeded quota: <quota>, requested: count/deployments.apps=1, used: ..., limited: ...`. */
  | { readonly kind: 'quota-exceeded'; readonly quota?: string; readonly used?: number; readonly limit?: number }
  /** NamespaceLifecycle: `unable to create new content in namespace <ns> because it is being terminated`. */
  | { readonly kind: 'namespace-terminating' }
  /** A validating webhook: `admission webhook "<webhook>" denied the request: <message>`. */
  | {
      readonly kind: 'webhook-denied';
      readonly webhook: string;
      readonly message: string;
      /** The code the webhook answered with (default 403); below 400 the server makes it 400. */
      readonly code?: number;
      /** The reason the webhook gave (default Forbidden); empty for none. */
      readonly reason?: string;
    }
  /** The quota's own optimistic lock: `Operation cannot be fulfilled on resourcequotas "<quota>": ...`. */
  | { readonly kind: 'quota-conflict'; readonly quota?: string };

export type Fault = TransportFault | AdmissionFault;

export interface ResourceQuota {
  readonly name: string;
  /** Limits by resource name; the stand-in counts `count/deployments.apps`. */
  readonly hard: Readonly<Record<string, number>>;
}

export interface StandInOptions {
  readonly tls: KeyPair;
  readonly clusterName: string;
  readonly partition?: Partition;
  readonly identities: Readonly<Record<string, Identity>>;
  /** The namespaces that exist (Active). */
  readonly namespaces: readonly string[];
  /** RBAC: the rules (role bindings) in force at the start. Default: none. */
  readonly rbac?: readonly RbacRule[];
  /** Epoch ms; the token's age, timestamps and the simulated cluster follow it. Default Date.now. */
  readonly now?: () => number;
  /** The simulated cluster behind the API, with its knobs; `false` (the default) for an API server alone, whose
   * Deployments never roll out (as envtest runs kube-apiserver without controllers). */
  readonly cluster?: ClusterOptions | false;
  /** ResourceQuotas by namespace. */
  readonly quotas?: Readonly<Record<string, readonly ResourceQuota[]>>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  /** The HTTP status answered; 0 while (or if never) answered. */
  status: number;
  readonly authorization: string | undefined;
}

export interface ApplyOptions {
  readonly force?: boolean;
  readonly dryRun?: boolean;
}

interface Caller {
  readonly user: string;
  readonly groups: readonly string[];
}

/** system:masters, as the cluster creator's access entry maps: what tests act as when they act "as another client". */
const ADMIN: Caller = { user: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };

interface ResourceRoute {
  readonly resource: Resource;
  readonly gr: GroupResource;
  /** Undefined for a request across namespaces. */
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
}

const RESOURCES: Readonly<Record<string, { resource: Resource; gr: GroupResource; prefix: string }>> = {
  'apps/deployments': { resource: 'deployments', gr: DEPLOYMENTS, prefix: '/apis/apps/v1' },
  'apps/replicasets': { resource: 'replicasets', gr: REPLICASETS, prefix: '/apis/apps/v1' },
  '/pods': { resource: 'pods', gr: PODS, prefix: '/api/v1' },
};

const NOT_FOUND_TEXT: Answer = { status: 404, body: '404 page not found\n' };

export class KubeApiStandIn {
  readonly requests: RecordedRequest[] = [];
  handshakes = 0;
  /** TLS handshakes that failed, e.g. because the client did not trust the certificate. */
  tlsFailures = 0;
  /** RBAC rules; change them at run time with grant() and revoke(). */
  readonly rbac: Rbac;
  /** The simulated cluster: its knobs (configure), its clock (advance). */
  readonly cluster: Cluster;
  private readonly store = new ObjectStore();
  private readonly watches: Watches;
  private readonly faults: TransportFault[] = [];
  private readonly admissionFaults: AdmissionFault[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private readonly namespacePhases = new Map<string, 'Active' | 'Terminating'>();
  private quotas = new Map<string, readonly ResourceQuota[]>();

  constructor(private readonly options: StandInOptions) {
    this.rbac = new Rbac(options.rbac ?? []);
    const clock = options.now ?? Date.now;
    this.cluster = new Cluster(this.store, clock, options.cluster ?? false, () => this.watches.arm());
    this.watches = new Watches(this.store, this.cluster, clock);
    this.resetState();
    this.server = createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
    this.server.on('secureConnection', () => {
      this.handshakes += 1;
    });
    this.server.on('tlsClientError', () => {
      this.tlsFailures += 1;
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** The Deployments as stored, by `namespace/name` (read after advance() to see the cluster's latest moves). */
  get deployments(): Map<string, StoredObject> {
    return this.store.map('deployments');
  }

  /** Listens on an ephemeral port of 127.0.0.1; returns the https URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') {
      throw new Error('the stand-in is not listening');
    }
    return `https://127.0.0.1:${address.port}`;
  }

  /** Ends every watch, closes the listener and every open connection, and stops the cluster. */
  async stop(): Promise<void> {
    this.watches.close();
    this.cluster.close();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Queues faults: transport faults are taken by the next requests, one each; admission faults by the next
   * writes they apply to. */
  inject(...faults: Fault[]): void {
    for (const fault of faults) {
      if (isAdmissionFault(fault)) this.admissionFaults.push(fault);
      else this.faults.push(fault);
    }
  }

  /** Clears faults, stored objects, the cluster's pending work, counters and the request log, and puts RBAC,
   * namespaces and quotas back as the options set them. */
  reset(): void {
    this.faults.length = 0;
    this.admissionFaults.length = 0;
    this.watches.closeAll();
    this.store.clear();
    this.watches.clearLog();
    this.cluster.reset();
    this.requests.length = 0;
    this.handshakes = 0;
    this.tlsFailures = 0;
    this.resetState();
  }

  private resetState(): void {
    this.rbac.reset(this.options.rbac ?? []);
    this.cluster.run(this.options.cluster ?? false);
    this.namespacePhases.clear();
    for (const namespace of this.options.namespaces) this.namespacePhases.set(namespace, 'Active');
    this.quotas = new Map(Object.entries(this.options.quotas ?? {}));
  }

  /** Grants `verbs` on a resource to a group (a RoleBinding in `namespace`, or a ClusterRoleBinding for `*`). */
  grant(namespace: string, apiGroup: string, resource: string, verbs: readonly Verb[] | '*', group: string): void {
    this.rbac.grant(rule(namespace, apiGroup, resource, verbs, group));
  }

  /** Takes `verbs` on a resource away from a group, in `namespace` (or, for `*`, cluster-wide). */
  revoke(namespace: string, apiGroup: string, resource: string, verbs: readonly Verb[] | '*', group: string): void {
    this.rbac.revoke(rule(namespace, apiGroup, resource, verbs, group));
  }

  /** Runs the simulated cluster up to the clock's now (every request does this first). */
  advance(): void {
    this.cluster.advance();
  }

  /** A Deployment as stored, after advance(). */
  deployment(namespace: string, name: string): StoredObject | undefined {
    this.advance();
    return this.store.get('deployments', namespace, name);
  }

  /** The ReplicaSets of a namespace (or all), after advance(). */
  replicaSets(namespace?: string): StoredObject[] {
    this.advance();
    return this.store.list('replicasets', namespace);
  }

  /** The Pods of a namespace (or all), after advance(). */
  pods(namespace?: string): StoredObject[] {
    this.advance();
    return this.store.list('pods', namespace);
  }

  /** Creates a namespace (Active), or makes a terminating one Active again. */
  addNamespace(namespace: string): void {
    this.namespacePhases.set(namespace, 'Active');
  }

  /** Marks a namespace Terminating, as `kubectl delete namespace` does until its content is gone: creates fail. */
  terminateNamespace(namespace: string): void {
    this.namespacePhases.set(namespace, 'Terminating');
  }

  /** Sets (or, with none, removes) the ResourceQuotas of a namespace. */
  setQuotas(namespace: string, ...quotas: ResourceQuota[]): void {
    this.quotas.set(namespace, quotas);
  }

  /** Server-side apply of `object` (a Deployment) by another field manager, as `kubectl apply --server-side
   * --field-manager <manager>` would, with the rights of a cluster admin. Returns the server's answer. */
  applyAs(fieldManager: string, object: JsonObject, { force = false, dryRun = false }: ApplyOptions = {}): Answer {
    this.advance();
    const params = new URLSearchParams({ fieldManager });
    if (force) params.set('force', 'true');
    if (dryRun) params.set('dryRun', 'All');
    return patchDeployment(this.api(ADMIN), {
      namespace: stringAt(object, 'metadata', 'namespace') ?? 'default',
      name: stringAt(object, 'metadata', 'name') ?? '',
      params,
      contentType: 'application/apply-patch+yaml',
      userAgent: `${fieldManager}/v1.32.4`,
      body: JSON.stringify(object),
    });
  }

  /** A JSON merge patch of a Deployment by another field manager (an Update, as `kubectl edit` or `kubectl
   * scale` makes). Returns the server's answer. */
  patchAs(fieldManager: string, namespace: string, name: string, patch: JsonObject): Answer {
    this.advance();
    return patchDeployment(this.api(ADMIN), {
      namespace,
      name,
      params: new URLSearchParams({ fieldManager }),
      contentType: 'application/merge-patch+json',
      userAgent: `${fieldManager}/v1.32.4`,
      body: JSON.stringify(patch),
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    // Recorded on arrival, so a request whose answer is held back counts even if the client gives up first.
    const entry: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.search,
      status: 0,
      authorization: req.headers.authorization,
    };
    this.requests.push(entry);
    const record = (status: number): void => {
      entry.status = status;
    };
    const fault = this.faults.shift();
    if (fault?.kind === 'reset') {
      record(0);
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') {
      // Holds the answer back, but lets go as soon as the client hangs up, so no timer outlives the test.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, fault.ms);
        req.socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (req.socket.destroyed) {
        record(0);
        return;
      }
    }
    if (fault?.kind === 'status') {
      record(fault.code);
      const retryAfter = fault.retryAfterSeconds;
      if (fault.code === 429) {
        send(
          res,
          failure(
            429,
            'TooManyRequests',
            'Too many requests, please try again later.',
            retryAfter === undefined ? undefined : { retryAfterSeconds: retryAfter },
          ),
          retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) },
        );
      } else {
        const reasons: Record<number, string> = {
          500: 'InternalError',
          502: 'BadGateway',
          503: 'ServiceUnavailable',
          504: 'Timeout',
        };
        send(
          res,
          failure(
            fault.code,
            reasons[fault.code] ?? 'InternalError',
            'the server is currently unable to handle the request',
          ),
        );
      }
      return;
    }
    if (fault?.kind === 'non-json') {
      record(fault.code);
      res.writeHead(fault.code, { 'Content-Type': 'text/html' });
      res.end('<html><body><h1>Bad gateway</h1></body></html>');
      return;
    }
    if (fault?.kind === 'unauthorized') {
      record(401);
      send(res, failure(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    this.cluster.advance();
    const answer = this.answer(req, url, body, res);
    if (answer === 'watching') {
      record(200);
      return;
    }
    if (fault?.kind === 'drop-after-create') {
      record(0);
      req.socket.destroy();
      return;
    }
    record(answer.status);
    if (fault?.kind === 'truncate') {
      const payload = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(payload),
      });
      res.write(payload.slice(0, Math.floor(payload.length / 2)));
      setImmediate(() => req.socket.destroy());
      return;
    }
    send(res, answer);
  }

  /** The API server's decision for one request, in the order the real one makes it. */
  private answer(req: IncomingMessage, url: URL, body: string, res: ServerResponse): Answer | 'watching' {
    const identity = this.authenticate(req.headers.authorization);
    if (identity === undefined) return failure(401, 'Unauthorized', 'Unauthorized');
    const caller: Caller = { user: identity.username, groups: [...identity.groups, 'system:authenticated'] };
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const nonResource = this.nonResource(path, method);
    if (nonResource !== undefined) return nonResource;
    const route = parseRoute(path);
    if (route === undefined) return NOT_FOUND_TEXT;
    const params = url.searchParams;
    const watch = params.get('watch') === 'true' || params.get('watch') === '1';
    const verb = verbFor(method, route, watch);
    if (verb === undefined || route.subresource !== undefined || !this.serves(route.resource, verb)) {
      return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    }
    const attributes: Attributes = {
      user: caller.user,
      groups: caller.groups,
      verb,
      apiGroup: route.gr.group,
      resource: route.resource,
      namespace: route.namespace ?? '',
    };
    if (!this.rbac.allows(attributes)) return forbidden(route.gr, route.name ?? '', forbiddenReason(attributes));
    const accept = req.headers.accept ?? '';
    switch (verb) {
      case 'get':
        return this.get(route, accept, params);
      case 'list':
      case 'watch':
        return this.list(route, accept, params, verb === 'watch' ? res : undefined);
      default: {
        const request: WriteRequest = {
          namespace: route.namespace ?? '',
          name: route.name ?? '',
          params,
          contentType: req.headers['content-type'] ?? '',
          userAgent: req.headers['user-agent'] ?? '',
          body,
        };
        const api = this.api(caller);
        if (verb === 'create') return createDeployment(api, request);
        if (verb === 'patch') return patchDeployment(api, request);
        return deleteDeployment(api, request);
      }
    }
  }

  private serves(resource: Resource, verb: Verb): boolean {
    if (resource === 'deployments') return ['create', 'get', 'list', 'watch', 'patch', 'delete'].includes(verb);
    return ['get', 'list', 'watch'].includes(verb);
  }

  /** Discovery, version and OpenAPI (allowed to every authenticated user by system:discovery). */
  private nonResource(path: string, method: string): Answer | undefined {
    const documents: Readonly<Record<string, JsonObject>> = {
      '/api': API_VERSIONS,
      '/apis': API_GROUP_LIST,
      '/api/v1': CORE_V1_RESOURCES,
      '/apis/apps/v1': APPS_V1_RESOURCES,
      '/version': VERSION,
      '/openapi/v3': OPENAPI_V3_INDEX,
    };
    const document =
      documents[path] ??
      (path.startsWith('/openapi/v3/') ? openApiV3Document(path.slice('/openapi/v3/'.length)) : undefined);
    if (document === undefined) return path.startsWith('/openapi/') ? NOT_FOUND_TEXT : undefined;
    if (method !== 'GET')
      return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    return success(document);
  }

  private get(route: ResourceRoute, accept: string, params: URLSearchParams): Answer {
    const object = this.store.get(route.resource, route.namespace ?? '', route.name ?? '');
    if (object === undefined) return notFound(route.gr, route.name ?? '');
    if (wantsTable(accept)) {
      return success(
        table(
          route.resource,
          [object],
          this.store.resourceVersion,
          this.cluster.now(),
          params.get('includeObject') ?? 'Metadata',
        ),
      );
    }
    return success(withTypeMeta(route.resource, object));
  }

  private list(
    route: ResourceRoute,
    accept: string,
    params: URLSearchParams,
    watchTo: ServerResponse | undefined,
  ): Answer | 'watching' {
    let query;
    try {
      query = parseListQuery(route.resource, route.namespace, params);
    } catch (error) {
      return badRequest(error instanceof Error ? error.message : String(error));
    }
    if (watchTo !== undefined) {
      this.watches.start(
        watchTo,
        route.resource,
        query,
        params.get('resourceVersion'),
        Number(params.get('timeoutSeconds') ?? '60'),
      );
      return 'watching';
    }
    let items = this.store.list(route.resource, route.namespace).filter((object) => matchesQuery(object, query));
    const metadata: JsonObject = { resourceVersion: this.store.resourceVersion };
    const offset = Number(Buffer.from(params.get('continue') ?? '', 'base64url').toString() || '0');
    const limit = Number(params.get('limit') ?? '0');
    items = items.slice(Number.isInteger(offset) && offset > 0 ? offset : 0);
    if (Number.isInteger(limit) && limit > 0 && items.length > limit) {
      metadata['continue'] = Buffer.from(String(offset + limit)).toString('base64url');
      metadata['remainingItemCount'] = items.length - limit;
      items = items.slice(0, limit);
    }
    if (wantsTable(accept)) {
      return success(
        table(
          route.resource,
          items,
          this.store.resourceVersion,
          this.cluster.now(),
          params.get('includeObject') ?? 'Metadata',
        ),
      );
    }
    const { kind, apiVersion } = KIND[route.resource];
    return success({
      kind: `${kind}List`,
      apiVersion,
      metadata,
      items: items.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest),
    });
  }

  /** The handlers' view of the server for one caller. */
  private api(caller: Caller): ApiServer {
    return {
      store: this.store,
      now: () => this.cluster.now(),
      namespaceLifecycle: (operation, namespace, name) => this.namespaceLifecycle(operation, namespace, name),
      validatingAdmission: (operation, namespace, name) => this.validatingAdmission(operation, namespace, name),
      mayCreate: (namespace) =>
        this.rbac.allows({
          user: caller.user,
          groups: caller.groups,
          verb: 'create',
          apiGroup: 'apps',
          resource: 'deployments',
          namespace,
        }),
    };
  }

  private takeAdmissionFault(applies: (fault: AdmissionFault) => boolean): AdmissionFault | undefined {
    const index = this.admissionFaults.findIndex(applies);
    if (index < 0) return undefined;
    const [fault] = this.admissionFaults.splice(index, 1);
    return fault;
  }

  /** NamespaceLifecycle (apiserver pkg/admission/plugin/namespace/lifecycle/admission.go). */
  private namespaceLifecycle(operation: Operation, namespace: string, name: string): Answer | undefined {
    if (operation === 'DELETE') return undefined;
    const terminatingFault =
      operation === 'CREATE' && this.takeAdmissionFault((f) => f.kind === 'namespace-terminating') !== undefined;
    const phase = this.namespacePhases.get(namespace);
    if (phase === undefined && !terminatingFault) {
      return failure(404, 'NotFound', `namespaces ${JSON.stringify(namespace)} not found`, {
        name: namespace,
        kind: 'namespaces',
      });
    }
    if (operation === 'CREATE' && (terminatingFault || phase === 'Terminating')) {
      return forbidden(
        DEPLOYMENTS,
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
        {
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: `namespace ${namespace} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      );
    }
    return undefined;
  }

  /** ValidatingAdmissionWebhook, then ResourceQuota (plugin/pkg/admission/resourcequota/controller.go). */
  private validatingAdmission(operation: Operation, namespace: string, name: string): Answer | undefined {
    const webhook = this.takeAdmissionFault((f) => f.kind === 'webhook-denied');
    if (webhook?.kind === 'webhook-denied') {
      // ToStatusErr (admission/plugin/webhook/errors/statuserror.go): the webhook's code (at least 400) and reason.
      const code = Math.max(400, webhook.code ?? 403);
      return failure(
        code,
        webhook.reason ?? 'Forbidden',
        `admission webhook ${JSON.stringify(webhook.webhook)} denied the request: ${webhook.message}`,
      );
    }
    if (operation !== 'CREATE') return undefined;
    const conflictFault = this.takeAdmissionFault((f) => f.kind === 'quota-conflict');
    if (conflictFault?.kind === 'quota-conflict') {
      return conflict(
        { group: '', resource: 'resourcequotas' },
        conflictFault.quota ?? 'object-counts',
        OPTIMISTIC_LOCK,
      );
    }
    const used = this.store.list('deployments', namespace).length;
    const exceeded = this.takeAdmissionFault((f) => f.kind === 'quota-exceeded');
    if (exceeded?.kind === 'quota-exceeded') {
      const limit = exceeded.limit ?? Math.max(1, used);
      return this.quotaExceeded(name, exceeded.quota ?? 'object-counts', exceeded.used ?? limit, limit);
    }
    for (const quota of this.quotas.get(namespace) ?? []) {
      const limit = quota.hard['count/deployments.apps'];
      if (limit !== undefined && used + 1 > limit) return this.quotaExceeded(name, quota.name, used, limit);
    }
    return undefined;
  }

  private quotaExceeded(name: string, quota: string, used: number, limit: number): Answer {
    const resource = 'count/deployments.apps';
    return forbidden(
      DEPLOYMENTS,
      name,
      `exceeded quota: ${quota}, requested: ${resource}=1, used: ${resource}=${used}, limited: ${resource}=${limit}`,
    );
  }

  private authenticate(header: string | undefined): Identity | undefined {
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    if (token === undefined) {
      return undefined;
    }
    recordSecrets(token);
    const verdict = verifyEksToken(token, {
      clusterName: this.options.clusterName,
      partition: this.options.partition ?? 'aws',
      now: this.options.now?.() ?? Date.now(),
      secretFor: (accessKeyId) => this.options.identities[accessKeyId]?.secretAccessKey,
    });
    if (!verdict.ok) {
      return undefined;
    }
    const identity = this.options.identities[verdict.accessKeyId];
    return identity && identity.sessionToken === verdict.sessionToken ? identity : undefined;
  }
}

function isAdmissionFault(fault: Fault): fault is AdmissionFault {
  return ['quota-exceeded', 'namespace-terminating', 'webhook-denied', 'quota-conflict'].includes(fault.kind);
}

function rule(
  namespace: string,
  apiGroup: string,
  resource: string,
  verbs: readonly Verb[] | '*',
  group: string,
): RbacRule {
  return {
    subject: { kind: 'Group', name: group },
    ...(namespace === '*' ? {} : { namespace }),
    apiGroup,
    resource,
    verbs,
  };
}

/** /apis/apps/v1[/namespaces/{ns}]/{deployments|replicasets}[/{name}[/{sub}]], /api/v1[/namespaces/{ns}]/pods[...]. */
function parseRoute(path: string): ResourceRoute | undefined {
  const match = /^\/(?:apis\/(apps)\/v1|api\/v1)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(
    path,
  );
  if (match === null) return undefined;
  const [, group, namespace, resource, name, subresource] = match;
  const known = RESOURCES[`${group ?? ''}/${resource ?? ''}`];
  if (known === undefined) return undefined;
  if (namespace === undefined && name !== undefined) return undefined;
  return {
    resource: known.resource,
    gr: known.gr,
    namespace: namespace === undefined ? undefined : decodeURIComponent(namespace),
    name: name === undefined ? undefined : decodeURIComponent(name),
    subresource,
  };
}

function verbFor(method: string, route: ResourceRoute, watch: boolean): Verb | undefined {
  const collection = route.name === undefined;
  switch (method) {
    case 'GET':
      return collection ? (watch ? 'watch' : 'list') : 'get';
    case 'POST':
      return collection && route.namespace !== undefined ? 'create' : undefined;
    case 'PATCH':
      return collection ? undefined : 'patch';
    case 'PUT':
      return collection ? undefined : 'update';
    case 'DELETE':
      return collection ? 'deletecollection' : 'delete';
    default:
      return undefined;
  }
}

function wantsTable(accept: string): boolean {
  return accept.split(',').some((part) => /(^|;)\s*as=Table/.test(part));
}

function send(res: ServerResponse, answer: Answer, extraHeaders: Readonly<Record<string, string>> = {}): void {
  const text = typeof answer.body === 'string';
  const payload = text ? answer.body : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'Content-Type': text ? 'text/plain; charset=utf-8' : 'application/json',
    'Audit-Id': randomUUID(),
    'Cache-Control': 'no-cache, private',
    ...answer.headers,
    ...extraHeaders,
  });
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
