// A plain HTTPS client that speaks to the API server as the function's identity would (a bearer token), for tests
// that check answers at the wire (status, headers, the exact body) or act as the function outside it.
import { request } from 'node:https';

export interface WireAnswer {
  readonly status: number;
  readonly contentType: string;
  /** The body parsed as JSON, or its text when it is not JSON. */
  readonly body: unknown;
}

export interface WireRequest {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly accept?: string;
}

/** Sends one request to `endpoint` (trusting `caPem`, with bearer `token`) and reads the whole answer. */
export function wire(
  endpoint: string,
  caPem: string,
  token: string,
): (method: string, path: string, options?: WireRequest) => Promise<WireAnswer> {
  return (method, path, options = {}) =>
    new Promise((resolve, reject) => {
      const payload =
        options.body === undefined
          ? undefined
          : typeof options.body === 'string'
            ? options.body
            : JSON.stringify(options.body);
      const headers: Record<string, string> = { Authorization: `Bearer ${token}`, 'User-Agent': 'lambda-eks' };
      if (payload !== undefined) {
        headers['Content-Type'] = options.contentType ?? 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(payload));
      }
      if (options.accept !== undefined) headers['Accept'] = options.accept;
      const req = request(new URL(path, endpoint), { method, headers, ca: caPem, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: the text
          }
          resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', body });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
}
