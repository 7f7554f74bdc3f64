import { describe, expect, it } from '@jest/globals';
import { mintEksToken } from '../../src/aws/token.js';
import { ACCESS_KEY_ID, CLUSTER_NAME, SECRET_ACCESS_KEY, SESSION_TOKEN } from '../support/fixture.js';
import { useTestBed } from '../support/hooks.js';
import { at } from '../support/json.js';
import type { JsonObject } from '../support/kube-apiserver.js';
import { wire } from '../support/kube-client.js';

// Action delete: only Deployments this function created or applied, only the object that was checked, and
// "absent" rather than an error when there is nothing to delete.
const scope = useTestBed({ overrides: { cluster: { observeDelayMs: 20, podReadyDelayMs: 50, terminationMs: 300 } } });
const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SESSION_TOKEN };

/** A Deployment as Helm makes it: labelled managed-by Helm. */
function unmanaged(name: string): JsonObject {
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/managed-by': 'Helm' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.30.0' }] } },
    },
  };
}

describe('action delete', () => {
  it('deletes, then reports absent the second time', async () => {
    const lambda = await scope.environment();
    const created = await lambda.invoke({ name: 'web' });

    const first = await lambda.invoke({ action: 'delete', name: 'web' });
    const second = await lambda.invoke({ action: 'delete', name: 'web' });

    expect(first).toEqual(
      expect.objectContaining({
        ok: true,
        result: { status: 'deleted', name: 'web', namespace: 'default', uid: created.ok && created.result['uid'] },
      }),
    );
    expect(second).toEqual(
      expect.objectContaining({ ok: true, result: { status: 'absent', name: 'web', namespace: 'default' } }),
    );
    expect(scope.bed.server.deployment('default', 'web')).toBeUndefined();
  });

  it('sends the uid it checked as a precondition, with background propagation, in two requests', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    scope.bed.server.requests.length = 0;

    await lambda.invoke({ action: 'delete', name: 'web' });

    expect(scope.bed.server.requests.map((request) => `${request.method} ${request.status}`)).toEqual([
      'GET 200',
      'DELETE 200',
    ]);
  });

  it('waits, with foreground deletion, until the Deployment and its pods are gone', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web', wait: true }, 10_000);
    expect(scope.bed.server.pods('default').length).toBe(2);

    const deleted = await lambda.invoke({ action: 'delete', name: 'web', wait: true }, 10_000);

    expect(deleted).toMatchObject({ ok: true, result: { status: 'deleted' } });
    expect(scope.bed.server.deployment('default', 'web')).toBeUndefined();
    expect(scope.bed.server.pods('default')).toEqual([]);
    expect(scope.bed.server.replicaSets('default')).toEqual([]);
  });

  it('refuses a Deployment it did not make, with NotManagedError naming it and its manager, and changes nothing', async () => {
    expect(scope.bed.server.applyAs('helm', unmanaged('theirs')).status).toBe(201);
    const lambda = await scope.environment();

    const refused = await lambda.invoke({ action: 'delete', name: 'theirs' });

    expect(refused).toMatchObject({ ok: false, errorType: 'NotManagedError' });
    const message = refused.ok ? '' : refused.errorMessage;
    expect(message).toContain('deployment default/theirs');
    expect(message).toContain('app.kubernetes.io/managed-by label says "Helm"');
    expect(message).toContain('field managers: helm');
    expect(scope.bed.server.deployment('default', 'theirs')).toBeDefined();
    expect(scope.bed.server.requests.map((request) => request.method)).toEqual(['GET']);
  });

  it.each([
    ['an existing Deployment', true, 'deleted'],
    ['an absent one', false, 'absent'],
  ])('previews the delete of %s with dryRun, deleting nothing', async (_label, exists, wouldBe) => {
    const lambda = await scope.environment();
    if (exists) await lambda.invoke({ name: 'web' });

    const preview = await lambda.invoke({ action: 'delete', name: 'web', dryRun: true });

    expect(preview).toMatchObject({ ok: true, result: { status: 'dry-run', wouldBe } });
    expect(scope.bed.server.deployment('default', 'web') !== undefined).toBe(exists);
  });

  it('reports deleted, not absent, when its own delete went through and only the answer was lost', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    // The GET is answered; the DELETE is carried out, then the connection drops before the answer.
    scope.bed.server.inject({ kind: 'delay', ms: 0 }, { kind: 'drop-after-create' });

    const deleted = await lambda.invoke({ action: 'delete', name: 'web' });

    expect(deleted).toMatchObject({ ok: true, result: { status: 'deleted' } });
    expect(scope.bed.server.deployment('default', 'web')).toBeUndefined();
  });

  it('never deletes a Deployment that replaced the one it checked between its read and its delete', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    // The function's GET is answered at once; its DELETE is held 800 ms, during which someone else deletes the
    // Deployment and creates one of the same name that this function does not manage.
    scope.bed.server.inject({ kind: 'delay', ms: 0 }, { kind: 'delay', ms: 800 });
    const invocation = lambda.invoke({ action: 'delete', name: 'web' });
    for (let waited = 0; !scope.bed.server.requests.some((r) => r.method === 'DELETE') && waited < 3000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const token = await mintEksToken({
      credentials,
      region: 'us-west-2',
      clusterName: CLUSTER_NAME,
      signingDate: new Date(),
    });
    const send = wire(scope.bed.server.url, scope.bed.pki.ca.cert, token);
    const path = '/apis/apps/v1/namespaces/default/deployments';
    expect((await send('DELETE', `${path}/web`)).status).toBe(200);
    expect((await send('POST', path, { body: unmanaged('web') })).status).toBe(201);

    const refused = await invocation;

    expect(refused).toMatchObject({ ok: false, errorType: 'NotManagedError' });
    expect(
      at(scope.bed.server.deployment('default', 'web'), 'metadata', 'labels', 'app.kubernetes.io/managed-by'),
    ).toBe('Helm');
  });
});
