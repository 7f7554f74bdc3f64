import { describe, expect, it } from '@jest/globals';
import { useCluster } from '../support/cluster.js';
import { ROLE_USER } from '../support/fixture.js';
import { deploymentPath } from '../support/cluster-objects.js';
import type { Invocation } from '../support/lambda.js';
import type { GrantName } from '../support/local-cluster.js';

// Least privilege, per action, against real RBAC: each namespace holds exactly the Roles and RoleBindings of
// permissions.yml that `kubectl apply -n <ns> -f permissions.yml -l lambda-eks/grant=<grant>` makes, and the function
// runs as its own identity (its role, mapped to the group those bindings name). Each action works with its grants,
// and a missing grant is a ClusterAuthorizationError that names the action, the refused verb and the command, and
// quotes kube-apiserver's own 403.
const scope = useCluster({
  namespaces: {
    none: [],
    create: ['create'],
    apply: ['apply'],
    'create-observe': ['create', 'observe'],
  },
});
type Alias = 'none' | 'create' | 'apply' | 'create-observe';
const statuses = () => scope.proxy.requests.map((request) => `${request.method} ${request.status}`);

function expectRefusal(invocation: Invocation, action: string, verb: string, needed: GrantName, namespace: string) {
  expect(invocation).toMatchObject({ ok: false, errorType: 'ClusterAuthorizationError' });
  const message = invocation.ok ? '' : invocation.errorMessage;
  expect(message).toContain(`refused action "${action}": RBAC does not let the function ${verb}`);
  expect(message).toContain(`in namespace "${namespace}"`);
  expect(message).toContain(`kubectl apply -n ${namespace} -f permissions.yml -l lambda-eks/grant=${needed}`);
  return message;
}

describe('the grants of permissions.yml', () => {
  it('lets create work with the create grant alone, the default', async () => {
    const namespace = scope.ns('create');
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web', namespace });

    const stored = await scope.admin.get(deploymentPath(namespace, 'web'));
    expect(invocation).toMatchObject({ ok: true, result: { status: 'created', uid: stored?.metadata?.uid } });
  });

  it.each<[string, Alias, Record<string, unknown>, string, string, GrantName, string[], string]>([
    [
      'create without the create grant',
      'none',
      { name: 'web' },
      'create',
      'create deployments.apps',
      'create',
      ['POST 403'],
      'cannot create resource "deployments" in API group "apps"',
    ],
    [
      'apply without the apply grant',
      'create',
      { action: 'apply', name: 'web' },
      'apply',
      'get deployments.apps',
      'apply',
      ['GET 403'],
      'cannot get resource "deployments" in API group "apps"',
    ],
    [
      'apply of a new Deployment without create',
      'apply',
      { action: 'apply', name: 'web' },
      'apply',
      'create',
      'create',
      ['GET 404', 'PATCH 403'],
      // kube-apiserver authorizes the create an apply would make on its own, and refuses it in RBAC's words
      // (k8s.io/apiserver pkg/endpoints/handlers/update.go, withAuthorization): the grant it lacks is create.
      'cannot create resource "deployments" in API group "apps"',
    ],
    [
      'get without the observe grant',
      'create',
      { action: 'get', name: 'web' },
      'get',
      'get deployments.apps',
      'observe',
      ['GET 403'],
      'cannot get resource "deployments" in API group "apps"',
    ],
    [
      'delete without the delete grant',
      'create',
      { action: 'delete', name: 'web' },
      'delete',
      'get deployments.apps',
      'delete',
      ['GET 403'],
      'cannot get resource "deployments" in API group "apps"',
    ],
  ])('names the grant for %s', async (_label, alias, event, action, verb, needed, requests, serverSaid) => {
    const namespace = scope.ns(alias);
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ ...event, namespace });

    const message = expectRefusal(invocation, action, verb, needed, namespace);
    expect(message).toContain(`User "${ROLE_USER}" ${serverSaid} in the namespace "${namespace}"`);
    expect(statuses()).toEqual(requests);
    expect(await scope.admin.get(deploymentPath(namespace, 'web'))).toBeUndefined();
  });

  it('names the observe grant when create may create but not wait; the Deployment is created', async () => {
    const namespace = scope.ns('create');
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ name: 'web', namespace, wait: true }, 10_000);

    const message = expectRefusal(invocation, 'create', 'get deployments.apps', 'observe', namespace);
    expect(message).toContain(`User "${ROLE_USER}" cannot get resource "deployments" in API group "apps"`);
    expect(statuses()).toEqual(['POST 201', 'GET 403']);
    expect(await scope.admin.get(deploymentPath(namespace, 'web'))).toBeDefined();
  });

  it('names the delete grant when the delete itself is refused, after the managed-by check passed', async () => {
    // observe lets the function get the Deployment, so the check passes and the DELETE is what RBAC refuses.
    const namespace = scope.ns('create-observe');
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web', namespace });

    const refused = await lambda.invoke({ action: 'delete', name: 'web', namespace });

    const message = expectRefusal(refused, 'delete', 'delete deployments.apps', 'delete', namespace);
    expect(message).toContain(`User "${ROLE_USER}" cannot delete resource "deployments" in API group "apps"`);
    expect(statuses()).toEqual(['POST 201', 'GET 200', 'DELETE 403']);
    const stored = await scope.admin.get(deploymentPath(namespace, 'web'));
    expect(stored?.metadata?.['deletionTimestamp']).toBeUndefined();
  });

  it('lets every action, and wait, work with all four grants', async () => {
    // "default" has every grant.
    const namespace = scope.ns('default');
    const lambda = await scope.environment();

    const outcomes = [];
    for (const event of [
      { name: 'web', wait: true },
      { action: 'apply', name: 'web', replicas: 3, wait: true },
      { action: 'get', name: 'web' },
      { action: 'delete', name: 'web', wait: true },
    ]) {
      const invocation = await lambda.invoke({ ...event, namespace }, 10_000);
      outcomes.push(invocation.ok ? invocation.result['status'] : invocation.errorMessage);
    }

    expect(outcomes).toEqual(['created', 'configured', 'found', 'deleted']);
    expect(scope.proxy.requests.filter(({ status }) => status === 403)).toEqual([]);
    expect(await scope.admin.get(deploymentPath(namespace, 'web'))).toBeUndefined();
  });
});
