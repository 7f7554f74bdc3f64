// A real Kubernetes control plane on 127.0.0.1, shaped like controller-runtime's envtest (pkg/envtest): one object with
// start() and stop(). It runs etcd, kube-apiserver (RBAC, EKS token authentication through ./token-webhook.ts),
// kube-controller-manager with the controllers the tests need, kube-scheduler, and kwok for nodes and pod status
// (./stages.ts), all built from Go modules by control-plane/build.sh, on free ports, in a temporary folder removed on
// stop. Flags follow envtest (pkg/internal/testing/controlplane) and the upstream components' own documentation.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KubeAdmin, restPath } from '../kube-admin.js';
import { makeTestPki, type TestPki } from '../pki.js';
import { freePort, logTail, startProcess, stopProcess, waitUntil, type Started } from './processes.js';
import { kwokStages } from './stages.js';
import { TokenWebhook, type Identity } from './token-webhook.js';

/** What a test, the demo or a user needs to reach the running control plane. */
export interface ControlPlaneInfo {
  /** The cluster name EKS tokens must be signed for (x-k8s-aws-id). */
  readonly clusterName: string;
  /** kube-apiserver's https URL. */
  readonly endpoint: string;
  /** The server's version as /version reports it (v1.36.3). */
  readonly version: string;
  /** The PKI: the cluster CA (CLUSTER_CA_DATA is `pki.caData`), the admin client certificate, and test certificates. */
  readonly pki: TestPki;
  /** An admin kubeconfig (client certificate in system:masters). */
  readonly kubeconfig: string;
  /** The kubectl built with the control plane, of the server's version. */
  readonly kubectl: string;
  /** The temporary folder of this control plane (logs, etcd's data, kubeconfig); removed on stop. */
  readonly dir: string;
  /** The IAM identities the token webhook knows. */
  readonly identities: readonly Identity[];
}

export interface ControlPlaneOptions {
  /** The folder of the binaries (control-plane/build.sh prints it). */
  readonly binaries: string;
  readonly clusterName: string;
  readonly identities: readonly Identity[];
  /** How many kwok nodes to create. Default 1. */
  readonly nodes?: number;
  /** Progress lines go here. Default: nowhere. */
  readonly progress?: (line: string) => void;
}

/** The controllers the tests need (kube-controller-manager's canonical names, cmd/kube-controller-manager/names). Left
 * out: node-lifecycle and taint-eviction, which would mark kwok's nodes NotReady, and anything that needs a cloud. */
export const CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'statefulset-controller',
  'daemonset-controller',
  'job-controller',
  'cronjob-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'resourcequota-controller',
  'persistentvolume-binder-controller',
  // The StorageObjectInUseProtection admission plugin puts finalizers on every claim and volume; these remove them.
  'persistentvolumeclaim-protection-controller',
  'persistentvolume-protection-controller',
  'disruption-controller',
  'clusterrole-aggregation-controller',
  'root-ca-certificate-publisher-controller',
] as const;

const START_TIMEOUT_MS = 120_000;
/** kwok makes its nodes Ready within seconds; after this long it is started once more. */
const KWOK_FIRST_TRY_MS = 45_000;

/** The token webhook's refusals file, in the control plane's folder. */
export const WEBHOOK_REFUSALS_FILE = 'webhook-refusals.json';
/** Where registerIdentity writes identities the token webhook knows from then on, below the control plane's folder. */
export const WEBHOOK_IDENTITIES_DIR = 'webhook-identities';

export class ControlPlane {
  private readonly processes: Started[] = [];
  private webhook: TokenWebhook | undefined;
  private admin: KubeAdmin | undefined;
  private running: ControlPlaneInfo | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: ControlPlaneOptions) {}

  /** Starts every component and waits until each is ready; on failure, stops what it started and throws. */
  async start(): Promise<ControlPlaneInfo> {
    const dir = mkdtempSync(join(tmpdir(), 'lambda-eks-control-plane-'));
    try {
      return await this.startIn(dir);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops every process it started (kwok first, etcd last) and removes its folder. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const started of [...this.processes].reverse()) {
        await stopProcess(started);
      }
      await this.webhook?.stop();
      this.admin?.close();
      if (this.running !== undefined) rmSync(this.running.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  /** Kills every process at once, without waiting: for process exit handlers, where nothing asynchronous runs. */
  killNow(dir?: string): void {
    for (const started of this.processes) {
      if (started.exited === undefined) started.child.kill('SIGKILL');
    }
    const folder = this.running?.dir ?? dir;
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  }

  private async startIn(dir: string): Promise<ControlPlaneInfo> {
    const { binaries, clusterName, identities } = this.options;
    const say = this.options.progress ?? (() => undefined);
    const bin = (name: string): string => join(binaries, name);
    const file = (name: string, content: string): string => {
      const path = join(dir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    };
    const started = (name: string, args: readonly string[], env?: NodeJS.ProcessEnv): Started => {
      const child = startProcess(name, bin(name), args, join(dir, `${name}.log`), env);
      this.processes.push(child);
      return child;
    };

    say('making the PKI (openssl)');
    const pki = makeTestPki();
    const paths = {
      ca: file('ca.crt', pki.ca.cert),
      serverCert: file('server.crt', pki.server.cert),
      serverKey: file('server.key', pki.server.key),
      saKey: file('sa.key', pki.serviceAccount.key),
      saPub: file('sa.pub', pki.serviceAccount.cert),
    };

    say('starting etcd');
    const [etcdClient, etcdPeer] = [await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcd = started('etcd', [
      `--name=default`,
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      // Tests need no durability (envtest's choice too).
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);
    await waitUntil('etcd to be healthy', etcd, async () => (await fetch(`${etcdUrl}/health`)).ok, START_TIMEOUT_MS);

    this.webhook = new TokenWebhook({
      tls: pki.server,
      clusterName,
      identities,
      logFile: join(dir, 'webhook.log'),
      refusalsFile: join(dir, WEBHOOK_REFUSALS_FILE),
      identitiesDir: join(dir, WEBHOOK_IDENTITIES_DIR),
    });
    const webhookUrl = await this.webhook.start();
    const webhookConfig = file(
      'webhook.kubeconfig',
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'webhook', cluster: { server: webhookUrl, 'certificate-authority': paths.ca } }],
        users: [{ name: 'kube-apiserver', user: {} }],
        contexts: [{ name: 'webhook', context: { cluster: 'webhook', user: 'kube-apiserver' } }],
        'current-context': 'webhook',
      }),
    );

    say('starting kube-apiserver');
    const port = await freePort();
    const endpoint = `https://127.0.0.1:${port}`;
    const apiserver = started('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // With a loopback advertise address the default lease reconciler fails (kubernetes/kubernetes#138102).
      '--endpoint-reconciler-type=none',
      `--secure-port=${port}`,
      `--tls-cert-file=${paths.serverCert}`,
      `--tls-private-key-file=${paths.serverKey}`,
      `--client-ca-file=${paths.ca}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${paths.saPub}`,
      `--service-account-signing-key-file=${paths.saKey}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=RBAC',
      `--authentication-token-webhook-config-file=${webhookConfig}`,
      '--authentication-token-webhook-version=v1',
      '--authentication-token-webhook-cache-ttl=0s',
      // Otherwise every new Node is tainted not-ready, and only the node-lifecycle controller (not run) lifts it.
      '--disable-admission-plugins=TaintNodesByCondition',
      '--allow-privileged=true',
      '--profiling=false',
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
    ]);
    this.admin = new KubeAdmin(endpoint, pki.ca.cert, pki.admin);
    const admin = this.admin;
    await waitUntil(
      'kube-apiserver to be ready (/readyz)',
      apiserver,
      async () => (await admin.send('GET', '/readyz')).status === 200,
      START_TIMEOUT_MS,
    );
    const versionAnswer = await admin.send('GET', '/version');
    const version = String((versionAnswer.body as { gitVersion?: unknown }).gitVersion ?? 'unknown');

    const kubeconfig = file(
      'admin.kubeconfig',
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: clusterName, cluster: { server: endpoint, 'certificate-authority-data': pki.caData } }],
        users: [
          {
            name: 'admin',
            user: {
              'client-certificate-data': Buffer.from(pki.admin.cert).toString('base64'),
              'client-key-data': Buffer.from(pki.admin.key).toString('base64'),
            },
          },
        ],
        contexts: [{ name: clusterName, context: { cluster: clusterName, user: 'admin', namespace: 'default' } }],
        'current-context': clusterName,
      }),
    );

    say('starting kube-controller-manager and kube-scheduler');
    const controllerManager = started('kube-controller-manager', [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      `--controllers=${CONTROLLERS.join(',')}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      `--cert-dir=${join(dir, 'kcm-certs')}`,
      `--root-ca-file=${paths.ca}`,
      `--service-account-private-key-file=${paths.saKey}`,
      '--use-service-account-credentials=false',
    ]);
    const scheduler = started('kube-scheduler', [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      `--cert-dir=${join(dir, 'scheduler-certs')}`,
    ]);

    say('starting kwok and its nodes');
    const nodes = Array.from({ length: this.options.nodes ?? 1 }, (_, index) => `kwok-node-${index}`);
    for (const name of nodes) {
      await admin.create(restPath('v1', 'nodes'), kwokNode(name));
    }
    const kwokHome = join(dir, 'kwok-home');
    mkdirSync(kwokHome);
    const kwokArgs = [
      `--kubeconfig=${kubeconfig}`,
      '--manage-all-nodes=true',
      '--node-lease-duration-seconds=0',
      `--config=${file('kwok-stages.yaml', kwokStages())}`,
      '--cidr=10.244.0.0/16',
      '--node-ip=10.0.0.10',
      '--server-address=127.0.0.1:0',
    ];
    // kwok also reads ~/.kwok/kwok.yaml: give it a home of its own.
    const kwokEnv = { ...process.env, HOME: kwokHome };
    const kwok = started('kwok', kwokArgs, kwokEnv);
    const nodesReady = async (): Promise<boolean> => {
      for (const name of nodes) {
        if (!isReady((await admin.get(restPath('v1', 'nodes', undefined, name)))?.['status'])) return false;
      }
      return true;
    };
    const waitingFor = `kwok to make node${nodes.length > 1 ? 's' : ''} ${nodes.join(', ')} Ready`;
    try {
      await waitUntil(waitingFor, kwok, nodesReady, KWOK_FIRST_TRY_MS);
    } catch (error) {
      // Seen once in a full run on a loaded 2-core machine: kwok alive, the node untouched for 120 s. Once more, with
      // a log of its own, before giving up with both logs.
      say(`kwok did not make the nodes Ready (${(error as Error).message.split('\n')[0]}); starting it once more`);
      await stopProcess(kwok);
      const again = startProcess('kwok', bin('kwok'), kwokArgs, join(dir, 'kwok-again.log'), kwokEnv);
      this.processes.push(again);
      try {
        await waitUntil(waitingFor, again, nodesReady, START_TIMEOUT_MS);
      } catch (second) {
        throw new Error(`${(second as Error).message}\nThe first kwok's log:\n${logTail(kwok)}`);
      }
    }
    await waitUntil(
      'the serviceaccount controller to make default/default',
      controllerManager,
      async () => (await admin.get(restPath('v1', 'serviceaccounts', 'default', 'default'))) !== undefined,
      START_TIMEOUT_MS,
    );
    await waitUntil(
      'kube-scheduler to be ready',
      scheduler,
      async () => scheduler.exited === undefined && (await admin.send('GET', '/readyz')).status === 200,
      START_TIMEOUT_MS,
    );

    this.running = {
      clusterName,
      endpoint,
      version,
      pki,
      kubeconfig,
      kubectl: bin('kubectl'),
      dir,
      identities,
    };
    return this.running;
  }
}

/** A fake Node for kwok (kwok's documented node shape): big enough for every test's pods. */
export function kwokNode(name: string, allocatable: Readonly<Record<string, string>> = {}): Record<string, unknown> {
  const resources = { cpu: '32', memory: '128Gi', pods: '1000', ...allocatable };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
      labels: {
        'kubernetes.io/arch': 'arm64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/role': 'agent',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    status: { allocatable: resources, capacity: resources },
  };
}

function isReady(status: unknown): boolean {
  const conditions = (status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

/** The binaries folder: control-plane/build.sh builds them if needed (the first time, for tens of minutes) and prints
 * where they are. */
export function controlPlaneBinaries(projectRoot: string): string {
  const output = execFileSync(join(projectRoot, 'control-plane/build.sh'), [], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return output.trim().split('\n').pop() ?? '';
}
