// The receiver of the presigned S3 URL a CloudFormation custom resource request carries: it records each PUT (method,
// headers, body) and can fail the first ones, as S3 sometimes does. It answers as S3 answers a presigned PUT: 200 with
// an empty body, or 403 when the method is not PUT (the URL was presigned for PUT only).
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { KeyPair } from './pki.js';
import { recordSecrets } from './run-record.js';

export interface ReceivedAnswer {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly contentLength: string | undefined;
  readonly body: string;
  /** The HTTP status the receiver answered. */
  readonly status: number;
}

export class CfnReceiver {
  readonly received: ReceivedAnswer[] = [];
  private failures = 0;
  private readonly server: ReturnType<typeof createHttpServer> | ReturnType<typeof createHttpsServer>;
  private readonly scheme: 'http' | 'https';

  /** Plain http (the function accepts it only on loopback), or https with the given key pair. */
  constructor(tls?: KeyPair) {
    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const failing = this.failures > 0;
        if (failing) this.failures -= 1;
        const status = req.method !== 'PUT' ? 403 : failing ? 503 : 200;
        this.received.push({
          method: req.method ?? '',
          path: req.url ?? '',
          contentType: req.headers['content-type'],
          contentLength: req.headers['content-length'],
          body: Buffer.concat(chunks).toString('utf8'),
          status,
        });
        res.writeHead(status, { 'Content-Length': 0 });
        res.end();
      });
    };
    this.server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handle) : createHttpServer(handle);
    this.scheme = tls ? 'https' : 'http';
  }

  /** Listens on 127.0.0.1; returns a response URL shaped like CloudFormation's, with a signature-like query that the
   * run-wide secret scan looks for. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.urlFor('first');
  }

  /** A fresh response URL on this receiver, as each CloudFormation request carries its own. */
  urlFor(requestId: string): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the receiver is not listening');
    const signature = `${requestId}Sig${Math.random().toString(36).slice(2)}Signature0123456789abcdef`;
    recordSecrets(signature);
    return (
      `${this.scheme}://127.0.0.1:${address.port}/arn%3Aaws%3Acloudformation%3Aus-west-2%3A111122223333%3Astack/web/` +
      `${requestId}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261201T000000Z&X-Amz-SignedHeaders=host` +
      `&X-Amz-Expires=7200&X-Amz-Credential=AKIAEXAMPLE%2F20261201%2Fus-west-2%2Fs3%2Faws4_request` +
      `&X-Amz-Signature=${signature}`
    );
  }

  /** The next `count` PUTs are answered 503. */
  failNext(count: number): void {
    this.failures = count;
  }

  /** The answers received, parsed. */
  answers(): Record<string, unknown>[] {
    return this.received.filter((answer) => answer.status === 200).map((answer) => JSON.parse(answer.body));
  }

  reset(): void {
    this.received.length = 0;
    this.failures = 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
