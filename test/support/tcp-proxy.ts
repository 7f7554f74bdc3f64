// A TCP proxy on 127.0.0.1 between the function and an HTTPS server (the fault proxy in front of kube-apiserver, or
// another certificate's), playing the network in between: a NAT
// or load balancer that resets or silently drops connections left idle, or a cluster recreated behind the same
// address. TLS passes through untouched: the function still verifies the server it reaches.
import { connect, createServer, type Server, type Socket } from 'node:net';

/** What the proxy does to a connection that has carried nothing for `idleMs`:
 * - `keep`: nothing (a plain forwarder);
 * - `reset`: resets it when the client sends on it again (a server closing it as the request arrives);
 * - `drop`: forwards nothing more in either direction and tells no one (a NAT that forgot the flow). */
export type IdleBehaviour = 'keep' | 'reset' | 'drop';

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  lastActivity: number;
  dropped: boolean;
}

export class TcpProxy {
  /** Connections accepted so far. */
  connections = 0;
  private readonly links = new Set<Link>();
  private readonly server: Server;

  constructor(
    private targetPort: number,
    private readonly idle: { readonly behaviour: IdleBehaviour; readonly idleMs: number } = {
      behaviour: 'keep',
      idleMs: 0,
    },
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  /** Listens on an ephemeral port of 127.0.0.1; returns the https URL the function should use. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy is not listening');
    return `https://127.0.0.1:${address.port}`;
  }

  /** Sends new connections to another port and closes the open ones, as a recreated cluster would. */
  retarget(port: number): void {
    this.targetPort = port;
    for (const link of this.links) this.close(link);
  }

  /** Closes every connection and the listener. */
  async stop(): Promise<void> {
    for (const link of this.links) this.close(link);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.connections += 1;
    const upstream = connect(this.targetPort, '127.0.0.1');
    const link: Link = { client, upstream, lastActivity: Date.now(), dropped: false };
    this.links.add(link);
    client.on('data', (chunk: Buffer) => this.forward(link, chunk, upstream, true));
    upstream.on('data', (chunk: Buffer) => this.forward(link, chunk, client, false));
    for (const socket of [client, upstream]) {
      socket.on('error', () => this.close(link));
      socket.on('close', () => this.close(link));
    }
  }

  private forward(link: Link, chunk: Buffer, to: Socket, fromClient: boolean): void {
    const idleFor = Date.now() - link.lastActivity;
    if (!link.dropped && this.idle.behaviour !== 'keep' && idleFor > this.idle.idleMs) {
      if (this.idle.behaviour === 'reset' && fromClient) {
        link.client.resetAndDestroy();
        link.upstream.destroy();
        return;
      }
      link.dropped = this.idle.behaviour === 'drop';
    }
    if (link.dropped) {
      return;
    }
    link.lastActivity = Date.now();
    to.write(chunk);
  }

  private close(link: Link): void {
    link.client.destroy();
    link.upstream.destroy();
    this.links.delete(link);
  }
}
