import { describe, expect, it } from '@jest/globals';
import { buildDeployment } from '../../src/deployment.js';
import { useTestBed } from '../support/hooks.js';
import { at } from '../support/json.js';

// Action apply: server-side apply of the Deployment the event describes, reported as created, configured or
// unchanged; against a stand-in that keeps managedFields per manager and runs a deployment controller.
const scope = useTestBed({ overrides: { cluster: { observeDelayMs: 20, podReadyDelayMs: 50 } } });
const stored = (name: string) => scope.bed.server.deployment('default', name);
/** What an apply can change: the spec, the generation, the labels. The controller's status updates change
 * resourceVersion, annotations and managedFields on their own. */
const applied = (name: string): unknown => {
  const object = stored(name);
  return {
    spec: at(object, 'spec'),
    generation: at(object, 'metadata', 'generation'),
    labels: at(object, 'metadata', 'labels'),
  };
};
const managers = (name: string): unknown[] => {
  const entries = at(stored(name), 'metadata', 'managedFields');
  return (Array.isArray(entries) ? entries : []).map((entry: unknown) => [
    at(entry, 'manager'),
    at(entry, 'operation'),
  ]);
};

describe('action apply', () => {
  it('creates an absent Deployment, with field manager lambda-eks (Apply)', async () => {
    const lambda = await scope.environment();

    const invocation = await lambda.invoke({ action: 'apply', name: 'web', replicas: 3 });

    expect(invocation).toMatchObject({
      ok: true,
      result: { status: 'created', name: 'web', namespace: 'default', replicas: 3, image: 'nginx:1.30.0' },
    });
    expect(invocation.ok && invocation.result['uid']).toBe(at(stored('web'), 'metadata', 'uid'));
    expect(managers('web')).toContainEqual(['lambda-eks', 'Apply']);
    const patch = scope.bed.server.requests.find((request) => request.method === 'PATCH');
    expect(new URLSearchParams(patch?.query).get('fieldManager')).toBe('lambda-eks');
  });

  it('is unchanged, with two requests and nothing written, when applied twice', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ action: 'apply', name: 'web' });
    const before = applied('web');
    scope.bed.server.requests.length = 0;

    const again = await lambda.invoke({ action: 'apply', name: 'web' });

    expect(again).toMatchObject({ ok: true, result: { status: 'unchanged' } });
    expect(applied('web')).toEqual(before);
    expect(scope.bed.server.requests.map((request) => request.method)).toEqual(['GET', 'PATCH']);
  });

  it('converges a Deployment made by create to a new image, without a conflict with its own create', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    const generation = Number(at(stored('web'), 'metadata', 'generation'));

    const applied = await lambda.invoke({ action: 'apply', name: 'web', image: 'nginx:1.31.0', wait: true }, 10_000);

    expect(applied).toMatchObject({
      ok: true,
      result: { status: 'configured', image: 'nginx:1.31.0', rollout: { state: 'complete' } },
    });
    expect(Number(at(stored('web'), 'metadata', 'generation'))).toBe(generation + 1);
    expect(at(stored('web'), 'spec', 'template', 'spec', 'containers', 0, 'image')).toBe('nginx:1.31.0');
    // The fields create set now belong to the Apply entry: a later apply changes them without a conflict.
    const later = await lambda.invoke({ action: 'apply', name: 'web', image: 'nginx:1.31.1' });
    expect(later).toMatchObject({ ok: true, result: { status: 'configured', image: 'nginx:1.31.1' } });
  });

  it('names each conflicting field and its manager, changes nothing, and takes them over with force', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ action: 'apply', name: 'web', replicas: 2 });
    // Another client takes the replica count over (kubectl apply --server-side --force-conflicts).
    const scaled = scope.bed.server.applyAs(
      'kubectl',
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'default' },
        spec: { replicas: 5 },
      },
      { force: true },
    );
    expect(scaled.status).toBe(200);
    const before = applied('web');

    const refused = await lambda.invoke({ action: 'apply', name: 'web', replicas: 3 });

    expect(refused).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
    expect(!refused.ok && refused.errorMessage).toMatch(/\.spec\.replicas is owned by "kubectl".*"force": true/);
    expect(applied('web')).toEqual(before);

    const forced = await lambda.invoke({ action: 'apply', name: 'web', replicas: 3, force: true });

    expect(forced).toMatchObject({ ok: true, result: { status: 'configured', replicas: 3 } });
    expect(at(stored('web'), 'spec', 'replicas')).toBe(3);
  });

  it('still refuses a conflict with another manager after create, as only its own create is taken over', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    scope.bed.server.patchAs('kubectl-edit', 'default', 'web', { spec: { replicas: 7 } });

    const refused = await lambda.invoke({ action: 'apply', name: 'web', replicas: 3 });

    expect(refused).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
    expect(!refused.ok && refused.errorMessage).toContain('.spec.replicas is owned by "kubectl-edit"');
    expect(at(stored('web'), 'spec', 'replicas')).toBe(7);
  });

  it.each([
    ['an absent Deployment', undefined, 'created'],
    ['the same spec', {}, 'unchanged'],
    ['another replica count', { replicas: 4 }, 'configured'],
  ])('previews %s with dryRun as %s, storing nothing', async (_label, existing, wouldBe) => {
    const lambda = await scope.environment();
    if (existing) await lambda.invoke({ action: 'apply', name: 'web' });
    const before = existing ? applied('web') : undefined;

    const preview = await lambda.invoke({ action: 'apply', name: 'web', dryRun: true, ...existing });

    expect(preview).toMatchObject({ ok: true, result: { status: 'dry-run', wouldBe } });
    expect(existing ? applied('web') : stored('web')).toEqual(before);
    const patch = scope.bed.server.requests.filter((request) => request.method === 'PATCH').pop();
    expect(new URLSearchParams(patch?.query).getAll('dryRun')).toEqual(['All']);
  });

  it('gets the same Deployment object the direct body describes, field for field', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ action: 'apply', name: 'web', replicas: 3, image: 'nginx:1.30.0' });

    const expected = buildDeployment({ name: 'web', namespace: 'default', replicas: 3, image: 'nginx:1.30.0' });
    expect(stored('web')).toMatchObject({ metadata: expected.metadata, spec: expected.spec });
  });
});
