// RBAC as the authorizer sees it: rules bound to a user or a group, in one namespace (a RoleBinding) or in all
// (a ClusterRoleBinding). A request is allowed when any rule matches its verb, API group, resource and namespace
// (plugin/pkg/auth/authorizer/rbac/rbac.go, RuleAllows).

export type Verb = 'create' | 'get' | 'list' | 'watch' | 'update' | 'patch' | 'delete' | 'deletecollection';

export const ALL_VERBS: readonly Verb[] = [
  'create',
  'get',
  'list',
  'watch',
  'update',
  'patch',
  'delete',
  'deletecollection',
];

export interface RbacRule {
  /** Who the binding names: a group (`system:masters`, an access entry's group) or a user name. */
  readonly subject: { readonly kind: 'Group' | 'User'; readonly name: string };
  /** The RoleBinding's namespace; undefined for a ClusterRoleBinding (every namespace, and cluster scope). */
  readonly namespace?: string;
  /** The API group (`apps`, or `""` for the core group), or `*`. */
  readonly apiGroup: string;
  /** The resource (`deployments`, `pods`, `deployments/status`), or `*`. */
  readonly resource: string;
  readonly verbs: readonly Verb[] | '*';
}

export interface Attributes {
  readonly user: string;
  readonly groups: readonly string[];
  readonly verb: Verb;
  readonly apiGroup: string;
  readonly resource: string;
  /** Empty for a cluster-scoped request (a list across namespaces). */
  readonly namespace: string;
}

export class Rbac {
  private rules: RbacRule[];

  constructor(rules: readonly RbacRule[] = []) {
    this.rules = [...rules];
  }

  /** Adds a rule, as a new RoleBinding (or ClusterRoleBinding) would. */
  grant(rule: RbacRule): void {
    this.rules.push(rule);
  }

  /** Removes the verbs of `rule` from every rule with the same subject, namespace, group and resource. */
  revoke(rule: RbacRule): void {
    this.rules = this.rules.flatMap((existing) => {
      const same =
        existing.subject.kind === rule.subject.kind &&
        existing.subject.name === rule.subject.name &&
        existing.namespace === rule.namespace &&
        existing.apiGroup === rule.apiGroup &&
        existing.resource === rule.resource;
      if (!same) return [existing];
      if (rule.verbs === '*') return [];
      const removed = rule.verbs;
      const left = (existing.verbs === '*' ? ALL_VERBS : existing.verbs).filter((verb) => !removed.includes(verb));
      return left.length > 0 ? [{ ...existing, verbs: left }] : [];
    });
  }

  /** Replaces every rule. */
  reset(rules: readonly RbacRule[]): void {
    this.rules = [...rules];
  }

  allows(request: Attributes): boolean {
    // The bootstrap ClusterRoleBinding cluster-admin binds every verb on every resource to the group system:masters
    // (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go); no rule of a test can take that away.
    if (request.groups.includes('system:masters')) {
      return true;
    }
    return this.rules.some((rule) => {
      const subject =
        rule.subject.kind === 'User' ? rule.subject.name === request.user : request.groups.includes(rule.subject.name);
      const namespace =
        rule.namespace === undefined || (request.namespace !== '' && rule.namespace === request.namespace);
      return (
        subject &&
        namespace &&
        (rule.apiGroup === '*' || rule.apiGroup === request.apiGroup) &&
        (rule.resource === '*' || rule.resource === request.resource) &&
        (rule.verbs === '*' || rule.verbs.includes(request.verb))
      );
    });
  }
}

/** The reason the Forbidden filter gives (responsewriters/errors.go, forbiddenMessage). */
export function forbiddenReason(request: Attributes): string {
  const scope =
    request.namespace === '' ? 'at the cluster scope' : `in the namespace ${JSON.stringify(request.namespace)}`;
  return (
    `User ${JSON.stringify(request.user)} cannot ${request.verb} resource ${JSON.stringify(request.resource)} ` +
    `in API group ${JSON.stringify(request.apiGroup)} ${scope}`
  );
}
