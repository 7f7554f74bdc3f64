// Watches (`?watch=true`): a chunked stream of {"type","object"} lines, from a resourceVersion or, without one,
// starting with an ADDED event per existing object (apiserver pkg/endpoints/handlers/watch.go, storage/cacher).
// Every stream ends at its timeout (at most MAX_WATCH_SECONDS here), when the client goes, or at stop(); while one
// is open, a timer runs the simulated cluster when its next event is due, so the stream sees it happen.
import type { ServerResponse } from 'node:http';
import type { Cluster } from './cluster.js';
import type { JsonObject } from './json.js';
import { matchesQuery, type ListQuery } from './query.js';
import type { Resource } from './schema.js';
import { withTypeMeta, type ObjectStore, type StoreEvent, type StoredObject, type WatchEventType } from './store.js';

const MAX_WATCH_SECONDS = 60;
const LOG_SIZE = 5000;
const MIN_TIMER_MS = 5;
const MAX_TIMER_MS = 1000;

interface LoggedEvent {
  readonly revision: number;
  readonly type: WatchEventType;
  readonly resource: Resource;
  readonly object: StoredObject;
}

interface Stream {
  readonly resource: Resource;
  readonly query: ListQuery;
  readonly res: ServerResponse;
  readonly timeout: NodeJS.Timeout;
}

export class Watches {
  private readonly log: LoggedEvent[] = [];
  private readonly streams = new Set<Stream>();
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ObjectStore,
    private readonly cluster: Cluster,
    private readonly clock: () => number,
  ) {
    this.unsubscribe = store.subscribe((event) => this.record(event));
  }

  get open(): number {
    return this.streams.size;
  }

  start(
    res: ServerResponse,
    resource: Resource,
    query: ListQuery,
    resourceVersion: string | null,
    timeoutSeconds: number,
  ): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // A watch answers its headers at once, before any event (the client's Watch call returns on them).
    res.flushHeaders();
    const from =
      resourceVersion === null || resourceVersion === '' || resourceVersion === '0'
        ? undefined
        : Number(resourceVersion);
    if (from === undefined) {
      for (const object of this.store.list(resource, query.namespace)) {
        if (matchesQuery(object, query)) this.send(res, 'ADDED', resource, object);
      }
    } else {
      const oldest = this.log[0]?.revision;
      if (oldest !== undefined && from < oldest - 1 && this.log.length >= LOG_SIZE) {
        this.sendExpired(res, from);
        res.end();
        return;
      }
      for (const event of this.log) {
        if (event.revision > from && event.resource === resource && matchesQuery(event.object, query)) {
          this.send(res, event.type, resource, event.object);
        }
      }
    }
    const seconds = Math.min(Math.max(1, timeoutSeconds), MAX_WATCH_SECONDS);
    const timeout = setTimeout(() => this.end(stream), seconds * 1000);
    const stream: Stream = { resource, query, res, timeout };
    this.streams.add(stream);
    res.on('close', () => this.end(stream));
    this.arm();
  }

  /** Ends every stream and the timer. */
  closeAll(): void {
    for (const stream of [...this.streams]) this.end(stream);
    this.stopTimer();
  }

  /** Forgets the event log (the store was cleared). */
  clearLog(): void {
    this.log.length = 0;
  }

  close(): void {
    this.closeAll();
    this.unsubscribe();
  }

  /** Re-arms the timer after the cluster's queue changed. */
  arm(): void {
    this.stopTimer();
    if (this.streams.size === 0) return;
    const next = this.cluster.nextEventAt;
    if (next === undefined) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(MIN_TIMER_MS, next - this.clock()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.cluster.advance();
      this.arm();
    }, delay);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private record(event: StoreEvent): void {
    const revision = Number(event.object.metadata['resourceVersion']);
    this.log.push({ revision, type: event.type, resource: event.resource, object: event.object });
    if (this.log.length > LOG_SIZE) this.log.splice(0, this.log.length - LOG_SIZE);
    for (const stream of this.streams) {
      if (stream.resource === event.resource && matchesQuery(event.object, stream.query)) {
        this.send(stream.res, event.type, event.resource, event.object);
      }
    }
  }

  private send(res: ServerResponse, type: WatchEventType, resource: Resource, object: StoredObject): void {
    if (res.writableEnded) return;
    const event: JsonObject = { type, object: withTypeMeta(resource, object) };
    res.write(`${JSON.stringify(event)}\n`);
  }

  private sendExpired(res: ServerResponse, from: number): void {
    const current = this.store.resourceVersion;
    const event: JsonObject = {
      type: 'ERROR',
      object: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${from} (${current})`,
        reason: 'Expired',
        code: 410,
      },
    };
    res.write(`${JSON.stringify(event)}\n`);
  }

  private end(stream: Stream): void {
    if (!this.streams.delete(stream)) return;
    clearTimeout(stream.timeout);
    if (!stream.res.writableEnded) stream.res.end();
    if (this.streams.size === 0) this.stopTimer();
  }
}
