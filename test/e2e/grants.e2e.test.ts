import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { GROUP } from '../support/fixture.js';
import { useTestBed } from '../support/hooks.js';
import { at } from '../support/json.js';
import type { RbacRule, Verb } from '../support/kube-apiserver.js';
import { ALL_VERBS } from '../support/kube-apiserver/rbac.js';
import { PROJECT_ROOT } from '../support/lambda.js';

// Least privilege, per action: the stand-in's RBAC holds exactly the Roles of permissions.yml that a test grants,
// as `kubectl apply -n default -f permissions.yml -l lambda-eks/grant=<grant>` would. Each action works with its
// grants, and a missing grant is a ClusterAuthorizationError that names the action, the refused verb and the command.
type Grant = 'create' | 'apply' | 'observe' | 'delete';

const roles = parseAllDocuments(readFileSync(join(PROJECT_ROOT, 'permissions.yml'), 'utf8'))
  .map((document): unknown => document.toJS())
  .filter((object) => at(object, 'kind') === 'Role');

function rulesOf(grant: Grant): RbacRule[] {
  const role = roles.find((object) => at(object, 'metadata', 'labels', 'lambda-eks/grant') === grant);
  const rules = at(role, 'rules');
  return (Array.isArray(rules) ? rules : []).flatMap((rule: unknown) => {
    const groups = at(rule, 'apiGroups');
    const resources = at(rule, 'resources');
    const verbs = at(rule, 'verbs');
    return (Array.isArray(groups) ? groups : []).flatMap((apiGroup: unknown) =>
      (Array.isArray(resources) ? resources : []).map((resource: unknown): RbacRule => ({
        subject: { kind: 'Group', name: GROUP },
        namespace: 'default',
        apiGroup: String(apiGroup),
        resource: String(resource),
        verbs: ALL_VERBS.filter((verb: Verb) => Array.isArray(verbs) && verbs.includes(verb)),
      })),
    );
  });
}

const scope = useTestBed({ overrides: { rbac: [], cluster: { observeDelayMs: 20, podReadyDelayMs: 300 } } });

function grant(...grants: Grant[]): void {
  for (const rule of grants.flatMap(rulesOf)) scope.bed.server.rbac.grant(rule);
}

function expectRefusal(
  invocation: { ok: boolean; errorType?: string; errorMessage?: string },
  action: string,
  verb: string,
  needed: Grant,
): void {
  expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterAuthorizationError' });
  const message = invocation.errorMessage ?? '';
  expect(message).toContain(`refused action "${action}": RBAC does not let the function ${verb}`);
  expect(message).toContain(`kubectl apply -n default -f permissions.yml -l lambda-eks/grant=${needed}`);
}

describe('the grants of permissions.yml', () => {
  it('lets create work with the create grant alone, the default', async () => {
    grant('create');
    const lambda = await scope.environment();

    expect(await lambda.invoke({ name: 'web' })).toMatchObject({ ok: true, result: { status: 'created' } });
  });

  it.each<[string, Grant[], Record<string, unknown>, string, string, Grant]>([
    ['create without the create grant', [], { name: 'web' }, 'create', 'create deployments.apps', 'create'],
    [
      'apply without the apply grant',
      ['create'],
      { action: 'apply', name: 'web' },
      'apply',
      'get deployments.apps',
      'apply',
    ],
    [
      'apply of a new Deployment without create',
      ['apply'],
      { action: 'apply', name: 'web' },
      'apply',
      'create',
      'create',
    ],
    [
      'get without the observe grant',
      ['create'],
      { action: 'get', name: 'web' },
      'get',
      'get deployments.apps',
      'observe',
    ],
    [
      'delete without the delete grant',
      ['create'],
      { action: 'delete', name: 'web' },
      'delete',
      'get deployments.apps',
      'delete',
    ],
  ])('names the grant for %s', async (_label, grants, event, action, verb, needed) => {
    grant(...grants);
    const lambda = await scope.environment();

    expectRefusal(await lambda.invoke(event), action, verb, needed);
  });

  it('names the observe grant when create may create but not wait; the Deployment is created', async () => {
    grant('create');
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web', wait: true }, 10_000);

    expectRefusal(invocation, 'create', 'get deployments.apps', 'observe');
    expect(scope.bed.server.deployment('default', 'web')).toBeDefined();
  });

  it('names the delete grant when the delete itself is refused, after the managed-by check passed', async () => {
    grant('create', 'observe');
    scope.bed.server.grant('default', 'apps', 'deployments', ['get'], GROUP);
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });

    expectRefusal(
      await lambda.invoke({ action: 'delete', name: 'web' }),
      'delete',
      'delete deployments.apps',
      'delete',
    );
    expect(scope.bed.server.deployment('default', 'web')).toBeDefined();
  });

  it('lets every action, and wait, work with all four grants', async () => {
    grant('create', 'apply', 'observe', 'delete');
    const lambda = await scope.environment();

    for (const [event, status] of [
      [{ name: 'web', wait: true }, 'created'],
      [{ action: 'apply', name: 'web', replicas: 3, wait: true }, 'configured'],
      [{ action: 'get', name: 'web' }, 'found'],
      [{ action: 'delete', name: 'web', wait: true }, 'deleted'],
    ] as const) {
      expect(await lambda.invoke(event, 10_000)).toMatchObject({ ok: true, result: { status } });
    }
  });
});
