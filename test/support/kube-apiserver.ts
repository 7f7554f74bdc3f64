// A stand-in for the Kubernetes API server of an EKS cluster, on 127.0.0.1 with real TLS. It implements only the one
// endpoint the function calls, but at the wire it behaves like the real one: EKS token authentication (401 Status),
// RBAC (403 Status in the real wording), namespace lifecycle (404), validation (422), AlreadyExists (409), dryRun=All,
// 201 with uid, resourceVersion and creationTimestamp. It can inject faults and counts TLS handshakes.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { KeyPair } from './pki.js';
import { verifyEksToken, type Partition } from './eks-token-verifier.js';
import { at } from './json.js';
import { recordSecrets } from './run-record.js';

export interface Identity {
  readonly secretAccessKey: string;
  /** The session token STS issued with the key, if any; a token minted without it (or with another) is rejected. */
  readonly sessionToken?: string;
  /** The Kubernetes user name the access entry (or aws-auth) maps the role to. */
  readonly username: string;
  readonly groups: readonly string[];
}

/** RBAC: the groups allowed to create apps/deployments, per namespace. */
export type DeploymentCreators = Readonly<Record<string, readonly string[]>>;

export type Fault =
  | { readonly kind: 'status'; readonly code: 429 | 500 | 502 | 503 | 504; readonly retryAfterSeconds?: number }
  | { readonly kind: 'reset' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'drop-after-create' }
  | { readonly kind: 'truncate' }
  | { readonly kind: 'non-json'; readonly code: number }
  | { readonly kind: 'unauthorized' };

export interface StandInOptions {
  readonly tls: KeyPair;
  readonly clusterName: string;
  readonly partition?: Partition;
  readonly identities: Readonly<Record<string, Identity>>;
  readonly namespaces: readonly string[];
  readonly creators: DeploymentCreators;
  /** Epoch ms; the token's age is judged against it. */
  readonly now?: () => number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  /** The HTTP status answered; 0 while (or if never) answered. */
  status: number;
  readonly authorization: string | undefined;
}

interface StoredObject {
  readonly metadata: Record<string, unknown>;
  readonly [key: string]: unknown;
}

const DEPLOYMENTS_PATH = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments$/;

export class KubeApiStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly deployments = new Map<string, StoredObject>();
  handshakes = 0;
  /** TLS handshakes that failed, e.g. because the client did not trust the certificate. */
  tlsFailures = 0;
  private readonly faults: Fault[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private resourceVersion = 1000;

  constructor(private readonly options: StandInOptions) {
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

  /** Closes the listener and every open connection. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Queues faults: each request takes the next one, until none are left. */
  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** Clears faults, stored objects, counters and the request log. */
  reset(): void {
    this.faults.length = 0;
    this.deployments.clear();
    this.requests.length = 0;
    this.handshakes = 0;
    this.tlsFailures = 0;
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
        sendStatus(
          res,
          429,
          'TooManyRequests',
          'Too many requests, please try again later.',
          retryAfter === undefined ? undefined : { retryAfterSeconds: retryAfter },
          retryAfter,
        );
      } else {
        const reasons: Record<number, string> = {
          500: 'InternalError',
          502: 'BadGateway',
          503: 'ServiceUnavailable',
          504: 'Timeout',
        };
        sendStatus(
          res,
          fault.code,
          reasons[fault.code] ?? 'InternalError',
          'the server is currently unable to handle the request',
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
      sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    const answer = this.answer(req, url, body);
    if (fault?.kind === 'drop-after-create') {
      record(0);
      req.socket.destroy();
      return;
    }
    record(answer.status);
    const payload = JSON.stringify(answer.body);
    if (fault?.kind === 'truncate') {
      res.writeHead(answer.status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(payload),
      });
      res.write(payload.slice(0, Math.floor(payload.length / 2)));
      setImmediate(() => req.socket.destroy());
      return;
    }
    res.writeHead(answer.status, { 'Content-Type': 'application/json', 'Audit-Id': randomUUID() });
    res.end(payload);
  }

  /** The API server's decision for one request, in the order the real one makes it. */
  private answer(req: IncomingMessage, url: URL, body: string): { status: number; body: unknown } {
    const identity = this.authenticate(req.headers.authorization);
    if (identity === undefined) {
      return statusBody(401, 'Unauthorized', 'Unauthorized');
    }
    const match = DEPLOYMENTS_PATH.exec(url.pathname);
    if (!match || req.method !== 'POST') {
      return statusBody(404, 'NotFound', 'the server could not find the requested resource');
    }
    const namespace = decodeURIComponent(match[1] ?? '');
    const allowed = this.options.creators[namespace] ?? [];
    if (!identity.groups.some((group) => allowed.includes(group))) {
      return statusBody(
        403,
        'Forbidden',
        `deployments.apps is forbidden: User "${identity.username}" cannot create resource "deployments" in API group "apps" in the namespace "${namespace}"`,
        { group: 'apps', kind: 'deployments' },
      );
    }
    if (!this.options.namespaces.includes(namespace)) {
      return statusBody(404, 'NotFound', `namespaces "${namespace}" not found`, {
        name: namespace,
        kind: 'namespaces',
      });
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return statusBody(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
      );
    }
    const dryRun = url.searchParams.getAll('dryRun');
    if (dryRun.some((value) => value !== 'All')) {
      return statusBody(400, 'BadRequest', `Invalid dryRun value: ${dryRun.join(',')}`);
    }
    let object: unknown;
    try {
      object = JSON.parse(body);
    } catch {
      return statusBody(400, 'BadRequest', 'the object provided is unrecognized (must be of type Deployment)');
    }
    if (at(object, 'kind') !== 'Deployment' || at(object, 'apiVersion') !== 'apps/v1') {
      return statusBody(400, 'BadRequest', 'the object provided is unrecognized (must be of type Deployment)');
    }
    const objectNamespace = at(object, 'metadata', 'namespace');
    if (objectNamespace !== undefined && objectNamespace !== namespace) {
      return statusBody(
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const rawName = at(object, 'metadata', 'name');
    const name = typeof rawName === 'string' ? rawName : '';
    const invalid = validateDeployment(object, name);
    if (invalid) {
      return statusBody(422, 'Invalid', `Deployment.apps "${name}" is invalid: ${invalid.field}: ${invalid.message}`, {
        name,
        group: 'apps',
        kind: 'Deployment',
        causes: [{ reason: invalid.reason, message: invalid.message, field: invalid.field }],
      });
    }
    const key = `${namespace}/${name}`;
    if (this.deployments.has(key)) {
      return statusBody(409, 'AlreadyExists', `deployments.apps "${name}" already exists`, {
        name,
        group: 'apps',
        kind: 'deployments',
      });
    }
    const stored: StoredObject = {
      ...stringMap(object),
      metadata: {
        ...stringMap(at(object, 'metadata')),
        namespace,
        uid: randomUUID(),
        generation: 1,
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        ...(dryRun.length > 0 ? {} : { resourceVersion: String((this.resourceVersion += 1)) }),
      },
      status: {},
    };
    if (dryRun.length === 0) {
      this.deployments.set(key, stored);
    }
    return { status: 201, body: stored };
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

function stringMap(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : {};
}

function validateDeployment(
  object: unknown,
  name: string,
): { field: string; message: string; reason: string } | undefined {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name) || name.length > 253) {
    return {
      field: 'metadata.name',
      reason: 'FieldValueInvalid',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
    };
  }
  const replicas = at(object, 'spec', 'replicas');
  if (typeof replicas === 'number' && replicas < 0) {
    return {
      field: 'spec.replicas',
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${replicas}: must be greater than or equal to 0`,
    };
  }
  const matchLabels = stringMap(at(object, 'spec', 'selector', 'matchLabels'));
  const labels = stringMap(at(object, 'spec', 'template', 'metadata', 'labels'));
  if (Object.keys(matchLabels).length === 0) {
    return { field: 'spec.selector', reason: 'FieldValueRequired', message: 'Required value' };
  }
  if (Object.entries(matchLabels).some(([key, value]) => labels[key] !== value)) {
    const shown = `map[string]string{${Object.entries(labels)
      .map(([k, v]) => `"${k}":"${String(v)}"`)
      .join(', ')}}`;
    return {
      field: 'spec.template.metadata.labels',
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${shown}: \`selector\` does not match template \`labels\``,
    };
  }
  const containers = at(object, 'spec', 'template', 'spec', 'containers');
  if (!Array.isArray(containers) || containers.length === 0) {
    return { field: 'spec.template.spec.containers', reason: 'FieldValueRequired', message: 'Required value' };
  }
  const index = containers.findIndex((container: unknown) => {
    const image = at(container, 'image');
    return typeof image !== 'string' || image.trim() === '';
  });
  if (index >= 0) {
    return {
      field: `spec.template.spec.containers[${index}].image`,
      reason: 'FieldValueRequired',
      message: 'Required value',
    };
  }
  return undefined;
}

function statusBody(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): { status: number; body: unknown } {
  return {
    status: code,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    },
  };
}

function sendStatus(
  res: ServerResponse,
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
  retryAfterSeconds?: number,
): void {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (retryAfterSeconds !== undefined) headers['Retry-After'] = String(retryAfterSeconds);
  res.writeHead(code, headers);
  res.end(JSON.stringify(statusBody(code, reason, message, details).body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
