// The cluster behind the API: deployment and replicaset controllers, scheduler, kubelets and garbage collector,
// simulated as a discrete-event queue on the stand-in's clock. Nothing runs by itself: every request (and
// `advance()`) first runs the queue up to "now", so a test that controls the clock controls the cluster.
import { settingsOf, type ClusterOptions, type ClusterSettings } from './cluster-options.js';
import { syncDeployment } from './deployment-controller.js';
import { collectGarbage } from './garbage-collector.js';
import { kubeletSync, schedulePod } from './kubelet.js';
import { stringAt, type JsonObject } from './json.js';
import { controllerOf } from './objects.js';
import { syncReplicaSet } from './replicaset-controller.js';
import type { ObjectStore, StoreEvent, SystemWriter } from './store.js';

/** What the kubelet keeps about a pod it runs: when it was bound, where, its address. */
export interface PodRuntime {
  readonly boundAt: number;
  readonly node: string;
  readonly ip: string;
  readonly hostIP: string;
  /** Set when the pod is being stopped: the kubelet reports terminated containers from then on. */
  stoppingAt?: number;
}

export interface ControllerContext extends SystemWriter {
  readonly settings: ClusterSettings;
  /** Runs `run` after `delayMs` of simulated time, once per key (the earliest request wins). */
  schedule(key: string, delayMs: number, run: () => void): void;
  /** utilrand.String: `length` characters of the alphabet generated names use. */
  random(length: number): string;
  readonly pods: Map<string, PodRuntime>;
  /** Deployment uid → ms of the last Progressing update, so progressDeadlineMs is measured to the millisecond. */
  readonly progress: Map<string, number>;
  nextNode(): { node: string; hostIP: string; ip: string };
}

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly key: string;
  readonly run: () => void;
}

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_EVENTS_PER_ADVANCE = 200_000;

export class Cluster implements ControllerContext {
  settings: ClusterSettings;
  readonly pods = new Map<string, PodRuntime>();
  readonly progress = new Map<string, number>();
  private queue: Scheduled[] = [];
  private seq = 0;
  private clock: number;
  private advancing = false;
  private seed: number;
  private nodeTurn = 0;
  private addressTurn = 0;
  private readonly unsubscribe: () => void;

  constructor(
    readonly store: ObjectStore,
    private readonly clockSource: () => number,
    options: ClusterOptions | false,
    private readonly onQueueChange: () => void = () => undefined,
  ) {
    this.enabled = options !== false;
    this.settings = settingsOf(options === false ? {} : options);
    this.clock = clockSource();
    this.seed = 0x5eed;
    this.unsubscribe = store.subscribe((event) => this.observe(event));
  }

  /** Whether the controllers, scheduler and kubelets run; without them the stand-in is an API server alone (as
   * envtest runs kube-apiserver without kube-controller-manager). */
  enabled: boolean;

  readonly now = (): number => this.clock;

  /** Changes knobs from now on (only the given ones). */
  configure(options: ClusterOptions): void {
    this.settings = settingsOf(options, this.settings);
  }

  /** Turns the controllers on with these knobs (the others at their defaults), or off. */
  run(options: ClusterOptions | false): void {
    this.enabled = options !== false;
    this.settings = settingsOf(options === false ? {} : options);
  }

  schedule(key: string, delayMs: number, run: () => void): void {
    if (!this.enabled) return;
    const at = this.clock + Math.max(0, delayMs);
    const existing = this.queue.find((item) => item.key === key);
    if (existing !== undefined && existing.at <= at) return;
    this.queue = this.queue.filter((item) => item.key !== key);
    this.seq += 1;
    this.queue.push({ at, seq: this.seq, key, run });
    this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.onQueueChange();
  }

  /** The time of the next thing the cluster will do, if anything is pending. */
  get nextEventAt(): number | undefined {
    return this.enabled ? this.queue[0]?.at : undefined;
  }

  /** Runs everything due up to the stand-in's clock. */
  advance(): void {
    const target = Math.max(this.clock, this.clockSource());
    this.advancing = true;
    try {
      for (let count = 0; this.enabled; count += 1) {
        const next = this.queue[0];
        if (next === undefined || next.at > target) break;
        if (count > MAX_EVENTS_PER_ADVANCE) throw new Error('the simulated cluster does not settle');
        this.queue.shift();
        this.clock = next.at;
        next.run();
      }
    } finally {
      this.advancing = false;
      this.clock = target;
    }
  }

  random(length: number): string {
    let out = '';
    for (let i = 0; i < length; i += 1) {
      // mulberry32: deterministic names for a given sequence of events.
      this.seed = (this.seed + 0x6d2b79f5) | 0;
      let t = Math.imul(this.seed ^ (this.seed >>> 15), 1 | this.seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      const value = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      out += ALPHANUMS[Math.floor(value * ALPHANUMS.length)] ?? 'b';
    }
    return out;
  }

  nextNode(): { node: string; hostIP: string; ip: string } {
    const nodes = this.settings.nodes;
    const index = this.nodeTurn % Math.max(1, nodes.length);
    this.nodeTurn += 1;
    this.addressTurn += 1;
    const node = nodes[index] ?? 'ip-192-168-12-34.us-west-2.compute.internal';
    const octets = /ip-(\d+)-(\d+)-(\d+)-(\d+)/.exec(node);
    const hostIP = octets ? `${octets[1]}.${octets[2]}.${octets[3]}.${octets[4]}` : '192.168.12.34';
    const ip = `192.168.${(index * 32 + 1 + Math.floor(this.addressTurn / 250)) % 256}.${(this.addressTurn % 250) + 2}`;
    return { node, hostIP, ip };
  }

  /** Forgets every pending event and everything the kubelets know; the clock keeps its time. */
  reset(): void {
    this.queue = [];
    this.pods.clear();
    this.progress.clear();
    this.seed = 0x5eed;
    this.nodeTurn = 0;
    this.addressTurn = 0;
    this.onQueueChange();
  }

  close(): void {
    this.unsubscribe();
    this.queue = [];
  }

  /** The informers' event handlers: who reacts to a change of which object. */
  private observe(event: StoreEvent): void {
    if (!this.enabled) return;
    const { resource, object, type } = event;
    const namespace = stringAt(object, 'metadata', 'namespace') ?? '';
    const name = stringAt(object, 'metadata', 'name') ?? '';
    const deleting = type === 'DELETED' || typeof object.metadata['deletionTimestamp'] === 'string';
    if (deleting || hasOwners(object)) this.schedule('gc', this.settings.gcDelayMs, () => collectGarbage(this));
    if (resource === 'deployments') {
      if (type === 'DELETED') return;
      const delay = this.advancing ? 0 : this.settings.observeDelayMs;
      this.schedule(`deployment/${namespace}/${name}`, delay, () => syncDeployment(this, namespace, name));
      return;
    }
    const owner = controllerOf(object);
    if (resource === 'replicasets') {
      if (type !== 'DELETED') {
        this.schedule(`replicaset/${namespace}/${name}`, 0, () => syncReplicaSet(this, namespace, name));
      }
      if (owner?.kind === 'Deployment') {
        this.schedule(`deployment/${namespace}/${owner.name}`, 0, () => syncDeployment(this, namespace, owner.name));
      }
      return;
    }
    if (owner?.kind === 'ReplicaSet') {
      this.schedule(`replicaset/${namespace}/${owner.name}`, 0, () => syncReplicaSet(this, namespace, owner.name));
    }
    const uid = stringAt(object, 'metadata', 'uid') ?? '';
    if (type === 'ADDED' && stringAt(object, 'spec', 'nodeName') === undefined) {
      this.schedule(`scheduler/${uid}`, 0, () => schedulePod(this, namespace, name));
    } else if (type === 'MODIFIED' && typeof object.metadata['deletionTimestamp'] === 'string') {
      this.schedule(`kubelet/${uid}`, 0, () => kubeletSync(this, namespace, name));
    } else if (type === 'DELETED') {
      this.pods.delete(uid);
    }
  }
}

function hasOwners(object: JsonObject): boolean {
  const metadata = object['metadata'];
  return typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) && 'ownerReferences' in metadata;
}
