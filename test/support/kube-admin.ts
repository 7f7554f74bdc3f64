// A cluster admin's HTTPS client for the local control plane (client certificate in group system:masters): the tests
// set the stage with it (namespaces, grants, quotas, policies, other field managers) and read what the function did.
// It speaks JSON to kube-apiserver's REST paths and nothing else: no client library stands between the tests and the
// server.
import { Agent, request } from 'node:https';

/** An answer: the HTTP status and the body, parsed when it is JSON. */
export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** A Kubernetes object as JSON. */
export type KubeObject = Record<string, unknown> & {
  readonly metadata?: Record<string, unknown> & {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
};

/** A REST path: the group version (`v1`, `apps/v1`), the resource (plural), and namespace and name if any. */
export function restPath(groupVersion: string, resource: string, namespace?: string, name?: string): string {
  const base = groupVersion.includes('/') ? `/apis/${groupVersion}` : `/api/${groupVersion}`;
  const scoped = namespace === undefined ? base : `${base}/namespaces/${encodeURIComponent(namespace)}`;
  return `${scoped}/${resource}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

export class KubeAdmin {
  private readonly agent: Agent;

  constructor(
    readonly endpoint: string,
    readonly caPem: string,
    credentials: { readonly cert: string; readonly key: string },
  ) {
    this.agent = new Agent({ keepAlive: true, ca: caPem, cert: credentials.cert, key: credentials.key });
  }

  /** Sends one request; never rejects for an HTTP status. */
  send(
    method: string,
    path: string,
    options: { body?: unknown; contentType?: string; timeoutMs?: number } = {},
  ): Promise<AdminAnswer> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (payload !== undefined) {
        headers['Content-Type'] = options.contentType ?? 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(payload));
      }
      const req = request(
        new URL(path, this.endpoint),
        { method, headers, agent: this.agent, timeout: options.timeoutMs ?? 10_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** GETs an object; undefined on 404. Throws on any other failure. */
  async get(path: string): Promise<KubeObject | undefined> {
    const answer = await this.send('GET', path);
    if (answer.status === 404) return undefined;
    return expectObject(answer, 'GET', path);
  }

  /** GETs a list's items. */
  async list(path: string, query: Record<string, string> = {}): Promise<KubeObject[]> {
    const search = new URLSearchParams(query).toString();
    const answer = await this.send('GET', search ? `${path}?${search}` : path);
    const items = expectObject(answer, 'GET', path)['items'];
    return Array.isArray(items) ? items.filter(isObject) : [];
  }

  /** POSTs an object to a collection. */
  async create(path: string, object: unknown): Promise<KubeObject> {
    return expectObject(await this.send('POST', path, { body: object }), 'POST', path);
  }

  /** Server-side applies an object at `path` as `fieldManager`, with force. */
  async apply(path: string, object: unknown, fieldManager = 'test-admin'): Promise<KubeObject> {
    const answer = await this.send('PATCH', `${path}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`, {
      body: object,
      contentType: 'application/apply-patch+yaml',
    });
    return expectObject(answer, 'PATCH', path);
  }

  /** Merge-patches an object (an Update operation of `fieldManager` in managedFields). */
  async mergePatch(path: string, patch: unknown, fieldManager = 'test-admin'): Promise<KubeObject> {
    const answer = await this.send('PATCH', `${path}?fieldManager=${encodeURIComponent(fieldManager)}`, {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
    return expectObject(answer, 'PATCH', path);
  }

  /** DELETEs an object; a 404 is fine. */
  async delete(path: string, options: Record<string, unknown> = {}): Promise<void> {
    const answer = await this.send('DELETE', path, { body: { kind: 'DeleteOptions', apiVersion: 'v1', ...options } });
    if (answer.status !== 404) expectObject(answer, 'DELETE', path);
  }

  /** Polls `path` until `done` says so (it gets undefined for a 404); returns the last object read. */
  async waitFor(
    path: string,
    done: (object: KubeObject | undefined) => boolean,
    what: string,
    timeoutMs = 30_000,
  ): Promise<KubeObject | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const object = await this.get(path);
      if (done(object)) return object;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs / 1000} s waiting for ${what} (${path}): ${JSON.stringify(object)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}

function isObject(value: unknown): value is KubeObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectObject(answer: AdminAnswer, method: string, path: string): KubeObject {
  if (answer.status < 200 || answer.status > 299 || !isObject(answer.body)) {
    throw new Error(`${method} ${path}: HTTP ${answer.status}: ${JSON.stringify(answer.body).slice(0, 500)}`);
  }
  return answer.body;
}
