// The real kubectl, offline: `kubectl create --dry-run=client -f FILE -l SELECTOR -o name` reads the manifests, keeps
// the objects the label selector matches (kubectl's own selector parser, k8s.io/apimachinery/pkg/labels) and prints
// their names, without a cluster. It still maps each kind to its resource through API discovery, which it reads from
// its disk cache when the cache is fresh (k8s.io/client-go/discovery/cached/disk: <cache-dir>/discovery/<host_port>/
// servergroups.json and <group>/<version>/serverresources.json). The cache written here holds the discovery documents a
// kube-apiserver serves for rbac.authorization.k8s.io/v1, the only group permissions.yml uses; the kubeconfig points at
// a port nothing listens on, so a cache miss fails fast instead of reaching anything.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireTool } from './tools.js';

const run = promisify(execFile);
const SERVER_HOST = '127.0.0.1';
const SERVER_PORT = 1;

const RBAC_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const RBAC_GROUP_VERSION = { groupVersion: 'rbac.authorization.k8s.io/v1', version: 'v1' };
const SERVER_GROUPS = {
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [{ name: 'rbac.authorization.k8s.io', versions: [RBAC_GROUP_VERSION], preferredVersion: RBAC_GROUP_VERSION }],
};
const RBAC_RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'rbac.authorization.k8s.io/v1',
  resources: [
    ['clusterrolebindings', 'clusterrolebinding', false, 'ClusterRoleBinding'],
    ['clusterroles', 'clusterrole', false, 'ClusterRole'],
    ['rolebindings', 'rolebinding', true, 'RoleBinding'],
    ['roles', 'role', true, 'Role'],
  ].map(([name, singularName, namespaced, kind]) => ({ name, singularName, namespaced, kind, verbs: RBAC_VERBS })),
};

/** The kubectl binary and the global flags that make it work offline, set up under `dir`. */
export interface OfflineKubectl {
  kubectl: string;
  flags: string[];
}

/** Writes a kubeconfig and a fresh discovery cache under `dir`; throws MissingToolError without kubectl. */
export function offlineKubectl(dir: string): OfflineKubectl {
  const kubectl = requireTool('kubectl');
  const cache = join(dir, 'kube-cache');
  const discovery = join(cache, 'discovery', `${SERVER_HOST}_${SERVER_PORT}`);
  mkdirSync(join(discovery, 'rbac.authorization.k8s.io', 'v1'), { recursive: true });
  writeFileSync(join(discovery, 'servergroups.json'), JSON.stringify(SERVER_GROUPS));
  writeFileSync(
    join(discovery, 'rbac.authorization.k8s.io', 'v1', 'serverresources.json'),
    JSON.stringify(RBAC_RESOURCES),
  );
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'offline', cluster: { server: `https://${SERVER_HOST}:${SERVER_PORT}` } }],
      users: [{ name: 'offline', user: { token: 'offline' } }],
      contexts: [{ name: 'offline', context: { cluster: 'offline', user: 'offline' } }],
      'current-context': 'offline',
    }),
  );
  return { kubectl, flags: ['--kubeconfig', kubeconfig, '--cache-dir', cache, '--request-timeout', '5s'] };
}

/** The objects of `file` that `selector` selects, as kubectl names them (`role.rbac.authorization.k8s.io/x`).
 * Throws with kubectl's message when kubectl refuses (no match: `error: no objects passed to create`). */
export async function selectWithKubectl(
  offline: OfflineKubectl,
  file: string,
  selector: string | undefined,
  namespace = 'default',
): Promise<string[]> {
  const args = [...offline.flags, 'create', '--dry-run=client', '--validate=false', '-n', namespace, '-f', file];
  const { stdout } = await run(offline.kubectl, [
    ...args,
    ...(selector === undefined ? [] : ['-l', selector]),
    '-o',
    'name',
  ]);
  return stdout.split('\n').filter(Boolean);
}
