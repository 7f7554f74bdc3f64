// What the simulated cluster behind the stand-in does, and how fast: the knobs tests turn.

/** How the kubelet and the scheduler get on with pods whose container runs this image. */
export interface ImageBehaviour {
  /** `not-found`: the registry has no such tag; the kubelet alternates ErrImagePull and ImagePullBackOff. */
  readonly pull?: 'not-found';
  /** The container exits this long after it starts, with this code (default 1): CrashLoopBackOff. */
  readonly crash?: { readonly exitCode?: number; readonly afterMs?: number };
  /** The scheduler finds no node for the pod: `true` for the default message, or the scheduler's message. */
  readonly unschedulable?: string | true;
  /** How long from the pod's binding until this container runs and is Ready (default: podReadyDelayMs). */
  readonly readyAfterMs?: number;
}

export interface ClusterOptions {
  /** Delay from a client's write of a Deployment to the deployment controller's sync of it. Default 20. */
  readonly observeDelayMs?: number;
  /** Delay from a pod's binding to its containers running and Ready (or to the image pull failing). Default 50. */
  readonly podReadyDelayMs?: number;
  /** Replaces spec.progressDeadlineSeconds × 1000 for every Deployment, so a test can see a deadline pass. */
  readonly progressDeadlineMs?: number;
  /** Behaviour per image (exact `image` string of a container). Images not listed pull and run fine. */
  readonly images?: Readonly<Record<string, ImageBehaviour>>;
  /** No pod can be scheduled: `true` for the default message, or the scheduler's message. */
  readonly unschedulable?: string | true;
  /** The kubelet's first back-off for image pulls and restarts; it doubles up to 300 s. Default 10000. */
  readonly backOffMs?: number;
  /** From a failed pull to the kubelet's next sync, which reports ImagePullBackOff. Default 1000. */
  readonly kubeletSyncMs?: number;
  /** From a pod's deletion to the kubelet having stopped it and the pod being gone. Default 20. */
  readonly terminationMs?: number;
  /** Delay of the garbage collector's reaction to a deletion. Default 10. */
  readonly gcDelayMs?: number;
  /** The nodes pods are bound to, in turn. */
  readonly nodes?: readonly string[];
}

export interface ClusterSettings {
  readonly observeDelayMs: number;
  readonly podReadyDelayMs: number;
  readonly progressDeadlineMs: number | undefined;
  readonly images: Readonly<Record<string, ImageBehaviour>>;
  readonly unschedulable: string | true | undefined;
  readonly backOffMs: number;
  readonly kubeletSyncMs: number;
  readonly terminationMs: number;
  readonly gcDelayMs: number;
  readonly nodes: readonly string[];
}

export const CLUSTER_DEFAULTS: ClusterSettings = {
  observeDelayMs: 20,
  podReadyDelayMs: 50,
  progressDeadlineMs: undefined,
  images: {},
  unschedulable: undefined,
  backOffMs: 10_000,
  kubeletSyncMs: 1000,
  terminationMs: 20,
  gcDelayMs: 10,
  nodes: [
    'ip-192-168-12-34.us-west-2.compute.internal',
    'ip-192-168-45-67.us-west-2.compute.internal',
    'ip-192-168-78-90.us-west-2.compute.internal',
  ],
};

/** The scheduler's message when no node fits, as kube-scheduler 1.32 words it for three nodes short of CPU. */
export function unschedulableMessage(nodes: number): string {
  return (
    `0/${nodes} nodes are available: ${nodes} Insufficient cpu. ` +
    `preemption: 0/${nodes} nodes are available: ${nodes} No preemption victims found for incoming pod.`
  );
}

export function settingsOf(options: ClusterOptions, base: ClusterSettings = CLUSTER_DEFAULTS): ClusterSettings {
  return {
    observeDelayMs: options.observeDelayMs ?? base.observeDelayMs,
    podReadyDelayMs: options.podReadyDelayMs ?? base.podReadyDelayMs,
    progressDeadlineMs: 'progressDeadlineMs' in options ? options.progressDeadlineMs : base.progressDeadlineMs,
    images: options.images ?? base.images,
    unschedulable: 'unschedulable' in options ? options.unschedulable : base.unschedulable,
    backOffMs: options.backOffMs ?? base.backOffMs,
    kubeletSyncMs: options.kubeletSyncMs ?? base.kubeletSyncMs,
    terminationMs: options.terminationMs ?? base.terminationMs,
    gcDelayMs: options.gcDelayMs ?? base.gcDelayMs,
    nodes: options.nodes ?? base.nodes,
  };
}
