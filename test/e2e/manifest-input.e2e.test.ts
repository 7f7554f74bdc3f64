import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { uniqueName, useCluster } from '../support/cluster.js';
import { at } from '../support/json.js';
import { restPath } from '../support/kube-admin.js';
import type { LambdaEnvironment } from '../support/lambda.js';
import { recordSecrets } from '../support/run-record.js';
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

// What a set's manifest may hold and how the function reads it, against the real kube-apiserver: every bad input
// refused before anything is written, objects sent exactly as written, field-manager conflicts named, and dry runs
// that write nothing.
const scope = useCluster({ namespaces: {} });
const setEnv = useSetIdentity(scope);
const environment = (): Promise<LambdaEnvironment> => scope.environment(setEnv());
const configMapPath = (name: string): string => restPath('v1', 'configmaps', scope.ns('default'), name);

describe('a manifest that is wrong', () => {
  const home = (): string => scope.ns('default');
  const cases: { what: string; manifest: () => string; says: () => string[] }[] = [
    {
      what: 'an object without apiVersion',
      manifest: () => yamlOf(configMap('fine', {}), 'kind: ConfigMap\nmetadata: {name: lost}'),
      says: () => ['document 2 (ConfigMap "lost")', 'no valid apiVersion'],
    },
    {
      what: 'an object without kind',
      manifest: () => yamlOf(configMap('fine', {}), 'apiVersion: v1\nmetadata: {name: lost}'),
      says: () => ['document 2 ("lost")', 'no valid kind'],
    },
    {
      what: 'an object without metadata.name',
      manifest: () => yamlOf(configMap('fine', {}), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {a: b}}'),
      says: () => ['document 2 (ConfigMap)', 'no metadata.name'],
    },
    {
      what: 'generateName',
      manifest: () => yamlOf(configMap('fine', {}), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-}'),
      says: () => ['document 2 (ConfigMap)', 'generateName', 'give it metadata.name'],
    },
    {
      what: 'two objects with one identity',
      manifest: () => yamlOf(configMap('twice', {}), configMap('fine', {}), configMap('twice', {}, home())),
      says: () => ['document 3 and document 1 are the same object', `ConfigMap "twice" in namespace "${home()}"`],
    },
    {
      what: 'a namespace on a cluster-scoped kind',
      manifest: () =>
        yamlOf(
          configMap('fine', {}),
          'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, namespace: x}\nrules: []',
        ),
      says: () => ['document 2 (ClusterRole "r")', 'ClusterRole is cluster-scoped: remove metadata.namespace'],
    },
    {
      what: "the set's own namespace as a member",
      manifest: () => yamlOf(configMap('fine', {}), `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${home()}}`),
      says: () => [`document 2 (Namespace "${home()}") is the set's own namespace`],
    },
    {
      what: 'a document that is not an object',
      manifest: () => yamlOf(configMap('fine', {}), '- just\n- a list'),
      says: () => ['document 2 is not a Kubernetes object', 'a list'],
    },
    {
      what: 'YAML that does not parse',
      manifest: () => yamlOf(configMap('fine', {}), 'apiVersion: v1\nkind: [ConfigMap'),
      says: () => ['document 2 is not valid YAML or JSON'],
    },
    {
      what: 'a kind the cluster does not serve and no CRD of the set defines',
      manifest: () =>
        yamlOf(
          configMap('fine', {}),
          `apiVersion: ${uniqueName('g')}.example.com/v1\nkind: Widget\nmetadata: {name: w}`,
        ),
      says: () => ['document 2 (Widget "w")', 'the cluster does not serve kind Widget', 'install its CRD first'],
    },
  ];

  it.each(cases)('refuses $what, naming the document, before anything is written', async ({ manifest, says }) => {
    const lambda = await environment();
    const from = scope.proxy.requests.length;

    const refused = await lambda.invoke({ action: 'apply-manifest', set: 'bad', manifest: manifest() });

    expect(refused).toMatchObject({ ok: false, errorType: 'InvalidManifestError' });
    for (const words of says()) expect(!refused.ok && refused.errorMessage).toContain(words);
    expect(writesSince(scope, from)).toEqual([]);
    expect(await scope.admin.get(configMapPath('fine'))).toBeUndefined();
    expect(await recordMembers(scope, 'bad', home())).toBeUndefined();
  });
});

describe('a manifest too large', () => {
  it('refuses more than 500 objects, saying to split the set, before anything is written', async () => {
    const lambda = await environment();
    const from = scope.proxy.requests.length;
    const many = Array.from({ length: 501 }, (_, index) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `c${index}` },
    }));

    const refused = await lambda.invoke({ action: 'apply-manifest', set: 'huge', manifest: many });

    expect(refused).toMatchObject({ ok: false, errorType: 'InvalidManifestError' });
    expect(!refused.ok && refused.errorMessage).toContain('holds 501 objects, more than the 500 a set may have');
    expect(!refused.ok && refused.errorMessage).toContain('split it into several sets');
    expect(writesSince(scope, from)).toEqual([]);
  });
});

describe('objects as written', () => {
  it("sends every field as written: a CRD's x-kubernetes-* keys and a custom resource's unknown fields", async () => {
    const lambda = await environment();
    const group = `${uniqueName('g')}.example.com`;
    const plural = 'gears';
    const schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          'x-kubernetes-validations': [{ rule: 'self.size >= 0', message: 'size is not negative' }],
          properties: {
            size: { type: 'integer' },
            port: { 'x-kubernetes-int-or-string': true },
            ports: {
              type: 'array',
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['name'],
              items: {
                type: 'object',
                required: ['name'],
                properties: { name: { type: 'string' }, number: { type: 'integer' } },
              },
            },
          },
        },
      },
    };
    const definition = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.${group}` },
      spec: {
        group,
        names: { kind: 'Gear', plural, singular: 'gear', listKind: 'GearList' },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }],
      },
    };
    // Fields no client library's models have: unknown to any schema but kept by preserve-unknown-fields.
    const spec = { size: 3, port: 'http', ports: [{ name: 'a', number: 1 }], teeth: { count: 12, shape: 'helical' } };
    const gear = { apiVersion: `${group}/v1`, kind: 'Gear', metadata: { name: 'g1' }, spec };

    const applied = await lambda.invoke(
      { action: 'apply-manifest', set: 'gears', manifest: [definition, gear] },
      30_000,
    );

    expect(result(applied)).toMatchObject({ counts: { created: 2 } });
    const stored = await scope.admin.get(
      restPath('apiextensions.k8s.io/v1', 'customresourcedefinitions', undefined, `${plural}.${group}`),
    );
    expect(at(stored, 'spec', 'versions', 0, 'schema', 'openAPIV3Schema')).toEqual(schema);
    const live = await scope.admin.get(restPath(`${group}/v1`, plural, scope.ns('default'), 'g1'));
    expect(live?.['spec']).toEqual(spec);
    await lambda.invoke({ action: 'delete-manifest', set: 'gears', deleteCrdsAndNamespaces: true }, 30_000);
  }, 60_000);

  it("sends a built-in object's body exactly as written, with only the set's label and annotation added", async () => {
    const lambda = await environment();
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'full', labels: { tier: 'web' } },
      spec: {
        replicas: 1,
        revisionHistoryLimit: 3,
        selector: { matchLabels: { app: 'full' } },
        template: {
          metadata: { labels: { app: 'full' } },
          spec: {
            // Fields of recent Kubernetes releases, sent whether or not a client's models know them.
            resources: { limits: { cpu: '1', memory: '256Mi' } },
            hostnameOverride: 'full-host',
            containers: [
              {
                name: 'nginx',
                image: 'nginx:1.30.0',
                ports: [{ containerPort: 80, name: 'http' }],
                readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
                env: [{ name: 'MODE', value: '0644' }],
              },
            ],
          },
        },
      },
    };
    const from = scope.proxy.requests.length;

    const applied = await lambda.invoke({ action: 'apply-manifest', set: 'full', manifest: [deployment] }, 30_000);

    expect(result(applied)).toMatchObject({ counts: { created: 1 } });
    const sent = scope.proxy.requests
      .slice(from)
      .find(
        (request) =>
          request.method === 'PATCH' &&
          request.path.endsWith('/deployments/full') &&
          request.query.get('dryRun') !== 'All',
      );
    const body: unknown = JSON.parse(sent?.body ?? '{}');
    expect(at(body, 'spec')).toEqual(deployment.spec);
    expect(at(body, 'metadata', 'labels', 'tier')).toBe('web');
    expect(Object.keys(Object(at(body, 'metadata')))).toEqual(['name', 'labels', 'namespace', 'annotations']);
    expect(sent?.query.get('fieldValidation')).toBe('Strict');
    expect(sent?.query.get('fieldManager')).toBe('lambda-eks-set');
    const live = await scope.admin.get(restPath('apps/v1', 'deployments', scope.ns('default'), 'full'));
    expect(at(live, 'spec', 'template', 'spec', 'hostnameOverride')).toBe('full-host');
    expect(at(live, 'spec', 'template', 'spec', 'resources')).toEqual({ limits: { cpu: '1', memory: '256Mi' } });
  }, 60_000);

  it('refuses a field the schema does not know at once, naming the document and the field (fieldValidation Strict)', async () => {
    const lambda = await environment();
    const from = scope.proxy.requests.length;

    const refused = await lambda.invoke({
      action: 'apply-manifest',
      set: 'strict',
      manifest: yamlOf(configMap('fine', {}), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo}\ndatta: {a: b}'),
    });

    // The real server answers HTTP 500 for it (kubernetes/kubernetes#122480): the function must not take that for an
    // outage and retry.
    expect(refused).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
    const message = !refused.ok ? refused.errorMessage : '';
    expect(message).toContain(`applying ConfigMap "typo" in namespace "${scope.ns('default')}" (document 2)`);
    expect(message).toContain('HTTP 500');
    expect(message).toContain("has a field its kind's schema does not declare (.datta)");
    expect(message).toContain('Fix or remove it in the manifest');
    expect(message).not.toMatch(/attempts|invoke again later/);
    const patches = scope.proxy.requests
      .slice(from)
      .filter((request) => request.method === 'PATCH' && request.path.endsWith('/configmaps/typo'));
    expect(patches).toHaveLength(1);
    expect(await scope.admin.get(configMapPath('typo'))).toBeUndefined();
  });

  it('names the document of an object the server finds invalid, and says to fix the manifest', async () => {
    const lambda = await environment();

    const refused = await lambda.invoke({
      action: 'apply-manifest',
      set: 'invalid',
      manifest: yamlOf('apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 0}]'),
    });

    expect(refused).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
    const message = !refused.ok ? refused.errorMessage : '';
    expect(message).toContain(`applying Service "web" in namespace "${scope.ns('default')}" (document 1)`);
    expect(message).toContain('HTTP 422 Invalid');
    expect(message).toContain('spec.ports[0].port');
    expect(message).toContain('fix the fields it names in the manifest');
    expect(message).not.toMatch(/Deployment|event/);
  });
});

describe('field-manager conflicts', () => {
  it('names the object, the fields and their managers, and force takes them over', async () => {
    const lambda = await environment();
    await lambda.invoke({ action: 'apply-manifest', set: 'tuned', manifest: configMap('tuning', { level: '1' }) });
    // An operator takes the field over, as kubectl apply --server-side --force-conflicts does.
    await scope.admin.apply(
      configMapPath('tuning'),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tuning' }, data: { level: '9' } },
      'tuning-operator',
    );

    const refused = await lambda.invoke({
      action: 'apply-manifest',
      set: 'tuned',
      manifest: configMap('tuning', { level: '2' }),
    });
    const forced = await lambda.invoke({
      action: 'apply-manifest',
      set: 'tuned',
      manifest: configMap('tuning', { level: '2' }),
      force: true,
    });

    expect(refused).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
    const message = !refused.ok ? refused.errorMessage : '';
    expect(message).toContain(`ConfigMap "tuning" in namespace "${scope.ns('default')}" (document 1)`);
    expect(message).toContain('.data.level');
    expect(message).toContain('tuning-operator');
    expect(message).toContain('"force": true');
    expect(result(forced)).toMatchObject({ counts: { configured: 1 } });
    expect(at(await scope.admin.get(configMapPath('tuning')), 'data', 'level')).toBe('2');
  }, 30_000);
});

describe('dry runs', () => {
  it('checks a new set with its Namespace and CRD, says what it cannot check, and writes nothing', async () => {
    const lambda = await environment();
    const namespace = uniqueName('dry');
    const group = `${uniqueName('g')}.example.com`;
    const definition = crd(group, 'Sprocket');
    const from = scope.proxy.requests.length;

    const dry = await lambda.invoke(
      {
        action: 'apply-manifest',
        set: 'dry',
        dryRun: true,
        manifest: yamlOf(
          `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${namespace}}`,
          definition.document,
          `apiVersion: ${group}/v1\nkind: Sprocket\nmetadata: {name: s1}\nspec: {}`,
          configMap('inside', {}, namespace),
          configMap('home', {}),
        ),
      },
      30_000,
    );

    expect(result(dry)).toMatchObject({ status: 'dry-run', counts: { created: 5 } });
    const objects = at(result(dry), 'objects');
    const verified = (Array.isArray(objects) ? objects : []).map(
      (object: unknown) => `${String(at(object, 'name'))}: ${String(at(object, 'verified'))}`,
    );
    expect(verified).toEqual([
      `${namespace}: true`,
      `${definition.name}: true`,
      's1: false',
      'inside: false',
      'home: true',
    ]);
    expect(String(at(objects, 2, 'message'))).toContain('cannot check it');
    expect(writesSince(scope, from)).toEqual([]);
    expect(await scope.admin.get(restPath('v1', 'namespaces', undefined, namespace))).toBeUndefined();
    expect(await recordMembers(scope, 'dry', scope.ns('default'))).toBeUndefined();
  }, 60_000);

  it('says configured, unchanged and pruned of an applied set, and changes nothing', async () => {
    const lambda = await environment();
    await lambda.invoke({
      action: 'apply-manifest',
      set: 'again',
      manifest: yamlOf(configMap('same', { a: '1' }), configMap('edited', { a: '1' }), configMap('dropped', {})),
    });
    const from = scope.proxy.requests.length;

    const dry = await lambda.invoke({
      action: 'apply-manifest',
      set: 'again',
      dryRun: true,
      manifest: yamlOf(configMap('same', { a: '1' }), configMap('edited', { a: '2' })),
    });

    expect(result(dry)).toMatchObject({ status: 'dry-run', counts: { unchanged: 1, configured: 1, pruned: 1 } });
    expect(actions(dry)).toEqual([
      'ConfigMap/same: unchanged',
      'ConfigMap/edited: configured',
      'ConfigMap/dropped: pruned',
    ]);
    expect(writesSince(scope, from)).toEqual([]);
    expect(at(await scope.admin.get(configMapPath('edited')), 'data', 'a')).toBe('1');
    expect(await scope.admin.get(configMapPath('dropped'))).toBeDefined();
    expect(await recordMembers(scope, 'again', scope.ns('default'))).toHaveLength(3);
  }, 30_000);
});

describe("a set's record changed by hand", () => {
  it('is refused, saying what to restore, and nothing is changed', async () => {
    const lambda = await environment();
    await lambda.invoke({ action: 'apply-manifest', set: 'edited', manifest: configMap('kept', { a: '1' }) });
    await scope.admin.mergePatch(configMapPath('lambda-eks-set-edited'), { data: { members: 'oops' } });

    const refused = await lambda.invoke({ action: 'apply-manifest', set: 'edited', manifest: configMap('new', {}) });
    const deleted = await lambda.invoke({ action: 'delete-manifest', set: 'edited' });

    for (const invocation of [refused, deleted]) {
      expect(invocation).toMatchObject({ ok: false, errorType: 'SetConflictError' });
      expect(!invocation.ok && invocation.errorMessage).toContain('was changed by hand');
      expect(!invocation.ok && invocation.errorMessage).toContain('Restore data.members');
    }
    expect(await scope.admin.get(configMapPath('kept'))).toBeDefined();
    expect(await scope.admin.get(configMapPath('new'))).toBeUndefined();
  }, 30_000);
});

describe('a dry run of delete-manifest', () => {
  it('says what it would delete and keep, the server checking each delete, and deletes nothing', async () => {
    const lambda = await environment();
    const namespace = uniqueName('dry-del');
    await lambda.invoke({
      action: 'apply-manifest',
      set: 'doomed',
      manifest: yamlOf(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${namespace}}`, configMap('one', {})),
    });
    const from = scope.proxy.requests.length;

    const dry = await lambda.invoke({ action: 'delete-manifest', set: 'doomed', dryRun: true });

    expect(result(dry)).toMatchObject({ status: 'dry-run', counts: { deleted: 1, kept: 1 } });
    expect(actions(dry)).toEqual(['ConfigMap/one: deleted', `Namespace/${namespace}: kept`]);
    expect(at(result(dry), 'objects', 0, 'verified')).toBe(true);
    const deletes = scope.proxy.requests.slice(from).filter((request) => request.method === 'DELETE');
    expect(deletes.map((request) => request.query.get('dryRun'))).toEqual(['All']);
    expect(writesSince(scope, from)).toEqual([]);
    expect(await scope.admin.get(configMapPath('one'))).toBeDefined();
    expect(await recordMembers(scope, 'doomed', scope.ns('default'))).toHaveLength(2);
    await lambda.invoke({ action: 'delete-manifest', set: 'doomed', deleteCrdsAndNamespaces: true });
  }, 30_000);
});

describe('a Secret in a set', () => {
  it('never shows its data: not in a result, a log line, or the error of a refused apply', async () => {
    const lambda = await environment();
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const encoded = Buffer.from(password).toString('base64');
    recordSecrets(password, encoded);
    const secret = (value: string) =>
      `apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: ${value}}`;
    const applied = await lambda.invoke({ action: 'apply-manifest', set: 'db', manifest: secret(password) });
    await scope.admin.apply(
      restPath('v1', 'secrets', scope.ns('default'), 'db'),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: `${password}-rotated` } },
      'rotator',
    );

    const refused = await lambda.invoke({ action: 'apply-manifest', set: 'db', manifest: secret(password) });
    const found = await lambda.invoke({ action: 'get-manifest', set: 'db' });

    expect(result(applied)).toMatchObject({ counts: { created: 1 } });
    expect(refused).toMatchObject({ ok: false, errorType: 'KubernetesApiError' });
    expect(!refused.ok && refused.errorMessage).toContain('.stringData.password: conflict with "rotator"');
    const everything = JSON.stringify([applied, refused, found, lambda.records()]);
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(encoded);
  }, 30_000);
});
