// The jest hooks the end-to-end tests share: the run's one control plane (started by global-setup.mjs, described by
// the file LAMBDA_EKS_CONTROL_PLANE names), a cluster admin's client, a fault proxy of the file's own in front of the
// real server, and for each test namespaces of its own with the grants it asks for. Tests never know how the server
// was started.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from '@jest/globals';
import { resetWarmState } from '../../src/state.js';
import { WEBHOOK_IDENTITIES_DIR, WEBHOOK_REFUSALS_FILE, type ControlPlaneInfo } from './control-plane/control-plane.js';
import type { Identity } from './control-plane/token-webhook.js';
import { FaultProxy } from './fault-proxy.js';
import { functionEnv, IDENTITY_SECRETS } from './fixture.js';
import { KubeAdmin, restPath } from './kube-admin.js';
import { LambdaEnvironment, type EnvironmentOptions } from './lambda.js';
import { adminOf, applyGrants, GRANTS, readClusterInfo, type GrantName } from './local-cluster.js';
import { recordSecrets } from './run-record.js';

/** The run's control plane, as global-setup.mjs started it. Throws when the tests run without it. */
export function localCluster(): ControlPlaneInfo {
  const path = process.env['LAMBDA_EKS_CONTROL_PLANE'];
  if (!path) {
    throw new Error(
      'LAMBDA_EKS_CONTROL_PLANE is not set: the end-to-end tests run under jest with test/support/global-setup.mjs, ' +
        'which starts the local control plane (npm test, or npm run test:jest).',
    );
  }
  return readClusterInfo(path);
}

/** Makes the next `count` token reviews of `accessKeyId` fail in the token webhook, as when STS is unavailable:
 * kube-apiserver then answers its own 401 to a good token. Use SPARE_IDENTITY, which no other test uses. */
export function refuseTokenReviews(accessKeyId: string, count: number): void {
  const file = join(localCluster().dir, WEBHOOK_REFUSALS_FILE);
  const counts: unknown = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const next = { ...(typeof counts === 'object' && counts !== null ? counts : {}), [accessKeyId]: count };
  writeFileSync(`${file}.tmp`, JSON.stringify(next));
  renameSync(`${file}.tmp`, file);
}

/** Makes the token webhook know `identity` from now on, as an access entry maps a role made in IAM (moto's) to its
 * groups: its tokens then authenticate. */
export function registerIdentity(identity: Identity): void {
  const dir = join(localCluster().dir, WEBHOOK_IDENTITIES_DIR);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${identity.accessKeyId}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(identity));
  renameSync(`${file}.tmp`, file);
}

/** A name no other test of the run uses: `prefix-` and six random characters. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).readUInt32BE(0).toString(36).padStart(6, '0').slice(-6)}`;
}

export interface ClusterScope {
  readonly info: ControlPlaneInfo;
  /** A cluster admin (system:masters). */
  readonly admin: KubeAdmin;
  /** The file's fault proxy; reset after each test. */
  readonly proxy: FaultProxy;
  /** The current test's namespace for an alias declared in useCluster's `namespaces` ("default" always is). */
  ns(alias: string): string;
  /** The function's environment: through the proxy, NAMESPACE the test's "default". */
  readonly env: Record<string, string>;
  /** The same, straight to kube-apiserver. */
  readonly directEnv: Record<string, string>;
  /** Starts an execution environment of the bundle with `env` (default: `env`), stopped after the test. */
  environment(env?: Record<string, string>, options?: EnvironmentOptions): Promise<LambdaEnvironment>;
}

export interface ClusterOptions {
  /** Namespaces each test gets, by alias, with the grants of permissions.yml applied in them. Default: "default" with
   * every grant. A namespace with no grants exists, and the function may do nothing in it. */
  readonly namespaces?: Readonly<Record<string, readonly GrantName[]>>;
  /** Runs after the file. */
  readonly cleanup?: () => Promise<void> | void;
}

/** Registers the hooks: the proxy and admin for the file; before each test, fresh namespaces with their grants; after
 * each, its environments stopped, the proxy reset and the in-process warm state cleared (as a new execution
 * environment would start); after the file, its namespaces deleted (without waiting) and all stopped. */
export function useCluster({ namespaces = { default: GRANTS }, cleanup }: ClusterOptions = {}): ClusterScope {
  const declared: Record<string, readonly GrantName[]> = { default: GRANTS, ...namespaces };
  let state: { info: ControlPlaneInfo; admin: KubeAdmin; proxy: FaultProxy; proxyUrl: string } | undefined;
  let current: Record<string, string> = {};
  const created: string[] = [];
  const environments: LambdaEnvironment[] = [];
  const started = (): NonNullable<typeof state> => {
    if (state === undefined) throw new Error('the cluster scope starts in beforeAll');
    return state;
  };
  const scope: ClusterScope = {
    get info() {
      return started().info;
    },
    get admin() {
      return started().admin;
    },
    get proxy() {
      return started().proxy;
    },
    ns(alias) {
      const name = current[alias];
      if (name === undefined) throw new Error(`namespace alias "${alias}" is not declared in useCluster`);
      return name;
    },
    get env() {
      const { info, proxyUrl } = started();
      return { ...functionEnv(proxyUrl, info.pki.caData), NAMESPACE: scope.ns('default') };
    },
    get directEnv() {
      const { info } = started();
      return { ...functionEnv(info.endpoint, info.pki.caData), NAMESPACE: scope.ns('default') };
    },
    async environment(env, options) {
      const lambda = await LambdaEnvironment.start(env ?? scope.env, options);
      environments.push(lambda);
      return lambda;
    },
  };
  beforeAll(async () => {
    const info = localCluster();
    const proxy = new FaultProxy(info.endpoint, info.pki.ca.cert, info.pki.server);
    state = { info, admin: adminOf(info), proxy, proxyUrl: await proxy.start() };
    recordSecrets(...IDENTITY_SECRETS);
  });
  beforeEach(async () => {
    resetWarmState();
    const { admin } = started();
    current = {};
    for (const [alias, grants] of Object.entries(declared)) {
      const name = uniqueName(alias);
      await admin.create(restPath('v1', 'namespaces'), { metadata: { name, labels: { 'lambda-eks/test': alias } } });
      created.push(name);
      await applyGrants(admin, name, grants);
      current[alias] = name;
    }
  });
  afterEach(async () => {
    await Promise.all(environments.splice(0).map((lambda) => lambda.stop()));
    state?.proxy.reset();
  });
  afterAll(async () => {
    resetWarmState();
    if (state !== undefined) {
      const { admin, proxy } = state;
      // The namespace controller finishes the deletions in the background; nothing waits for them.
      await Promise.all(created.map((name) => admin.delete(restPath('v1', 'namespaces', undefined, name))));
      await proxy.stop();
      admin.close();
    }
    await cleanup?.();
  });
  return scope;
}
