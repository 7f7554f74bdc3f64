// The local EKS-like cluster that npm run cluster, npm run demo, the benchmark and the test run start: the control
// plane of ./control-plane/, the test identities its token webhook knows, and what the function needs to reach it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ControlPlane, controlPlaneBinaries, type ControlPlaneInfo } from './control-plane/control-plane.js';
import { CLUSTER_NAME, IDENTITIES, functionEnv } from './fixture.js';
import { KubeAdmin, restPath, type KubeObject } from './kube-admin.js';
import { PROJECT_ROOT } from './paths.js';

/** The grants of permissions.yml, each selected by its lambda-eks/grant label. */
export const GRANTS = ['create', 'apply', 'observe', 'delete'] as const;
export type GrantName = (typeof GRANTS)[number];

/** Builds the control plane if needed (control-plane/build.sh) and starts it. */
export async function startLocalCluster(
  progress?: (line: string) => void,
): Promise<ControlPlane & { info: ControlPlaneInfo }> {
  const controlPlane = new ControlPlane({
    binaries: controlPlaneBinaries(PROJECT_ROOT),
    clusterName: CLUSTER_NAME,
    identities: IDENTITIES,
    ...(progress === undefined ? {} : { progress }),
  });
  const info = await controlPlane.start();
  return Object.assign(controlPlane, { info });
}

/** A cluster admin's client for the control plane. */
export function adminOf(info: ControlPlaneInfo): KubeAdmin {
  return new KubeAdmin(info.endpoint, info.pki.ca.cert, info.pki.admin);
}

/** The Roles and RoleBindings of permissions.yml for `grants`, as they are in the file. */
export function grantObjects(grants: readonly GrantName[]): KubeObject[] {
  const text = readFileSync(join(PROJECT_ROOT, 'permissions.yml'), 'utf8');
  return parseAllDocuments(text)
    .map((document): unknown => document.toJSON())
    .filter((object): object is KubeObject => {
      const labels = (object as KubeObject | null)?.metadata?.labels ?? {};
      return grants.some((grant) => labels['lambda-eks/grant'] === grant);
    });
}

/** Applies the grants of permissions.yml in `namespace`, as a cluster admin would with kubectl apply -l. */
export async function applyGrants(admin: KubeAdmin, namespace: string, grants: readonly GrantName[]): Promise<void> {
  for (const object of grantObjects(grants)) {
    const resource = object['kind'] === 'Role' ? 'roles' : 'rolebindings';
    const name = object.metadata?.name ?? '';
    await admin.apply(restPath('rbac.authorization.k8s.io/v1', resource, namespace, name), object, 'kubectl');
  }
}

/** The lines npm run cluster prints and writes to its state file: `NAME=value`. */
export function clusterEnvLines(info: ControlPlaneInfo, namespace: string): string[] {
  const env = {
    KUBECONFIG: info.kubeconfig,
    KUBECTL: info.kubectl,
    ...functionEnv(info.endpoint, info.pki.caData),
    NAMESPACE: namespace,
  };
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}

/** Writes the control plane's description for the test workers (LAMBDA_EKS_CONTROL_PLANE names the file). */
export function writeClusterInfo(path: string, info: ControlPlaneInfo): void {
  writeFileSync(path, JSON.stringify(info), { mode: 0o600 });
}

/** Reads what writeClusterInfo wrote. */
export function readClusterInfo(path: string): ControlPlaneInfo {
  return JSON.parse(readFileSync(path, 'utf8')) as ControlPlaneInfo;
}
