// A TLS listener on 127.0.0.1 for the unit tests that only need to know whether the function sent anything at all:
// it counts TCP connections, TLS handshakes and requests, and answers every request 403 with a plain-text body. It is
// no imitation of an API server: nothing it answers is what kube-apiserver would say, and a 403 is final for the
// function, so an invocation that reaches it ends after one request instead of retrying. The bearer tokens it receives
// are recorded for the run's secret scan when it stops: an in-process invocation replaces process.env while it runs,
// and with it the LAMBDA_EKS_RUN_RECORD that recordSecrets writes to.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { KeyPair } from './pki.js';
import { recordSecrets } from './run-record.js';

/** A request as the listener saw it. */
export interface CountedRequest {
  readonly method: string;
  readonly path: string;
}

export class CountingTlsListener {
  /** TCP connections accepted, whether or not a TLS handshake followed. */
  connections = 0;
  /** TLS handshakes completed. */
  handshakes = 0;
  /** Every request, in order of arrival. */
  readonly requests: CountedRequest[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly tokens = new Set<string>();

  constructor(tls: KeyPair) {
    this.server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => this.answer(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('secureConnection', () => {
      this.handshakes += 1;
    });
  }

  /** Listens on an ephemeral port of 127.0.0.1; answers the https URL to give the function. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the counting listener is not listening');
    return `https://127.0.0.1:${address.port}`;
  }

  /** Records the tokens it received, closes every connection and stops listening. */
  async stop(): Promise<void> {
    recordSecrets(...this.tokens);
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/' });
    const authorization = req.headers.authorization;
    if (authorization?.startsWith('Bearer ')) this.tokens.add(authorization.slice('Bearer '.length));
    // The body is read to its end so that the connection stays usable for the next request.
    req.resume();
    req.on('end', () => {
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('counted, not served\n');
    });
  }
}
