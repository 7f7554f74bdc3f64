import { describe, expect, it } from '@jest/globals';
import { buildDeployment } from '../../src/deployment/build.js';
import { useCluster } from '../support/cluster.js';
import { deploymentPath } from '../support/cluster-objects.js';
import { at } from '../support/json.js';

// Action apply: server-side apply of the Deployment the event describes, reported as created, configured or
// unchanged; against the real kube-apiserver, which keeps managedFields per manager and operation, and its
// deployment controller, which writes the status (and so the resourceVersion) on its own.
const scope = useCluster();
const path = (name: string) => deploymentPath(scope.ns('default'), name);
const stored = (name: string) => scope.admin.get(path(name));
/** What an apply can change: the spec, the generation, the labels. The controller's status updates change
 * resourceVersion, annotations and managedFields on their own. */
const applied = async (name: string): Promise<unknown> => {
  const object = await stored(name);
  return {
    spec: at(object, 'spec'),
    generation: at(object, 'metadata', 'generation'),
    labels: at(object, 'metadata', 'labels'),
  };
};
const managers = async (name: string): Promise<unknown[]> => {
  const entries = at(await stored(name), 'metadata', 'managedFields');
  return (Array.isArray(entries) ? entries : []).map((entry: unknown) => [
    at(entry, 'manager'),
    at(entry, 'operation'),
  ]);
};
const statuses = (from = 0) => scope.proxy.requests.slice(from).map((request) => `${request.method} ${request.status}`);

describe('action apply', () => {
  it('creates an absent Deployment, with field manager lambda-eks (Apply)', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ action: 'apply', name: 'web', replicas: 3 });

    expect(invocation).toMatchObject({
      ok: true,
      result: { status: 'created', name: 'web', namespace: scope.ns('default'), replicas: 3, image: 'nginx:1.30.0' },
    });
    expect(invocation.ok && invocation.result['uid']).toBe((await stored('web'))?.metadata?.uid);
    expect(await managers('web')).toContainEqual(['lambda-eks', 'Apply']);
    expect(await managers('web')).not.toContainEqual(['lambda-eks', 'Update']);
    expect(statuses()).toEqual(['GET 404', 'PATCH 201']);
    const patch = scope.proxy.requests[1];
    expect(patch?.contentType).toBe('application/apply-patch+yaml');
    expect(patch?.query.get('fieldManager')).toBe('lambda-eks');
    expect(patch?.query.get('force')).toBeNull();
  });

  it('is unchanged, with two requests and nothing written, when applied twice', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ action: 'apply', name: 'web', wait: true }, 10_000);
    const before = await applied('web');
    const version = (await stored('web'))?.metadata?.resourceVersion;
    const from = scope.proxy.requests.length;

    const again = await lambda.invoke({ action: 'apply', name: 'web' });

    expect(again).toMatchObject({ ok: true, result: { status: 'unchanged' } });
    expect(await applied('web')).toEqual(before);
    // The rollout is over, so the controller is quiet: a no-op apply writes nothing at all.
    expect((await stored('web'))?.metadata?.resourceVersion).toBe(version);
    expect(statuses(from)).toEqual(['GET 200', 'PATCH 200']);
  });

  it('converges a Deployment made by create to a new image, without a conflict with its own create', async () => {
    const lambda = await scope.environment();
    // Its rollout over, the deployment controller no longer writes the status, so the resourceVersion the function
    // reads stays current until its forced apply (a status write in between would cost it another round).
    await lambda.invoke({ name: 'web', wait: true }, 10_000);
    const generation = Number(at(await stored('web'), 'metadata', 'generation'));
    const from = scope.proxy.requests.length;

    const converged = await lambda.invoke({ action: 'apply', name: 'web', image: 'nginx:1.31.0', wait: true }, 10_000);

    expect(converged).toMatchObject({
      ok: true,
      result: { status: 'configured', image: 'nginx:1.31.0', rollout: { state: 'complete' } },
    });
    const after = await stored('web');
    expect(Number(at(after, 'metadata', 'generation'))).toBe(generation + 1);
    expect(at(after, 'spec', 'template', 'spec', 'containers', 0, 'image')).toBe('nginx:1.31.0');
    // The server counts create's Update entry and apply's Apply entry as two managers: the first PATCH conflicts
    // with the function's own Update entry, and the second takes those fields over with force, on the condition
    // that the object is still the one just read.
    const [read, conflicting, forced] = scope.proxy.requests.slice(from);
    expect([read, conflicting, forced].map((request) => `${request?.method} ${request?.status}`)).toEqual([
      'GET 200',
      'PATCH 409',
      'PATCH 200',
    ]);
    expect(forced?.query.get('force')).toBe('true');
    expect(at(JSON.parse(forced?.body ?? '{}'), 'metadata', 'resourceVersion')).toEqual(expect.any(String));
    // The fields create set now belong to the Apply entry: a later apply changes them without a conflict.
    const later = scope.proxy.requests.length;
    const again = await lambda.invoke({ action: 'apply', name: 'web', image: 'nginx:1.31.1' });
    expect(again).toMatchObject({ ok: true, result: { status: 'configured', image: 'nginx:1.31.1' } });
    expect(statuses(later)).toEqual(['GET 200', 'PATCH 200']);
  });

  it('names each conflicting field and its manager, changes nothing, and takes them over with force', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ action: 'apply', name: 'web', replicas: 2 });
    // Another client takes the replica count over (kubectl apply --server-side --force-conflicts).
    await scope.admin.apply(
      path('web'),
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 5 } },
      'kubectl',
    );
    const before = await applied('web');

    const refused = await lambda.invoke({ action: 'apply', name: 'web', replicas: 3 });

    expect(refused).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
    expect(!refused.ok && refused.errorMessage).toMatch(/\.spec\.replicas is owned by "kubectl".*"force": true/);
    expect(await applied('web')).toEqual(before);

    const forced = await lambda.invoke({ action: 'apply', name: 'web', replicas: 3, force: true });

    expect(forced).toMatchObject({ ok: true, result: { status: 'configured', replicas: 3 } });
    expect(at(await stored('web'), 'spec', 'replicas')).toBe(3);
    expect(await managers('web')).not.toContainEqual(['kubectl', 'Apply']);
  });

  it('still refuses a conflict with another manager after create, as only its own create is taken over', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    await scope.admin.mergePatch(path('web'), { spec: { replicas: 7 } }, 'kubectl-edit');
    const from = scope.proxy.requests.length;

    const refused = await lambda.invoke({ action: 'apply', name: 'web', replicas: 3 });

    expect(refused).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
    expect(!refused.ok && refused.errorMessage).toContain('.spec.replicas is owned by "kubectl-edit"');
    expect(!refused.ok && refused.errorMessage).not.toContain('owned by "lambda-eks"');
    expect(at(await stored('web'), 'spec', 'replicas')).toBe(7);
    expect(statuses(from)).toEqual(['GET 200', 'PATCH 409']);
  });

  it.each([
    ['an absent Deployment', 'created', undefined],
    ['the same spec', 'unchanged', {}],
    ['another replica count', 'configured', { replicas: 4 }],
  ])('previews %s with dryRun as %s, storing nothing', async (_label, wouldBe, existing) => {
    const lambda = await scope.environment();
    if (existing) await lambda.invoke({ action: 'apply', name: 'web' });
    const before = existing ? await applied('web') : undefined;

    const preview = await lambda.invoke({ action: 'apply', name: 'web', dryRun: true, ...existing });

    expect(preview).toMatchObject({ ok: true, result: { status: 'dry-run', wouldBe } });
    expect(existing ? await applied('web') : await stored('web')).toEqual(before);
    const patch = scope.proxy.requests.filter((request) => request.method === 'PATCH').pop();
    expect(patch?.query.getAll('dryRun')).toEqual(['All']);
  });

  it('keeps the replicas another field manager owns when the event leaves them out (kubectl scale, an autoscaler)', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ action: 'apply', name: 'web', replicas: 2 });
    // kubectl scale writes through the scale subresource, as a HorizontalPodAutoscaler does: another manager.
    const scaled = await scope.admin.send('PATCH', `${path('web')}/scale?fieldManager=kubectl-scale`, {
      body: { spec: { replicas: 5 } },
      contentType: 'application/merge-patch+json',
    });
    expect(scaled.status).toBe(200);

    const invocation = await lambda.invoke({ action: 'apply', name: 'web', image: 'nginx:1.30.1' });

    expect(invocation).toMatchObject({
      ok: true,
      result: { status: 'configured', replicas: 5, image: 'nginx:1.30.1' },
    });
    expect(at(await stored('web'), 'spec', 'replicas')).toBe(5);
    // The apply did not send replicas: they stay kubectl-scale's.
    const patch = scope.proxy.requests.filter((request) => request.method === 'PATCH').at(-1);
    expect(at(JSON.parse(patch?.body ?? '{}'), 'spec', 'replicas')).toBeUndefined();
  });

  it('keeps the replicas and image the cluster has when the event leaves them out and only it manages them', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ action: 'apply', name: 'web', replicas: 3, image: 'nginx:1.30.1' });

    const rescaled = await lambda.invoke({ action: 'apply', name: 'web', replicas: 4 });
    const relabelled = await lambda.invoke({ action: 'apply', name: 'web', image: 'nginx:1.30.2' });

    // Server-side apply resets a field its only manager stops sending: the function sends what the cluster has.
    expect(rescaled).toMatchObject({ ok: true, result: { replicas: 4, image: 'nginx:1.30.1' } });
    expect(relabelled).toMatchObject({ ok: true, result: { replicas: 4, image: 'nginx:1.30.2' } });
    expect(at(await stored('web'), 'spec', 'replicas')).toBe(4);
    expect(at(await stored('web'), 'spec', 'template', 'spec', 'containers', 0, 'image')).toBe('nginx:1.30.2');
  });

  it('gets the same Deployment object the direct body describes, field for field', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ action: 'apply', name: 'web', replicas: 3, image: 'nginx:1.30.0' });

    const expected = buildDeployment({
      name: 'web',
      namespace: scope.ns('default'),
      replicas: 3,
      image: 'nginx:1.30.0',
    });
    expect(await stored('web')).toMatchObject({ metadata: expected.metadata, spec: expected.spec });
  });
});
