import { describe, expect, it } from '@jest/globals';
import { useCluster } from '../support/cluster.js';
import { deploymentPath, foreignDeployment, hold, release } from '../support/cluster-objects.js';
import { at } from '../support/json.js';
import { restPath } from '../support/kube-admin.js';
import { until } from '../support/until.js';

// Action delete, against the real server: only Deployments this function created or applied, only the object that
// was checked (a uid precondition kube-apiserver enforces), "absent" rather than an error when there is nothing to
// delete, and with wait a foreground deletion that the garbage collector carries out.
const scope = useCluster();
const namespace = () => scope.ns('default');
const stored = (name: string) => scope.admin.get(deploymentPath(namespace(), name));
const statuses = () => scope.proxy.requests.map((request) => `${request.method} ${request.status}`);
const deleteOptions = (index: number): unknown => JSON.parse(scope.proxy.requests[index]?.body ?? 'null');

/** A Deployment as Helm makes it (server-side applied by field manager helm, labelled managed-by Helm unless other
 * labels are given); answers its uid. */
async function helmDeployment(
  name: string,
  labels: Record<string, string> = { 'app.kubernetes.io/managed-by': 'Helm' },
): Promise<string | undefined> {
  const object = foreignDeployment(namespace(), name, labels);
  return (await scope.admin.apply(deploymentPath(namespace(), name), object, 'helm')).metadata?.uid;
}

describe('action delete', () => {
  it('deletes, then reports absent the second time', async () => {
    const lambda = await scope.environment();
    const created = await lambda.invoke({ name: 'web' });

    const first = await lambda.invoke({ action: 'delete', name: 'web' });
    const second = await lambda.invoke({ action: 'delete', name: 'web' });

    expect(created).toMatchObject({ ok: true, result: { uid: expect.any(String) } });
    expect(first).toEqual(
      expect.objectContaining({
        ok: true,
        result: { status: 'deleted', name: 'web', namespace: namespace(), uid: created.ok && created.result['uid'] },
      }),
    );
    expect(second).toEqual(
      expect.objectContaining({ ok: true, result: { status: 'absent', name: 'web', namespace: namespace() } }),
    );
    expect(await stored('web')).toBeUndefined();
  });

  it('sends the uid it checked as a precondition, with background propagation, in two requests', async () => {
    const lambda = await scope.environment();
    const created = await lambda.invoke({ name: 'web' });
    const from = scope.proxy.requests.length;

    await lambda.invoke({ action: 'delete', name: 'web' });

    expect(statuses().slice(from)).toEqual(['GET 200', 'DELETE 200']);
    expect(deleteOptions(from + 1)).toMatchObject({
      propagationPolicy: 'Background',
      preconditions: { uid: created.ok ? created.result['uid'] : 'the uid create reported' },
    });
  });

  it('waits, with foreground deletion, until the Deployment and its pods are gone', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web', wait: true }, 10_000);
    expect(await scope.admin.list(restPath('v1', 'pods', namespace()))).toHaveLength(2);
    const from = scope.proxy.requests.length;

    const deleted = await lambda.invoke({ action: 'delete', name: 'web', wait: true }, 10_000);

    expect(deleted).toMatchObject({ ok: true, result: { status: 'deleted' } });
    expect(deleteOptions(from + 1)).toMatchObject({ propagationPolicy: 'Foreground' });
    expect(await stored('web')).toBeUndefined();
    expect(await scope.admin.list(restPath('v1', 'pods', namespace()))).toEqual([]);
    expect(await scope.admin.list(restPath('apps/v1', 'replicasets', namespace()))).toEqual([]);
  });

  it('fails with RolloutTimeoutError when the deletion outlasts the invocation, and the deletion goes on', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    // Another party's finalizer keeps the Deployment after the garbage collector has done its part.
    await hold(scope.admin, deploymentPath(namespace(), 'web'));
    try {
      const invocation = await lambda.invoke({ action: 'delete', name: 'web', wait: true }, 3000);

      expect(invocation).toMatchObject({ ok: false, errorType: 'RolloutTimeoutError' });
      expect(!invocation.ok && invocation.errorMessage).toMatch(
        new RegExp(`deployment ${namespace()}/web is still being deleted after .* the deletion goes on`),
      );
      expect(invocation.durationMs).toBeLessThan(3000);
      expect(at(await stored('web'), 'metadata', 'deletionTimestamp')).toBeDefined();
    } finally {
      await release(scope.admin, deploymentPath(namespace(), 'web'));
    }
    await scope.admin.waitFor(deploymentPath(namespace(), 'web'), (object) => object === undefined, 'the deletion');
  });

  it('waits for the Deployment it deleted, not for another made under the same name meanwhile', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    const path = deploymentPath(namespace(), 'web');
    const oldUid = (await stored('web'))?.metadata?.uid;
    await hold(scope.admin, path);
    const deleting = lambda.invoke({ action: 'delete', name: 'web', wait: true }, 20_000);
    await scope.admin.waitFor(
      path,
      (object) => at(object, 'metadata', 'deletionTimestamp') !== undefined,
      'the delete',
    );

    // The old one goes; a new one of the same name (labelled as the function's own) comes at once.
    await release(scope.admin, path);
    await scope.admin.waitFor(path, (object) => object === undefined, 'the old Deployment to go');
    const newUid = (
      await scope.admin.create(
        restPath('apps/v1', 'deployments', namespace()),
        foreignDeployment(namespace(), 'web', { 'app.kubernetes.io/managed-by': 'lambda-eks' }),
      )
    ).metadata?.uid;
    const invocation = await deleting;

    expect(invocation).toMatchObject({ ok: true, result: { status: 'deleted', uid: oldUid } });
    expect(invocation.durationMs).toBeLessThan(15_000);
    expect((await stored('web'))?.metadata?.uid).toBe(newUid);
  }, 40_000);

  it.each([
    ['it did not make', { 'app.kubernetes.io/managed-by': 'Helm' }, 'app.kubernetes.io/managed-by label says "Helm"'],
    ['it did not make, unlabelled', {}, 'it has no app.kubernetes.io/managed-by label'],
  ])(
    'refuses a Deployment %s, with NotManagedError naming it and its manager, and changes nothing',
    async (_label, labels, who) => {
      const uid = await helmDeployment('theirs', labels);
      const lambda = await scope.environment();

      const refused = await lambda.invoke({ action: 'delete', name: 'theirs' });

      expect(refused).toMatchObject({ ok: false, errorType: 'NotManagedError' });
      const message = refused.ok ? '' : refused.errorMessage;
      expect(message).toContain(`deployment ${namespace()}/theirs`);
      expect(message).toContain(who);
      // The field managers as the server records them: helm, and any the server added (the deployment controller's
      // status writes).
      expect(message).toMatch(/field managers: [^)]*\bhelm\b/);
      const after = await stored('theirs');
      expect(after?.metadata?.uid).toBe(uid);
      expect(at(after, 'metadata', 'deletionTimestamp')).toBeUndefined();
      expect(statuses()).toEqual(['GET 200']);
    },
  );

  it.each([
    ['an existing Deployment', true, 'deleted'],
    ['an absent one', false, 'absent'],
  ])('previews the delete of %s with dryRun, deleting nothing', async (_label, exists, wouldBe) => {
    const lambda = await scope.environment();
    const created = exists ? await lambda.invoke({ name: 'web' }) : undefined;
    const from = scope.proxy.requests.length;

    const preview = await lambda.invoke({ action: 'delete', name: 'web', dryRun: true });

    expect(preview).toMatchObject({ ok: true, result: { status: 'dry-run', wouldBe } });
    expect((await stored('web'))?.metadata?.uid).toBe(created?.ok ? created.result['uid'] : undefined);
    expect(statuses().slice(from)).toEqual(exists ? ['GET 200', 'DELETE 200'] : ['GET 404']);
    if (exists) expect(scope.proxy.requests[from + 1]?.query.getAll('dryRun')).toEqual(['All']);
  });

  it('reports deleted, not absent, when its own delete went through and only the answer was lost', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    const from = scope.proxy.requests.length;
    // The GET is answered; the DELETE reaches the server, which deletes, then the connection drops before the answer.
    scope.proxy.inject([{ kind: 'lose-answer' }], ({ method }) => method === 'DELETE');

    const deleted = await lambda.invoke({ action: 'delete', name: 'web' });

    expect(deleted).toMatchObject({ ok: true, result: { status: 'deleted' } });
    expect(statuses().slice(from)).toEqual(['GET 200', 'DELETE 0', 'DELETE 404']);
    expect(await stored('web')).toBeUndefined();
  });

  it('never deletes a Deployment that replaced the one it checked between its read and its delete', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    const from = scope.proxy.requests.length;
    // The server answers the function's GET at once, but the proxy holds the answer 1.5 s, during which someone else
    // deletes the Deployment and creates one of the same name that this function does not manage.
    scope.proxy.inject([{ kind: 'delay', ms: 1500 }], ({ method }) => method === 'GET');
    const invocation = lambda.invoke({ action: 'delete', name: 'web' });
    await until(() => scope.proxy.requests.length > from, 'the GET');
    // Time for the server to answer the GET before it changes (it answers in milliseconds; the proxy holds it on).
    await new Promise((resolve) => setTimeout(resolve, 300));
    await scope.admin.delete(deploymentPath(namespace(), 'web'));
    const replacement = await helmDeployment('web');

    const refused = await invocation;

    expect(refused).toMatchObject({ ok: false, errorType: 'NotManagedError' });
    // The DELETE with the checked uid fails its precondition (409); the function reads again and refuses.
    expect(statuses().slice(from)).toEqual(['GET 200', 'DELETE 409', 'GET 200']);
    const after = await stored('web');
    expect(after?.metadata?.uid).toBe(replacement);
    expect(after?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
  });
});
