// What the set tests share: a function environment whose identity may do anything (the set tests' group, bound to
// cluster-admin for the file, as CDK binds its provider; the least-privilege grants are tested on their own), small
// manifest builders, and a reader of a set's record.
import { afterAll, beforeAll } from '@jest/globals';
import { uniqueName, type ClusterScope } from './cluster.js';
import { functionEnv, SETS_GROUP, SETS_IDENTITY } from './fixture.js';
import { at } from './json.js';
import { restPath, type KubeObject } from './kube-admin.js';
import type { Invocation } from './lambda.js';

/** Binds cluster-admin to the set tests' group for the file; returns the environment of a function with that
 * identity, through the file's fault proxy. */
export function useSetIdentity(scope: ClusterScope): () => Record<string, string> {
  const binding = uniqueName('lambda-eks-test-sets');
  const path = restPath('rbac.authorization.k8s.io/v1', 'clusterrolebindings', undefined, binding);
  beforeAll(async () => {
    await scope.admin.apply(path, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: binding },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: SETS_GROUP }],
    });
  });
  afterAll(async () => {
    await scope.admin.delete(path);
  });
  return () => ({
    ...functionEnv(scope.proxy.url, scope.info.pki.caData, SETS_IDENTITY),
    NAMESPACE: scope.ns('default'),
  });
}

/** A manifest of YAML documents. */
export function yamlOf(...documents: string[]): string {
  return documents.map((document) => document.trim()).join('\n---\n');
}

/** A ConfigMap document. */
export function configMap(name: string, data: Record<string, string>, namespace?: string): string {
  const entries = Object.entries(data)
    .map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`)
    .join('\n');
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}${namespace === undefined ? '' : `\n  namespace: ${namespace}`}
data:
${entries}`;
}

/** A namespaced CustomResourceDefinition of kind `kind` in `group` (v1), its schema open to any field. */
export function crd(group: string, kind: string): { document: string; plural: string; name: string } {
  const plural = `${kind.toLowerCase()}s`;
  const name = `${plural}.${group}`;
  return {
    plural,
    name,
    document: `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${name}
spec:
  group: ${group}
  names:
    kind: ${kind}
    plural: ${plural}
    singular: ${kind.toLowerCase()}
    listKind: ${kind}List
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true`,
  };
}

/** The members a set's record lists (`<kind>/<namespace>/<name>`), or undefined when it has no record. */
export async function recordMembers(
  scope: ClusterScope,
  set: string,
  namespace: string,
): Promise<string[] | undefined> {
  const record: KubeObject | undefined = await scope.admin.get(
    restPath('v1', 'configmaps', namespace, `lambda-eks-set-${set}`),
  );
  if (record === undefined) return undefined;
  const data = record['data'];
  const text: unknown = typeof data === 'object' && data !== null ? Reflect.get(data, 'members') : undefined;
  const members: unknown = JSON.parse(typeof text === 'string' ? text : '[]');
  return (Array.isArray(members) ? members : [])
    .map((member: unknown) => {
      const field = (key: string): string => {
        const value: unknown = typeof member === 'object' && member !== null ? Reflect.get(member, key) : undefined;
        return typeof value === 'string' ? value : '';
      };
      return `${field('kind')}/${field('namespace')}/${field('name')}`;
    })
    .sort();
}

/** A successful invocation's result; a failed one throws, naming its error. */
export function result(invocation: Invocation): Record<string, unknown> {
  if (!invocation.ok) throw new Error(`${invocation.errorType}: ${invocation.errorMessage}`);
  return invocation.result;
}

/** The objects of a set result, as `<kind>/<name>: <action>`. */
export function actions(invocation: Invocation): string[] {
  const objects = at(result(invocation), 'objects');
  return (Array.isArray(objects) ? objects : []).map(
    (object: unknown) => `${String(at(object, 'kind'))}/${String(at(object, 'name'))}: ${String(at(object, 'action'))}`,
  );
}

/** The requests the file's proxy saw since request `from` that wrote something (not reads, not dry runs), as
 * `<method> <path>`. */
export function writesSince(scope: ClusterScope, from: number): string[] {
  return scope.proxy.requests
    .slice(from)
    .filter((request) => request.method !== 'GET' && request.query.get('dryRun') !== 'All')
    .map((request) => `${request.method} ${request.path}`);
}
