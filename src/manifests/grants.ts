// The least RBAC that lets the function apply, prune, read and delete one set: each right by object name, no list but
// what a Deployment's rollout diagnostics need, no watch, no wildcard. Pure: `npm run grants` (src/cli/grants.ts)
// resolves the objects' resource types and prints what this returns.
//
// What the API server checks, and so what each object needs:
// - server-side apply is a PATCH, authorized as `create` with the object's name when it creates the object
//   (apiserver endpoints/handlers/patch.go), so `create` can be name-scoped like `get`, `patch` and `delete`;
// - creating or changing a Role or ClusterRole needs every right in it, or `escalate` on it; a binding needs the
//   rights of the role it references, or `bind` on that role (Kubernetes RBAC, "Privilege escalation prevention";
//   pkg/registry/rbac/escalation_check.go, which counts RBAC rules only);
// - a Role cannot exist before its namespace: rules for objects in namespaces the set creates go in a ClusterRole,
//   bound cluster-wide, still by name.
import { SET_RECORD_PREFIX } from '../constants.js';
import type { JsonObject } from '../kube/client.js';
import type { ResourceType } from './discovery.js';
import type { ObjectRef } from './identity.js';

/** An object of a set, as the grants need it. */
export interface GrantedObject {
  readonly ref: ObjectRef;
  readonly type: ResourceType;
  /** The object as written: a binding's roleRef is read from it. */
  readonly object: Readonly<Record<string, unknown>>;
}

/** Whose grants, for which set. */
export interface GrantTarget {
  readonly set: string;
  readonly setNamespace: string;
  /** The Kubernetes group the bindings name: the function's (permissions.yml binds lambda-deployers). */
  readonly group: string;
}

/** The RBAC objects to apply, and what a cluster admin should know about them. */
export interface SetGrantObjects {
  readonly objects: JsonObject[];
  /** Said in the output, as comments: how the rules are scoped. */
  readonly notes: string[];
  /** Rights that are cluster-admin (or namespace-admin) in effect, for stderr. */
  readonly warnings: string[];
}

/** A rule's place: a namespace (a Role there), or the cluster (the ClusterRole). */
type Scope = { readonly namespace: string } | { readonly cluster: true };

interface RuleKey {
  readonly scope: Scope;
  readonly apiGroup: string;
  readonly resource: string;
  readonly verbs: readonly string[];
}

/** What every member needs: read it, apply it (patch, or create when it does not exist), prune and delete it. */
const MEMBER_VERBS = ['get', 'patch', 'create', 'delete'] as const;
const RBAC_GROUP = 'rbac.authorization.k8s.io';
/** Kinds that hand out rights over the whole cluster, whatever their name. */
const CLUSTER_ADMIN_IN_EFFECT: ReadonlyMap<string, string> = new Map([
  ['apiextensions.k8s.io/CustomResourceDefinition', 'defines kinds for the whole cluster'],
  [`${RBAC_GROUP}/ClusterRole`, 'may hold any right (escalate)'],
  [`${RBAC_GROUP}/ClusterRoleBinding`, 'may bind its role to anyone'],
  ['admissionregistration.k8s.io/MutatingWebhookConfiguration', 'sees and may change every object it matches'],
  ['admissionregistration.k8s.io/ValidatingWebhookConfiguration', 'sees every object it matches'],
  ['apiregistration.k8s.io/APIService', 'serves an API group for the whole cluster'],
]);
/** Workloads whose pods may run as any ServiceAccount of their namespace, and so hold its rights. */
const POD_MAKERS: ReadonlySet<string> = new Set([
  '/Pod',
  '/ReplicationController',
  'apps/Deployment',
  'apps/ReplicaSet',
  'apps/StatefulSet',
  'apps/DaemonSet',
  'batch/Job',
  'batch/CronJob',
]);

/** The name of the set's Roles (one in each namespace it has objects in) and their bindings. */
export function setRoleName(set: string): string {
  return `${SET_RECORD_PREFIX}${set}`;
}

/** The name of the set's ClusterRole and its binding: unique in the cluster, as a set is unique in its namespace. */
export function setClusterRoleName(set: string, setNamespace: string): string {
  return `${SET_RECORD_PREFIX.replace(/-$/, '')}:${setNamespace}:${set}`;
}

/** The Roles, ClusterRole and bindings that let the function act on `objects` as set `target.set`: see the file's
 * head. `createdNamespaces` are the Namespaces the set itself holds. */
export function setGrantsFor(
  objects: readonly GrantedObject[],
  target: GrantTarget,
  createdNamespaces: ReadonlySet<string>,
): SetGrantObjects {
  const rules = new Map<string, { key: RuleKey; names: Set<string> }>();
  const add = (scope: Scope, apiGroup: string, resource: string, verbs: readonly string[], name?: string): void => {
    const id = JSON.stringify([scopeId(scope), apiGroup, resource, verbs]);
    const entry = rules.get(id) ?? { key: { scope, apiGroup, resource, verbs }, names: new Set<string>() };
    if (name !== undefined) entry.names.add(name);
    rules.set(id, entry);
  };
  const scopeOf = (namespace: string | undefined): Scope =>
    namespace === undefined || createdNamespaces.has(namespace) ? { cluster: true } : { namespace };

  // The set's record, where it lives.
  add({ namespace: target.setNamespace }, '', 'configmaps', MEMBER_VERBS, `${SET_RECORD_PREFIX}${target.set}`);
  const warnings = new Set<string>();
  const unobserved = new Set<string>();
  for (const { ref, type, object } of objects) {
    const scope = scopeOf(ref.namespace);
    add(scope, type.group, type.plural, MEMBER_VERBS, ref.name);
    const kindKey = `${type.group}/${type.kind}`;
    const why = CLUSTER_ADMIN_IN_EFFECT.get(kindKey);
    if (why !== undefined && !type.custom) {
      warnings.add(`${type.kind} "${ref.name}" ${why}: rights over it are cluster-admin in effect`);
    }
    if (POD_MAKERS.has(kindKey) && ref.namespace !== undefined) {
      warnings.add(
        `${type.kind} "${ref.name}" in namespace "${ref.namespace}" may run pods as any ServiceAccount of that ` +
          'namespace, and so has their rights',
      );
    }
    if (kindKey === 'apps/Deployment' && ref.namespace !== undefined) {
      if ('namespace' in scope) {
        // The rollout diagnostics: the pods of the current ReplicaSet, found through it.
        add(scope, '', 'pods', ['list']);
        add(scope, 'apps', 'replicasets', ['list']);
      } else {
        unobserved.add(ref.namespace);
      }
    }
    if (type.group === RBAC_GROUP && (type.kind === 'Role' || type.kind === 'ClusterRole')) {
      add(scope, RBAC_GROUP, type.plural, ['escalate'], ref.name);
      if (type.kind === 'Role') {
        warnings.add(`Role "${ref.name}" in namespace "${ref.namespace ?? ''}" may hold any right in its namespace`);
      }
    }
    if (type.group === RBAC_GROUP && (type.kind === 'RoleBinding' || type.kind === 'ClusterRoleBinding')) {
      const roleRef = recordOf(object['roleRef']);
      const kind = roleRef['kind'];
      const name = roleRef['name'];
      if ((kind === 'Role' || kind === 'ClusterRole') && typeof name === 'string') {
        add(scope, RBAC_GROUP, kind === 'Role' ? 'roles' : 'clusterroles', ['bind'], name);
      }
    }
  }

  const notes = [
    `The RBAC that lets a function of group "${target.group}" apply, prune, read and delete set "${target.set}" ` +
      `(its record: ConfigMap ${SET_RECORD_PREFIX}${target.set} in namespace "${target.setNamespace}"), and nothing ` +
      'else: every right by object name; list only on pods and ReplicaSets where the set has Deployments.',
    'Pruning an object needs its rights: make these from every manifest the set has had since they were last applied.',
  ];
  if (createdNamespaces.size > 0) {
    notes.push(
      `Objects in namespaces the set creates (${[...createdNamespaces].sort().join(', ')}) get their rules from ` +
        `ClusterRole ${setClusterRoleName(target.set, target.setNamespace)}, bound cluster-wide (a Role cannot ` +
        'exist before its namespace): still by name, so they also allow objects of those names in other namespaces.',
    );
  }
  if (unobserved.size > 0) {
    notes.push(
      `Deployments in namespaces the set creates (${[...unobserved].sort().join(', ')}) are judged without pod ` +
        'diagnostics (no list right there), as the Deployment actions are without the observe grant.',
    );
  }
  return { objects: rbacObjects([...rules.values()], target), notes, warnings: [...warnings].sort() };
}

function rbacObjects(rules: readonly { key: RuleKey; names: Set<string> }[], target: GrantTarget): JsonObject[] {
  const labels = {
    'app.kubernetes.io/managed-by': 'lambda-eks',
    'lambda-eks/grant': 'set',
    'lambda-eks/set': target.set,
    'lambda-eks/set-namespace': target.setNamespace,
  };
  const subjects = [{ apiGroup: RBAC_GROUP, kind: 'Group', name: target.group }];
  const byScope = new Map<string, { scope: Scope; rules: JsonObject[] }>();
  for (const { key, names } of rules) {
    const id = scopeId(key.scope);
    const entry = byScope.get(id) ?? { scope: key.scope, rules: [] };
    entry.rules.push({
      apiGroups: [key.apiGroup],
      resources: [key.resource],
      ...(names.size > 0 ? { resourceNames: [...names].sort() } : {}),
      verbs: [...key.verbs],
    });
    byScope.set(id, entry);
  }
  const scopes = [...byScope.values()].sort((a, b) => (scopeId(a.scope) < scopeId(b.scope) ? -1 : 1));
  return scopes.flatMap(({ scope, rules: scoped }): JsonObject[] => {
    const sorted = scoped.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    if ('namespace' in scope) {
      const metadata = { name: setRoleName(target.set), namespace: scope.namespace, labels };
      return [
        { apiVersion: `${RBAC_GROUP}/v1`, kind: 'Role', metadata, rules: sorted },
        {
          apiVersion: `${RBAC_GROUP}/v1`,
          kind: 'RoleBinding',
          metadata,
          roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: setRoleName(target.set) },
          subjects,
        },
      ];
    }
    const name = setClusterRoleName(target.set, target.setNamespace);
    return [
      { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata: { name, labels }, rules: sorted },
      {
        apiVersion: `${RBAC_GROUP}/v1`,
        kind: 'ClusterRoleBinding',
        metadata: { name, labels },
        roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name },
        subjects,
      },
    ];
  });
}

/** Cluster first, then namespaces by name. */
function scopeId(scope: Scope): string {
  return 'namespace' in scope ? `1/${scope.namespace}` : '0/';
}

function recordOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : {};
}
