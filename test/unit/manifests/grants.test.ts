import { describe, expect, it } from '@jest/globals';
import type { ResourceType } from '../../../src/manifests/discovery.js';
import { setGrantsFor, type GrantedObject } from '../../../src/manifests/grants.js';

// The rules npm run grants prints, from objects whose types are known. What they let the function do on the real API
// server is tested end to end (test/e2e/set-grants.e2e.test.ts); here, which rule each kind of object brings.

const TARGET = { set: 'app', setNamespace: 'apps', group: 'deployers' };

function type(apiVersion: string, kind: string, plural: string, namespaced: boolean, custom = false): ResourceType {
  const slash = apiVersion.indexOf('/');
  return { apiVersion, group: slash < 0 ? '' : apiVersion.slice(0, slash), kind, plural, namespaced, custom };
}
const CONFIG_MAPS = type('v1', 'ConfigMap', 'configmaps', true);
const DEPLOYMENTS = type('apps/v1', 'Deployment', 'deployments', true);
const CLUSTER_ROLES = type('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false);
const CLUSTER_ROLE_BINDINGS = type('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false);
const ROLE_BINDINGS = type('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true);

function object(
  of: ResourceType,
  name: string,
  namespace: string | undefined,
  fields: Record<string, unknown> = {},
): GrantedObject {
  return { ref: { group: of.group, kind: of.kind, namespace, name }, type: of, object: fields };
}

/** Each rule of each RBAC object, as `<Kind>/<namespace>: <group>/<resource> [names] verbs`. */
function rules(objects: readonly GrantedObject[], created: readonly string[] = []): string[] {
  return setGrantsFor(objects, TARGET, new Set(created)).objects.flatMap((rbac) => {
    const metadata = Object(rbac['metadata']);
    const list: unknown = rbac['rules'];
    return (Array.isArray(list) ? list : []).map((rule: unknown) => {
      const { apiGroups, resources, resourceNames, verbs } = Object(rule);
      const names = Array.isArray(resourceNames) ? ` [${resourceNames.join(',')}]` : '';
      return `${String(rbac['kind'])}/${String(metadata.namespace ?? '')}: ${String(apiGroups)}/${String(resources)}${names} ${String(verbs)}`;
    });
  });
}

describe('setGrantsFor', () => {
  it("names each object and the set's record, with no list, watch or wildcard", () => {
    expect(rules([object(CONFIG_MAPS, 'settings', 'apps'), object(CONFIG_MAPS, 'other', 'web')])).toEqual([
      'Role/apps: /configmaps [lambda-eks-set-app,settings] get,patch,create,delete',
      'Role/web: /configmaps [other] get,patch,create,delete',
    ]);
  });

  it('lets a Deployment be observed: list on pods and ReplicaSets, in its namespace only', () => {
    expect(rules([object(DEPLOYMENTS, 'web', 'web')])).toEqual([
      'Role/apps: /configmaps [lambda-eks-set-app] get,patch,create,delete',
      'Role/web: /pods list',
      'Role/web: apps/deployments [web] get,patch,create,delete',
      'Role/web: apps/replicasets list',
    ]);
  });

  it('puts the rules for objects in namespaces the set creates in its ClusterRole, without list, and says so', () => {
    const grants = setGrantsFor([object(DEPLOYMENTS, 'web', 'fresh')], TARGET, new Set(['fresh']));

    expect(rules([object(DEPLOYMENTS, 'web', 'fresh')], ['fresh'])).toEqual([
      'ClusterRole/: apps/deployments [web] get,patch,create,delete',
      'Role/apps: /configmaps [lambda-eks-set-app] get,patch,create,delete',
    ]);
    expect(grants.notes.join('\n')).toContain('namespaces the set creates (fresh)');
    expect(grants.notes.join('\n')).toContain('judged without pod diagnostics');
    expect(grants.objects.find((rbac) => rbac['kind'] === 'ClusterRoleBinding')).toMatchObject({
      metadata: { name: 'lambda-eks-set:apps:app' },
      subjects: [{ kind: 'Group', name: 'deployers' }],
    });
  });

  it('grants escalate on the roles of the set and bind on the roles its bindings reference, by name', () => {
    const binding = object(ROLE_BINDINGS, 'readers', 'apps', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    });
    const clusterBinding = object(CLUSTER_ROLE_BINDINGS, 'auditors', undefined, {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'auditor' },
    });

    const made = rules([object(CLUSTER_ROLES, 'auditor', undefined), binding, clusterBinding]);

    expect(made).toContain('ClusterRole/: rbac.authorization.k8s.io/clusterroles [auditor] escalate');
    expect(made).toContain('ClusterRole/: rbac.authorization.k8s.io/clusterroles [auditor] bind');
    expect(made).toContain('Role/apps: rbac.authorization.k8s.io/clusterroles [view] bind');
    expect(made.filter((rule) => / (escalate|bind)$/.test(rule))).toHaveLength(3);
    expect(made).toContain('ClusterRole/: rbac.authorization.k8s.io/clusterroles [auditor] get,patch,create,delete');
  });

  it('warns of rights that are cluster-admin in effect, and not of a custom kind of the same name', () => {
    const crd = type('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false);
    const lookalike = type('example.com/v1', 'ClusterRole', 'clusterroles', false, true);

    const { warnings } = setGrantsFor(
      [object(crd, 'widgets.example.com', undefined), object(lookalike, 'mine', undefined)],
      TARGET,
      new Set(),
    );

    expect(warnings).toEqual([
      'CustomResourceDefinition "widgets.example.com" defines kinds for the whole cluster: rights over it are ' +
        'cluster-admin in effect',
    ]);
  });
});
