import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import { uniqueName, useCluster } from '../support/cluster.js';
import { functionEnv, SET_GRANTS_GROUP, SET_GRANTS_IDENTITY } from '../support/fixture.js';
import { at } from '../support/json.js';
import { restPath } from '../support/kube-admin.js';
import { PROJECT_ROOT, type LambdaEnvironment } from '../support/lambda.js';
import { actions, configMap, recordMembers, result, yamlOf } from '../support/sets.js';

// The grants of `npm run grants`, applied by a cluster admin with kubectl, as the function's only rights: enough for
// apply, prune, get and delete of their set, and nothing else. The function runs as an identity of its own group, so
// that the ClusterRoles these grants bind cluster-wide reach no other test's function.
const scope = useCluster({ namespaces: {} });
const run = promisify(execFile);
const files = mkdtempSync(join(tmpdir(), 'lambda-eks-grants-'));
afterAll(() => rmSync(files, { recursive: true, force: true }));

const environment = (): Promise<LambdaEnvironment> =>
  scope.environment({
    ...functionEnv(scope.proxy.url, scope.info.pki.caData, SET_GRANTS_IDENTITY),
    NAMESPACE: scope.ns('default'),
  });

/** Writes a manifest file; returns its path. */
function manifestFile(name: string, text: string): string {
  const path = join(files, `${uniqueName(name)}.yaml`);
  writeFileSync(path, text);
  return path;
}

/** Runs `npm run --silent grants` as a user does, with the admin's kubeconfig; returns its stdout and stderr. */
async function grants(set: string, ...manifests: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(
    'npm',
    [
      'run',
      '--silent',
      'grants',
      '--',
      ...manifests,
      '--set',
      set,
      '--namespace',
      scope.ns('default'),
      '--group',
      SET_GRANTS_GROUP,
    ],
    { cwd: PROJECT_ROOT, env: { ...process.env, KUBECONFIG: scope.info.kubeconfig } },
  );
}

/** Applies RBAC objects as a cluster admin does: kubectl apply -f -. Waits until the authorizer has them. */
async function applyAsAdmin(yaml: string, set: string): Promise<void> {
  const child = execFile(scope.info.kubectl, ['--kubeconfig', scope.info.kubeconfig, 'apply', '-f', '-']);
  const done = new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kubectl apply exited ${String(code)}`))));
  });
  child.stdin?.end(yaml);
  await done;
  // The authorizer reads RBAC from its informers: ask it, as the function's group, until it allows the record.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const review = await scope.admin.send('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: SET_GRANTS_IDENTITY.username,
          groups: [SET_GRANTS_GROUP],
          resourceAttributes: {
            namespace: scope.ns('default'),
            verb: 'get',
            resource: 'configmaps',
            name: `lambda-eks-set-${set}`,
          },
        },
      },
    });
    if (at(review.body, 'status', 'allowed') === true) return;
    if (Date.now() > deadline) throw new Error('the grants were not in effect after 10 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const APP = (withExtra: boolean): string =>
  yamlOf(
    configMap('settings', { mode: 'a' }),
    'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}',
    `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: settings-reader}
rules: [{apiGroups: [""], resources: [configmaps], resourceNames: [settings], verbs: [get]}]`,
    `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: settings-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: settings-reader}
subjects: [{kind: ServiceAccount, name: app}]`,
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 1
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      serviceAccountName: app
      containers: [{name: nginx, image: nginx:1.30.0}]`,
    'apiVersion: v1\nkind: Service\nmetadata: {name: app}\nspec: {selector: {app: app}, ports: [{port: 80}]}',
    ...(withExtra ? [configMap('extra', {})] : []),
  );

describe('the grants of npm run grants', () => {
  it('let the function apply, prune, read and delete a set with a Role and a RoleBinding, and nothing else', async () => {
    const full = manifestFile('app', APP(true));
    const smaller = manifestFile('app', APP(false));
    const made = await grants('app', full, smaller);
    await applyAsAdmin(made.stdout, 'app');
    const lambda = await environment();

    const applied = await lambda.invoke({ action: 'apply-manifest', set: 'app', manifest: APP(true) }, 30_000);
    const pruned = await lambda.invoke({ action: 'apply-manifest', set: 'app', manifest: APP(false) }, 30_000);
    const found = await lambda.invoke({ action: 'get-manifest', set: 'app' });
    const beyond = await lambda.invoke({
      action: 'apply-manifest',
      set: 'app',
      manifest: yamlOf(APP(false), configMap('not-granted', {})),
    });
    const deleted = await lambda.invoke({ action: 'delete-manifest', set: 'app' }, 30_000);

    expect(result(applied)).toMatchObject({ counts: { created: 7 } });
    expect(result(pruned)).toMatchObject({ counts: { unchanged: 6, pruned: 1 } });
    expect(result(found)).toMatchObject({ status: 'found' });
    expect(beyond).toMatchObject({ ok: false, errorType: 'ClusterAuthorizationError' });
    const message = !beyond.ok ? beyond.errorMessage : '';
    expect(message).toContain(`RBAC does not let the function get configmaps "not-granted"`);
    expect(message).toContain(`npm run grants -- <manifest files> --set app --namespace ${scope.ns('default')}`);
    expect(await scope.admin.get(restPath('v1', 'configmaps', scope.ns('default'), 'not-granted'))).toBeUndefined();
    expect(result(deleted)).toMatchObject({ status: 'deleted', counts: { deleted: 6 } });
    // The rights it was given, and only those: by name, no list but pods and ReplicaSets, no watch, no wildcard.
    const role = await scope.admin.get(
      restPath('rbac.authorization.k8s.io/v1', 'roles', scope.ns('default'), 'lambda-eks-set-app'),
    );
    const rules = at(role, 'rules');
    for (const rule of Array.isArray(rules) ? rules : []) {
      const verbs = at(rule, 'verbs');
      expect(JSON.stringify(rule)).not.toContain('*');
      expect(verbs).not.toContain('watch');
      if (Array.isArray(verbs) && verbs.includes('list')) {
        expect(at(rule, 'resources')).toEqual(expect.arrayContaining([expect.stringMatching(/^(pods|replicasets)$/)]));
      } else {
        expect(at(rule, 'resourceNames')).toEqual(expect.any(Array));
      }
    }
    expect(made.stderr).toContain('Role "settings-reader"');
    expect(made.stderr).toContain('Deployment "app"');
  }, 120_000);

  it('let the function make a Namespace and objects in it, through a ClusterRole that still names each object', async () => {
    const namespace = uniqueName('team');
    const manifest = yamlOf(
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${namespace}}`,
      configMap('inside', {}, namespace),
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: inside, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: inside}}
  template:
    metadata: {labels: {app: inside}}
    spec: {containers: [{name: nginx, image: nginx:1.30.0}]}`,
    );
    const made = await grants('team', manifestFile('team', manifest));
    await applyAsAdmin(made.stdout, 'team');
    const lambda = await environment();

    const applied = await lambda.invoke({ action: 'apply-manifest', set: 'team', manifest }, 30_000);
    const found = await lambda.invoke({ action: 'get-manifest', set: 'team' });
    const deleted = await lambda.invoke(
      { action: 'delete-manifest', set: 'team', deleteCrdsAndNamespaces: true },
      30_000,
    );

    expect(result(applied)).toMatchObject({ counts: { created: 3 } });
    expect(actions(found)).toHaveLength(3);
    expect(result(deleted)).toMatchObject({ counts: { deleted: 3 } });
    expect(made.stdout).toContain(`namespaces the set creates (${namespace})`);
    expect(made.stdout).toContain('judged without pod diagnostics');
    const clusterRole = await scope.admin.get(
      restPath('rbac.authorization.k8s.io/v1', 'clusterroles', undefined, `lambda-eks-set:${scope.ns('default')}:team`),
    );
    const rules = at(clusterRole, 'rules');
    const names = (Array.isArray(rules) ? rules : []).map(
      (rule: unknown) => `${String(at(rule, 'resources', 0))}: ${JSON.stringify(at(rule, 'resourceNames'))}`,
    );
    expect(names.sort()).toEqual(
      [`configmaps: ["inside"]`, `deployments: ["inside"]`, `namespaces: ["${namespace}"]`].sort(),
    );
    for (const resource of ['clusterrolebindings', 'clusterroles']) {
      await scope.admin.delete(
        restPath('rbac.authorization.k8s.io/v1', resource, undefined, `lambda-eks-set:${scope.ns('default')}:team`),
      );
    }
  }, 120_000);

  it('keep an object the function may not prune in the set, and prune it once given the rights', async () => {
    const both = yamlOf(configMap('stays', {}), configMap('goes', {}));
    const one = configMap('stays', {});
    await applyAsAdmin((await grants('prune', manifestFile('both', both))).stdout, 'prune');
    const lambda = await environment();
    await lambda.invoke({ action: 'apply-manifest', set: 'prune', manifest: both });
    // Grants made from the new manifest alone: the removed object's rights are gone.
    await applyAsAdmin((await grants('prune', manifestFile('one', one))).stdout, 'prune');

    const refused = await lambda.invoke({ action: 'apply-manifest', set: 'prune', manifest: one });
    const recordedMeanwhile = await recordMembers(scope, 'prune', scope.ns('default'));
    await applyAsAdmin((await grants('prune', manifestFile('both', both))).stdout, 'prune');
    const granted = await lambda.invoke({ action: 'apply-manifest', set: 'prune', manifest: one });

    expect(result(refused)).toMatchObject({ counts: { unchanged: 1, kept: 1 } });
    expect(String(at(result(refused), 'objects', 1, 'message'))).toContain('the function may not prune it');
    expect(recordedMeanwhile).toEqual([
      `ConfigMap/${scope.ns('default')}/goes`,
      `ConfigMap/${scope.ns('default')}/stays`,
    ]);
    expect(result(granted)).toMatchObject({ counts: { unchanged: 1, pruned: 1 } });
    expect(await recordMembers(scope, 'prune', scope.ns('default'))).toEqual([
      `ConfigMap/${scope.ns('default')}/stays`,
    ]);
    expect(await scope.admin.get(restPath('v1', 'configmaps', scope.ns('default'), 'goes'))).toBeUndefined();
  }, 120_000);
});

describe('npm run grants, misused', () => {
  const runGrants = (args: string[]) =>
    run('npm', ['run', '--silent', 'grants', '--', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, KUBECONFIG: scope.info.kubeconfig },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it.each([
    [[], 'give at least one manifest file'],
    [['app.yaml'], '--set is required'],
    [['missing.yaml', '--set', 'app'], 'cannot read missing.yaml'],
    [['app.yaml', '--set', 'App'], '"App" is not a DNS-1123 label'],
  ])(
    '%j exits 2 with what is wrong and the usage',
    async (args, said) => {
      const path = manifestFile('app', configMap('a', {}));
      const answer = await runGrants(args.map((arg) => (arg === 'app.yaml' ? path : arg)));

      expect(answer.code).toBe(2);
      expect(answer.stderr).toContain(said);
      expect(answer.stderr).toContain('usage: npm run grants --');
      expect(answer.stdout).toBe('');
    },
    60_000,
  );

  it('names the file, the document and the kind the cluster does not serve', async () => {
    const path = manifestFile(
      'odd',
      yamlOf(configMap('a', {}), 'apiVersion: nowhere.example.com/v1\nkind: Gizmo\nmetadata: {name: g}'),
    );

    const answer = await runGrants([path, '--set', 'app']);

    expect(answer.code).toBe(2);
    expect(answer.stderr).toContain(`${path}: document 2 (Gizmo "g"): the cluster of kubeconfig context`);
    expect(answer.stderr).toContain('does not serve kind Gizmo of nowhere.example.com/v1');
  }, 60_000);
});
