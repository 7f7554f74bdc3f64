import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { uniqueName, useCluster } from '../support/cluster.js';
import { at } from '../support/json.js';
import { restPath, type KubeObject } from '../support/kube-admin.js';
import { PROJECT_ROOT, type LambdaEnvironment } from '../support/lambda.js';
import {
  actions,
  configMap,
  crd,
  recordMembers,
  result,
  useSetIdentity,
  writesSince,
  yamlOf,
} from '../support/sets.js';

// apply-manifest, get-manifest and delete-manifest: a set of objects of any kind, converged, pruned and removed,
// against the real kube-apiserver (its discovery, CRDs, server-side apply over every type), through the built bundle
// as Lambda runs it.
const scope = useCluster({ namespaces: { apps: [], other: [] } });
const setEnv = useSetIdentity(scope);
const PART_OF = 'applyset.kubernetes.io/part-of';

const environment = (): Promise<LambdaEnvironment> => scope.environment(setEnv());
const configMapPath = (namespace: string, name: string): string => restPath('v1', 'configmaps', namespace, name);
const labels = (object: KubeObject | undefined): Record<string, string> => object?.metadata?.labels ?? {};
const writes = (from: number): string[] => writesSince(scope, from);

describe('apply-manifest', () => {
  it('applies a Namespace, a CRD and its custom resources in one invocation, each in its turn', async () => {
    const lambda = await environment();
    const namespace = uniqueName('made');
    const group = `${uniqueName('g')}.example.com`;
    const definition = crd(group, 'Widget');
    const manifest = yamlOf(
      `apiVersion: ${group}/v1\nkind: Widget\nmetadata: {name: w1, namespace: ${namespace}}\nspec: {size: 1}`,
      `apiVersion: ${group}/v1\nkind: Widget\nmetadata: {name: w2, namespace: ${namespace}}\nspec: {size: 2}`,
      configMap('settings', { mode: '0644' }),
      definition.document,
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${namespace}}`,
    );

    const applied = await lambda.invoke({ action: 'apply-manifest', set: 'web', manifest }, 30_000);

    expect(result(applied)).toMatchObject({
      status: 'applied',
      set: 'web',
      namespace: scope.ns('default'),
      counts: { created: 5 },
    });
    expect(actions(applied)).toEqual([
      'Widget/w1: created',
      'Widget/w2: created',
      'ConfigMap/settings: created',
      'CustomResourceDefinition/' + definition.name + ': created',
      `Namespace/${namespace}: created`,
    ]);
    // The order: the Namespace and the CRD before everything, the custom resources after the built-in kinds.
    const patches = scope.proxy.requests
      .filter((request) => request.method === 'PATCH' && request.query.get('dryRun') !== 'All')
      .map((request) => request.path.split('/').slice(-2).join('/'));
    expect(patches.indexOf(`namespaces/${namespace}`)).toBeLessThan(patches.indexOf('configmaps/settings'));
    expect(patches.indexOf(`customresourcedefinitions/${definition.name}`)).toBeLessThan(patches.indexOf('widgets/w1'));
    expect(patches.indexOf('configmaps/settings')).toBeLessThan(patches.indexOf('widgets/w1'));
    const widget = await scope.admin.get(restPath(`${group}/v1`, definition.plural, namespace, 'w2'));
    expect(widget?.['spec']).toEqual({ size: 2 });
    expect(labels(widget)[PART_OF]).toMatch(/^applyset-[A-Za-z0-9_-]{43}-v1$/);
    expect(await recordMembers(scope, 'web', scope.ns('default'))).toEqual(
      [
        `ConfigMap/${scope.ns('default')}/settings`,
        `CustomResourceDefinition//${definition.name}`,
        `Namespace//${namespace}`,
        `Widget/${namespace}/w1`,
        `Widget/${namespace}/w2`,
      ].sort(),
    );
    await lambda.invoke({ action: 'delete-manifest', set: 'web', deleteCrdsAndNamespaces: true }, 30_000);
  }, 60_000);

  it('sends nothing but reads when the set is unchanged, and configures only what changed', async () => {
    const lambda = await environment();
    const manifest = (mode: string) =>
      yamlOf(configMap('a', { mode }), configMap('b', { mode: 'x' }), configMap('c', { mode: 'y' }, scope.ns('apps')));
    await lambda.invoke({ action: 'apply-manifest', set: 'web', manifest: manifest('1') }, 20_000);
    const before = scope.proxy.requests.length;

    const again = await lambda.invoke({ action: 'apply-manifest', set: 'web', manifest: manifest('1') }, 20_000);
    const unchangedWrites = writes(before);
    const middle = scope.proxy.requests.length;
    const changed = await lambda.invoke({ action: 'apply-manifest', set: 'web', manifest: manifest('2') }, 20_000);

    expect(result(again)).toMatchObject({ status: 'applied', counts: { unchanged: 3 } });
    expect(unchangedWrites).toEqual([]);
    // Nobody wrote the objects since the set did, and the manifest sends them as before: the set's record read and
    // one read per object (the ownership check), no dry run.
    const unchanged = scope.proxy.requests.slice(before, middle);
    expect(unchanged.filter((request) => request.method !== 'GET')).toEqual([]);
    expect(unchanged).toHaveLength(1 + 3);
    expect(result(changed)).toMatchObject({ counts: { configured: 1, unchanged: 2 } });
    expect(actions(changed)).toContain('ConfigMap/a: configured');
    // The object that changed, then the record, which keeps what the set wrote to it (the next apply reads it).
    expect(writes(middle)).toEqual([
      `PATCH /api/v1/namespaces/${scope.ns('default')}/configmaps/a`,
      `PATCH /api/v1/namespaces/${scope.ns('default')}/configmaps/lambda-eks-set-web`,
    ]);
    expect(at(await scope.admin.get(configMapPath(scope.ns('default'), 'a')), 'data', 'mode')).toBe('2');
  }, 60_000);

  it('checks by a dry run an object someone else wrote since the set did, and restores what the manifest says', async () => {
    const lambda = await environment();
    const manifest = yamlOf(configMap('kept', { mode: '1' }), configMap('edited', { mode: '1' }));
    await lambda.invoke({ action: 'apply-manifest', set: 'web', manifest }, 20_000);
    const home = scope.ns('default');
    // Another writer adds a key to one and removes the set's key from the other (as kubectl edit would).
    await scope.admin.mergePatch(configMapPath(home, 'kept'), { data: { extra: 'theirs' } });
    await scope.admin.mergePatch(configMapPath(home, 'edited'), { data: { mode: null } });
    const before = scope.proxy.requests.length;

    const again = await lambda.invoke({ action: 'apply-manifest', set: 'web', manifest }, 20_000);

    expect(actions(again)).toEqual(['ConfigMap/kept: unchanged', 'ConfigMap/edited: configured']);
    const dryRuns = scope.proxy.requests
      .slice(before)
      .filter((request) => request.method === 'PATCH' && request.query.get('dryRun') === 'All')
      .map((request) => request.path.split('/').pop())
      .sort();
    expect(dryRuns).toEqual(['edited', 'kept']);
    expect(writes(before)).toEqual([
      `PATCH /api/v1/namespaces/${home}/configmaps/edited`,
      expect.stringMatching(/lambda-eks-set-web$/),
    ]);
    expect(at(await scope.admin.get(configMapPath(home, 'edited')), 'data')).toEqual({ mode: '1' });
    expect(at(await scope.admin.get(configMapPath(home, 'kept')), 'data')).toEqual({ mode: '1', extra: 'theirs' });
  }, 60_000);

  it('checks by a dry run the custom resources of a CRD the apply changed, and only those', async () => {
    const lambda = await environment();
    const group = `${uniqueName('g')}.example.com`;
    const definition = crd(group, 'Knob');
    const resource = `apiVersion: ${group}/v1\nkind: Knob\nmetadata:\n  name: k1\nspec: {size: 1}`;
    const changedDefinition = `${definition.document}\n          description: a schema the manifest changed`;
    const apply = (manifest: string) => lambda.invoke({ action: 'apply-manifest', set: 'knobs', manifest }, 30_000);
    const dryRunsOfTheKnob = (from: number, to: number) =>
      scope.proxy.requests
        .slice(from, to)
        .filter(
          (request) =>
            request.method === 'PATCH' &&
            request.query.get('dryRun') === 'All' &&
            request.path.endsWith(`/${definition.plural}/k1`),
        ).length;
    const knobStamp = async () => {
      const record = await scope.admin.get(configMapPath(scope.ns('default'), 'lambda-eks-set-knobs'));
      const members: unknown = JSON.parse(String(at(record, 'data', 'members')));
      return at(
        (members as unknown[]).find((member) => at(member, 'name') === 'k1'),
        'applied',
      );
    };
    await apply(yamlOf(definition.document, resource));
    const stamped = await knobStamp();
    const first = scope.proxy.requests.length;

    const same = await apply(yamlOf(definition.document, resource));
    const second = scope.proxy.requests.length;
    const changed = await apply(yamlOf(changedDefinition, resource));

    expect(actions(same)).toContain('Knob/k1: unchanged');
    expect(dryRunsOfTheKnob(first, second)).toBe(0);
    expect(actions(changed)).toContain(`CustomResourceDefinition/${definition.name}: configured`);
    expect(actions(changed)).toContain('Knob/k1: unchanged');
    expect(dryRunsOfTheKnob(second, scope.proxy.requests.length)).toBe(1);
    // Found unchanged, it keeps the stamp of the set's last write to it.
    expect(stamped).toMatch(/^\d+ [A-Za-z0-9_-]{43}$/);
    expect(await knobStamp()).toBe(stamped);
    await lambda.invoke({ action: 'delete-manifest', set: 'knobs', deleteCrdsAndNamespaces: true }, 30_000);
  }, 90_000);

  it("prunes what the manifest no longer has, and nothing of another set's or of no set's", async () => {
    const lambda = await environment();
    const [home, apps, other] = [scope.ns('default'), scope.ns('apps'), scope.ns('other')];
    await lambda.invoke(
      { action: 'apply-manifest', set: 'web', manifest: yamlOf(configMap('keep', {}), configMap('gone', {})) },
      20_000,
    );
    // Another set with an object of the same name in another namespace, and a ConfigMap of that name of no set.
    await lambda.invoke(
      { action: 'apply-manifest', set: 'api', namespace: apps, manifest: configMap('gone', { owner: 'api' }) },
      20_000,
    );
    await scope.admin.create(restPath('v1', 'configmaps', other), {
      metadata: { name: 'gone' },
      data: { owner: 'none' },
    });
    const from = scope.proxy.requests.length;

    const pruned = await lambda.invoke(
      { action: 'apply-manifest', set: 'web', manifest: configMap('keep', {}) },
      20_000,
    );

    expect(result(pruned)).toMatchObject({ counts: { unchanged: 1, pruned: 1 } });
    expect(actions(pruned)).toEqual(['ConfigMap/keep: unchanged', 'ConfigMap/gone: pruned']);
    expect(await scope.admin.get(configMapPath(home, 'gone'))).toBeUndefined();
    expect(at(await scope.admin.get(configMapPath(apps, 'gone')), 'data', 'owner')).toBe('api');
    expect(at(await scope.admin.get(configMapPath(other, 'gone')), 'data', 'owner')).toBe('none');
    // By name, with the uid as the delete's precondition: never by listing.
    const seen = scope.proxy.requests.slice(from);
    expect(seen.filter((request) => !/\/[^/]+\/[^/]+$/.test(request.path) && request.method === 'GET')).toEqual([]);
    const deletion = seen.find((request) => request.method === 'DELETE');
    expect(at(JSON.parse(deletion?.body ?? '{}'), 'preconditions', 'uid')).toEqual(expect.any(String));
    expect(await recordMembers(scope, 'web', home)).toEqual([`ConfigMap/${home}/keep`]);
  }, 60_000);

  it('refuses an object of no set without adopt, changing nothing, and takes it over with adopt', async () => {
    const lambda = await environment();
    const home = scope.ns('default');
    await scope.admin.apply(
      configMapPath(home, 'legacy'),
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'legacy' },
        data: { owner: 'kubectl' },
      },
      'kubectl',
    );
    const manifest = yamlOf(configMap('fresh', {}), configMap('legacy', { owner: 'set' }));

    const refused = await lambda.invoke({ action: 'apply-manifest', set: 'web', manifest }, 20_000);
    const adopted = await lambda.invoke({ action: 'apply-manifest', set: 'web', manifest, adopt: true }, 20_000);

    expect(refused).toMatchObject({ ok: false, errorType: 'SetConflictError' });
    expect(!refused.ok && refused.errorMessage).toContain(
      `ConfigMap "legacy" in namespace "${home}" exists and belongs to no set`,
    );
    expect(!refused.ok && refused.errorMessage).toContain('"adopt": true takes over');
    expect(result(adopted)).toMatchObject({ counts: { created: 1, configured: 1 } });
    const legacy = await scope.admin.get(configMapPath(home, 'legacy'));
    expect(at(legacy, 'data', 'owner')).toBe('set');
    expect(labels(legacy)[PART_OF]).toBeDefined();
  }, 60_000);

  it('refuses, before anything is written, what the refusal of one object would leave half done', async () => {
    const lambda = await environment();
    const home = scope.ns('default');
    await scope.admin.create(restPath('v1', 'configmaps', home), { metadata: { name: 'taken' } });

    const refused = await lambda.invoke(
      { action: 'apply-manifest', set: 'web', manifest: yamlOf(configMap('first', {}), configMap('taken', {})) },
      20_000,
    );

    expect(refused).toMatchObject({ ok: false, errorType: 'SetConflictError' });
    expect(await scope.admin.get(configMapPath(home, 'first'))).toBeUndefined();
    expect(await recordMembers(scope, 'web', home)).toBeUndefined();
  }, 30_000);

  it("refuses another set's object both ways, naming the owner", async () => {
    const lambda = await environment();
    const home = scope.ns('default');
    await lambda.invoke({ action: 'apply-manifest', set: 'one', manifest: configMap('shared', {}) }, 20_000);

    const refused = await lambda.invoke(
      { action: 'apply-manifest', set: 'two', manifest: configMap('shared', {}), adopt: true },
      20_000,
    );

    expect(refused).toMatchObject({ ok: false, errorType: 'SetConflictError' });
    expect(!refused.ok && refused.errorMessage).toContain(`belongs to set ${home}/one`);
    expect(await recordMembers(scope, 'two', home)).toBeUndefined();
  }, 30_000);
});

describe('sets and the Deployment actions', () => {
  const deploymentManifest = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: ${replicas}
  # The selector the Deployment actions chose: a selector cannot change, so a manifest taking over keeps it.
  selector: {matchLabels: {app.kubernetes.io/name: web, app.kubernetes.io/instance: web}}
  template:
    metadata: {labels: {app.kubernetes.io/name: web, app.kubernetes.io/instance: web}}
    spec:
      containers: [{name: nginx, image: nginx:1.30.0}]`;

  it('takes a Deployment made by create only with adopt, then refuses the Deployment actions on it', async () => {
    const lambda = await environment();
    await lambda.invoke({ name: 'web' });

    const refused = await lambda.invoke(
      { action: 'apply-manifest', set: 'web', manifest: deploymentManifest(3) },
      20_000,
    );
    const adopted = await lambda.invoke(
      { action: 'apply-manifest', set: 'web', manifest: deploymentManifest(3), adopt: true },
      20_000,
    );
    const applied = await lambda.invoke({ action: 'apply', name: 'web', replicas: 1 });
    const deleted = await lambda.invoke({ action: 'delete', name: 'web' });

    expect(refused).toMatchObject({ ok: false, errorType: 'SetConflictError' });
    expect(!refused.ok && refused.errorMessage).toContain('the Deployment actions made it');
    expect(result(adopted)).toMatchObject({ counts: { configured: 1 } });
    for (const refusedAction of [applied, deleted]) {
      expect(refusedAction).toMatchObject({ ok: false, errorType: 'SetConflictError' });
      expect(!refusedAction.ok && refusedAction.errorMessage).toContain(`belongs to set ${scope.ns('default')}/web`);
    }
    const stored = await scope.admin.get(restPath('apps/v1', 'deployments', scope.ns('default'), 'web'));
    expect(at(stored, 'spec', 'replicas')).toBe(3);
  }, 60_000);
});

describe('delete-manifest', () => {
  it('deletes custom resources first, waits for their finalizers, then the rest, CRDs last', async () => {
    const lambda = await environment();
    const group = `${uniqueName('g')}.example.com`;
    const definition = crd(group, 'Gadget');
    const home = scope.ns('default');
    await lambda.invoke(
      {
        action: 'apply-manifest',
        set: 'web',
        manifest: yamlOf(
          definition.document,
          configMap('settings', {}),
          `apiVersion: ${group}/v1\nkind: Gadget\nmetadata:\n  name: g1\n  finalizers: [example.com/cleanup]\nspec: {}`,
        ),
      },
      30_000,
    );
    const gadget = restPath(`${group}/v1`, definition.plural, home, 'g1');
    const from = scope.proxy.requests.length;

    const deleting = lambda.invoke({ action: 'delete-manifest', set: 'web', deleteCrdsAndNamespaces: true }, 30_000);
    // The operator finalizes the custom resource a few seconds later.
    await scope.admin.waitFor(
      gadget,
      (object) => at(object, 'metadata', 'deletionTimestamp') !== undefined,
      'g1 deleting',
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await scope.admin.mergePatch(gadget, { metadata: { finalizers: null } });
    const deleted = await deleting;

    expect(result(deleted)).toMatchObject({ status: 'deleted', counts: { deleted: 3 } });
    const order = scope.proxy.requests
      .slice(from)
      .filter((request) => request.method === 'DELETE')
      .map((request) => request.path.split('/').slice(-2).join('/'));
    expect(order).toEqual([
      `${definition.plural}/g1`,
      'configmaps/settings',
      `customresourcedefinitions/${definition.name}`,
      `configmaps/lambda-eks-set-web`,
    ]);
    expect(await recordMembers(scope, 'web', home)).toBeUndefined();
  }, 60_000);

  it('ends with RolloutTimeoutError naming a finalizer that does not clear, and finishes when run again', async () => {
    const lambda = await environment();
    const group = `${uniqueName('g')}.example.com`;
    const definition = crd(group, 'Gizmo');
    const home = scope.ns('default');
    await lambda.invoke(
      {
        action: 'apply-manifest',
        set: 'web',
        manifest: yamlOf(
          definition.document,
          `apiVersion: ${group}/v1\nkind: Gizmo\nmetadata:\n  name: stuck\n  finalizers: [example.com/never]\nspec: {}`,
        ),
      },
      30_000,
    );

    const timedOut = await lambda.invoke(
      { action: 'delete-manifest', set: 'web', deleteCrdsAndNamespaces: true },
      5000,
    );
    await scope.admin.mergePatch(restPath(`${group}/v1`, definition.plural, home, 'stuck'), {
      metadata: { finalizers: null },
    });
    const finished = await lambda.invoke(
      { action: 'delete-manifest', set: 'web', deleteCrdsAndNamespaces: true },
      30_000,
    );

    expect(timedOut).toMatchObject({ ok: false, errorType: 'RolloutTimeoutError' });
    expect(!timedOut.ok && timedOut.errorMessage).toContain('finalizers: example.com/never');
    expect(result(finished)).toMatchObject({ status: 'deleted' });
    // The CRD's own finalizer (customresourcecleanup.apiextensions.k8s.io) removes it a moment after its delete.
    await scope.admin.waitFor(
      restPath('apiextensions.k8s.io/v1', 'customresourcedefinitions', undefined, definition.name),
      (object) => object === undefined,
      'the CRD to be gone',
    );
  }, 60_000);

  it('says absent for a set with no record', async () => {
    const lambda = await environment();

    const deleted = await lambda.invoke({ action: 'delete-manifest', set: 'nothing' });
    const found = await lambda.invoke({ action: 'get-manifest', set: 'nothing' });

    expect(result(deleted)).toEqual({
      status: 'absent',
      set: 'nothing',
      namespace: scope.ns('default'),
      counts: {},
      objects: [],
    });
    expect(result(found)).toMatchObject({ status: 'absent' });
  });
});

describe('an apply cut short', () => {
  it('leaks nothing: the record lists every object, and the next apply prunes what it no longer has', async () => {
    const lambda = await environment();
    const home = scope.ns('default');
    const full = yamlOf(configMap('one', {}), configMap('two', {}), configMap('three', {}));
    // The last object's apply never gets an answer: the invocation runs out of time after the record is written.
    scope.proxy.inject(
      Array.from({ length: 10 }, () => ({ kind: 'drop' as const })),
      ({ method, path, query }) => method === 'PATCH' && path.endsWith('/three') && query.get('dryRun') === 'All',
    );

    const cut = await lambda.invoke({ action: 'apply-manifest', set: 'web', manifest: full }, 4000);
    scope.proxy.reset();
    const again = await lambda.invoke(
      { action: 'apply-manifest', set: 'web', manifest: yamlOf(configMap('one', {})) },
      20_000,
    );

    expect(cut.ok).toBe(false);
    expect(result(again)).toMatchObject({ counts: { unchanged: 1, pruned: 2 } });
    for (const name of ['two', 'three']) expect(await scope.admin.get(configMapPath(home, name))).toBeUndefined();
    expect(await recordMembers(scope, 'web', home)).toEqual([`ConfigMap/${home}/one`]);
  }, 60_000);
});

describe('get-manifest', () => {
  it('reads the set as the cluster has it: each member with its uid', async () => {
    const lambda = await environment();
    await lambda.invoke(
      { action: 'apply-manifest', set: 'web', manifest: yamlOf(configMap('a', {}), configMap('b', {})) },
      20_000,
    );
    await scope.admin.delete(configMapPath(scope.ns('default'), 'b'));

    const found = await lambda.invoke({ action: 'get-manifest', set: 'web' });

    const uid = (await scope.admin.get(configMapPath(scope.ns('default'), 'a')))?.metadata?.uid;
    expect(result(found)).toMatchObject({
      status: 'found',
      objects: [
        { kind: 'ConfigMap', name: 'a', namespace: scope.ns('default'), uid },
        { kind: 'ConfigMap', name: 'b', message: 'not found' },
      ],
    });
  }, 30_000);
});

describe('the sample events of events/', () => {
  const sample = (file: string): Record<string, unknown> => {
    const event: unknown = JSON.parse(readFileSync(join(PROJECT_ROOT, 'events', file), 'utf8'));
    return typeof event === 'object' && event !== null ? { ...event } : {};
  };

  it('apply, read and delete their set, as the README shows', async () => {
    const lambda = await environment();

    const dry = await lambda.invoke(sample('apply-manifest-dry-run.json'), 20_000);
    const applied = await lambda.invoke(sample('apply-manifest.json'), 20_000);
    const found = await lambda.invoke(sample('get-manifest.json'));
    const deleted = await lambda.invoke(sample('delete-manifest.json'), 20_000);

    expect(result(dry)).toMatchObject({ status: 'dry-run', counts: { created: 3 } });
    expect(result(applied)).toMatchObject({ status: 'applied', counts: { created: 3 } });
    expect(result(found)).toMatchObject({
      status: 'found',
      objects: [
        { kind: 'ConfigMap', name: 'web-settings', uid: expect.any(String) },
        { kind: 'Deployment', name: 'web', uid: expect.any(String) },
        { kind: 'Service', name: 'web', uid: expect.any(String) },
      ],
    });
    expect(result(deleted)).toMatchObject({ status: 'deleted', counts: { deleted: 3 } });
    expect(await recordMembers(scope, 'web', scope.ns('default'))).toBeUndefined();
  }, 60_000);
});
