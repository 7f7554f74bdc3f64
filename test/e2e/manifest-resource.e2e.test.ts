import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CfnReceiver } from '../support/cfn-receiver.js';
import { cfnRequests } from '../support/cfn-requests.js';
import { useCluster } from '../support/cluster.js';
import { at } from '../support/json.js';
import { restPath } from '../support/kube-admin.js';
import type { LambdaEnvironment } from '../support/lambda.js';
import { configMap, recordMembers, useSetIdentity, yamlOf } from '../support/sets.js';

// Custom::KubernetesManifest end to end: the bundle as Lambda runs it, CloudFormation's requests as it sends them,
// the real control plane, and a local receiver standing in for each request's presigned ResponseURL.
const receiver = new CfnReceiver();
const scope = useCluster({ namespaces: { other: [] }, cleanup: () => receiver.stop() });
const setEnv = useSetIdentity(scope);
const { request, send } = cfnRequests(receiver, 'Custom::KubernetesManifest');
const OTHER_STACK =
  'arn:aws:cloudformation:us-west-2:111122223333:stack/other-stack/7b4e2d3f-0000-0000-0000-000000000000';

beforeAll(async () => {
  await receiver.start();
});
beforeEach(() => {
  receiver.reset();
});

const environment = (): Promise<LambdaEnvironment> => scope.environment(setEnv());
const home = (): string => scope.ns('default');
const idOf = (set: string, namespace = home()): string => `lambda-eks/demo/${namespace}/set/${set}`;
const configMapIn = (name: string, namespace = home()) =>
  scope.admin.get(restPath('v1', 'configmaps', namespace, name));

describe('a Custom::KubernetesManifest', () => {
  it('lives through Create, an unchanged Update, an Update that prunes, and Delete', async () => {
    const lambda = await environment();
    const first = { SetName: 'web', Manifest: yamlOf(configMap('a', { v: '1' }), configMap('b', {})) };
    const second = { SetName: 'web', Manifest: configMap('a', { v: '2' }) };

    const created = await send(lambda, request('Create', first));
    const same = await send(
      lambda,
      request('Update', first, { PhysicalResourceId: idOf('web'), OldResourceProperties: first }),
    );
    const pruned = await send(
      lambda,
      request('Update', second, { PhysicalResourceId: idOf('web'), OldResourceProperties: first }),
    );
    const afterUpdate = await configMapIn('a');
    const deleted = await send(lambda, request('Delete', second, { PhysicalResourceId: idOf('web') }));

    expect(created).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: idOf('web'),
      Data: { SetName: 'web', SetId: expect.stringMatching(/^applyset-/), Objects: '2', Created: '2' },
    });
    expect(same).toMatchObject({ Status: 'SUCCESS', Data: { Unchanged: '2', Created: '0', Configured: '0' } });
    expect(pruned).toMatchObject({ Status: 'SUCCESS', Data: { Objects: '1', Configured: '1', Pruned: '1' } });
    expect(at(afterUpdate, 'data', 'v')).toBe('2');
    expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: idOf('web') });
    expect(await configMapIn('a')).toBeUndefined();
    expect(await recordMembers(scope, 'web', home())).toBeUndefined();
  }, 60_000);

  it('names its set after the stack and the logical id when SetName is not given', async () => {
    const lambda = await environment();

    const created = await send(
      lambda,
      request('Create', { Manifest: configMap('named', {}) }, { LogicalResourceId: 'My_App.Config' }),
    );

    expect(created).toMatchObject({ Status: 'SUCCESS', Data: { SetName: 'web-stack-my-app-config' } });
    expect(created['PhysicalResourceId']).toBe(idOf('web-stack-my-app-config'));
  });

  it('takes over the shared objects on a new SetName, and the Delete of the old id removes only the rest', async () => {
    const lambda = await environment();
    const old = { SetName: 'v1', Manifest: yamlOf(configMap('shared', { v: '1' }), configMap('old-only', {})) };
    const next = { SetName: 'v2', Manifest: yamlOf(configMap('shared', { v: '2' }), configMap('new-only', {})) };
    await send(lambda, request('Create', old));

    const replaced = await send(
      lambda,
      request('Update', next, { PhysicalResourceId: idOf('v1'), OldResourceProperties: old }),
    );
    // CloudFormation deletes the old resource once the stack update is complete.
    const cleanup = await send(lambda, request('Delete', old, { PhysicalResourceId: idOf('v1') }));

    expect(replaced).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: idOf('v2') });
    expect(cleanup).toMatchObject({ Status: 'SUCCESS' });
    expect(at(await configMapIn('shared'), 'data', 'v')).toBe('2');
    expect(await configMapIn('new-only')).toBeDefined();
    expect(await configMapIn('old-only')).toBeUndefined();
    expect(await recordMembers(scope, 'v1', home())).toBeUndefined();
    expect(await recordMembers(scope, 'v2', home())).toEqual([
      `ConfigMap/${home()}/new-only`,
      `ConfigMap/${home()}/shared`,
    ]);
  }, 60_000);

  it('undoes a replacement that fails, answers FAILED with the old id, and the rollback keeps the old set whole', async () => {
    const lambda = await environment();
    const old = { SetName: 'stable', Manifest: yamlOf(configMap('shared', { v: '1' }), configMap('kept', {})) };
    // The second document's typo is refused by strict field validation after the first was applied.
    const broken = {
      SetName: 'broken',
      Manifest: yamlOf(
        configMap('shared', { v: '2' }),
        configMap('fresh', {}),
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo}\ndatta: {}',
      ),
    };
    await send(lambda, request('Create', old));

    const failed = await send(
      lambda,
      request('Update', broken, { PhysicalResourceId: idOf('stable'), OldResourceProperties: old }),
    );
    const afterFailure = {
      shared: at(await configMapIn('shared'), 'metadata', 'labels', 'applyset.kubernetes.io/part-of'),
      fresh: await configMapIn('fresh'),
      broken: await recordMembers(scope, 'broken', home()),
    };
    const rolledBack = await send(
      lambda,
      request('Update', old, { PhysicalResourceId: idOf('stable'), OldResourceProperties: broken }),
    );

    expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: idOf('stable') });
    expect(String(failed['Reason'])).toMatch(/^KubernetesApiError: .*datta/);
    expect(String(failed['Reason'])).toContain('removed the new set');
    expect(afterFailure.fresh).toBeUndefined();
    expect(afterFailure.broken).toBeUndefined();
    expect(afterFailure.shared).toBe(
      String(
        at(
          await scope.admin.get(restPath('v1', 'configmaps', home(), 'lambda-eks-set-stable')),
          'metadata',
          'labels',
          'applyset.kubernetes.io/id',
        ),
      ),
    );
    expect(rolledBack).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: idOf('stable'), Data: { Objects: '2' } });
    expect(at(await configMapIn('shared'), 'data', 'v')).toBe('1');
  }, 60_000);

  it('answers a failed Create with the set id, so that the rollback Delete removes what it applied', async () => {
    const lambda = await environment();
    const broken = {
      SetName: 'half',
      Manifest: yamlOf(configMap('first', {}), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo}\ndatta: {}'),
    };

    const failed = await send(lambda, request('Create', broken));
    const applied = await configMapIn('first');
    const rollback = await send(
      lambda,
      request('Delete', broken, { PhysicalResourceId: String(failed['PhysicalResourceId']) }),
    );

    expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: idOf('half') });
    expect(applied).toBeDefined();
    expect(rollback).toMatchObject({ Status: 'SUCCESS' });
    expect(await configMapIn('first')).toBeUndefined();
    expect(await recordMembers(scope, 'half', home())).toBeUndefined();
  }, 60_000);

  it("never touches another stack's set of the same name: Create fails, Update and Delete change nothing", async () => {
    const lambda = await environment();
    const mine = { SetName: 'shared-name', Manifest: configMap('mine', { owner: 'web-stack' }) };
    const theirs = { SetName: 'shared-name', Manifest: configMap('theirs', {}) };
    await send(lambda, request('Create', mine));

    const refused = await send(lambda, request('Create', theirs, { StackId: OTHER_STACK }));
    // Their rollback, and an Update, of the id their failed Create answered.
    const update = await send(
      lambda,
      request('Update', theirs, {
        StackId: OTHER_STACK,
        PhysicalResourceId: idOf('shared-name'),
        OldResourceProperties: theirs,
      }),
    );
    const deleted = await send(
      lambda,
      request('Delete', theirs, { StackId: OTHER_STACK, PhysicalResourceId: idOf('shared-name') }),
    );

    expect(refused).toMatchObject({ Status: 'FAILED' });
    expect(String(refused['Reason'])).toMatch(
      /^SetConflictError: .*belongs to another stack resource \(resource Web of stack web-stack\)/,
    );
    expect(update).toMatchObject({ Status: 'SUCCESS' });
    expect(deleted).toMatchObject({ Status: 'SUCCESS' });
    expect(at(await configMapIn('mine'), 'data', 'owner')).toBe('web-stack');
    expect(await configMapIn('theirs')).toBeUndefined();
    expect(await recordMembers(scope, 'shared-name', home())).toEqual([`ConfigMap/${home()}/mine`]);
  }, 60_000);

  it("refuses a direct apply-manifest or delete-manifest of a stack's set: it changes through its stack", async () => {
    const lambda = await environment();
    await send(lambda, request('Create', { SetName: 'stacked', Manifest: configMap('stacked', { v: '1' }) }));

    const applied = await lambda.invoke({
      action: 'apply-manifest',
      set: 'stacked',
      manifest: configMap('stacked', { v: '2' }),
    });
    const deleted = await lambda.invoke({ action: 'delete-manifest', set: 'stacked' });

    for (const refused of [applied, deleted]) {
      expect(refused).toMatchObject({ ok: false, errorType: 'SetConflictError' });
      expect(!refused.ok && refused.errorMessage).toContain(
        'is managed by CloudFormation (resource Web of stack web-stack)',
      );
    }
    expect(at(await configMapIn('stacked'), 'data', 'v')).toBe('1');
  });

  it.each([
    [
      'an inline Manifest over 100,000 bytes',
      { Manifest: configMap('big', { blob: 'x'.repeat(100_001) }) },
      /^InvalidManifestError: Manifest is \d+ bytes, more than the 100000 .*ManifestUrl and ManifestSha256/,
    ],
    [
      'an output named like an attribute the resource always has',
      { Manifest: configMap('c', {}), Outputs: { Objects: { Kind: 'ConfigMap', Name: 'c', JsonPath: '{.data}' } } },
      /^InvalidEventError: Outputs\.Objects: is an attribute the resource always has/,
    ],
    [
      'outputs too long for the answer',
      {
        Manifest: configMap('long', { text: 'y'.repeat(5000) }),
        Outputs: { Text: { Kind: 'ConfigMap', Name: 'long', JsonPath: '{.data.text}' } },
      },
      /^InvalidEventError: Outputs\.Text: makes the answer \d+ bytes, more than the 4096 .*never cut short/,
    ],
    [
      'a JSONPath that selects many values',
      { Manifest: configMap('c', {}), Outputs: { All: { Kind: 'ConfigMap', Name: 'c', JsonPath: '{.data[*]}' } } },
      /^InvalidEventError: Outputs\.All\.JsonPath: .*filters, ranges, wildcards/,
    ],
  ])('refuses %s, saying what to do', async (_what, properties, reason) => {
    const lambda = await environment();

    const refused = await send(lambda, request('Create', { SetName: 'limits', ...properties }));

    expect(refused).toMatchObject({ Status: 'FAILED' });
    expect(String(refused['Reason'])).toMatch(reason);
    await send(lambda, request('Delete', properties, { PhysicalResourceId: idOf('limits') }));
  });

  it('refuses a structured Manifest, saying to pass a string', async () => {
    const lambda = await environment();

    const refused = await send(
      lambda,
      request('Create', {
        SetName: 'structured',
        Manifest: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
      }),
    );

    expect(refused).toMatchObject({ Status: 'FAILED' });
    expect(String(refused['Reason'])).toMatch(/^InvalidEventError: Manifest: must be a string/);
    expect(await configMapIn('x')).toBeUndefined();
  });

  it('reads outputs back: empty without Wait when there is no value yet, waited for with Wait', async () => {
    const lambda = await environment();
    const service = `apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: ClusterIP, selector: {app: web}, ports: [{port: 80}]}`;
    const outputs = {
      ClusterIp: { Kind: 'Service', Name: 'web', JsonPath: '{.spec.clusterIP}' },
      Mode: { Kind: 'ConfigMap', Name: 'settings', JsonPath: '{.data.mode}' },
      Later: { Kind: 'ConfigMap', Name: 'settings', JsonPath: "{.metadata.annotations['example.com/later']}" },
    };
    const properties = {
      SetName: 'out',
      Manifest: yamlOf(service, configMap('settings', { mode: 'blue' })),
      Outputs: outputs,
    };

    const created = await send(lambda, request('Create', properties));
    // With Wait, the empty output holds the answer until an operator writes it.
    const waiting = send(
      lambda,
      request(
        'Update',
        { ...properties, Wait: 'true' },
        { PhysicalResourceId: idOf('out'), OldResourceProperties: properties },
      ),
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await scope.admin.mergePatch(restPath('v1', 'configmaps', home(), 'settings'), {
      metadata: { annotations: { 'example.com/later': 'now' } },
    });
    const waited = await waiting;

    const live = await scope.admin.get(restPath('v1', 'services', home(), 'web'));
    expect(created).toMatchObject({
      Status: 'SUCCESS',
      Data: { ClusterIp: String(at(live, 'spec', 'clusterIP')), Mode: 'blue', Later: '' },
    });
    expect(waited).toMatchObject({ Status: 'SUCCESS', Data: { Later: 'now', Mode: 'blue' } });
  }, 60_000);

  it('answers FAILED before the deadline when a waited output never gets a value', async () => {
    const lambda = await environment();

    const started = Date.now();
    const failed = await send(
      lambda,
      request('Create', {
        SetName: 'never',
        Wait: 'true',
        Manifest: configMap('empty', {}),
        Outputs: { Missing: { Kind: 'ConfigMap', Name: 'empty', JsonPath: '{.data.never}' } },
      }),
      6000,
    );

    expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: idOf('never') });
    expect(String(failed['Reason'])).toMatch(
      /^RolloutTimeoutError: the outputs Missing of set "never" were still empty/,
    );
    expect(Date.now() - started).toBeLessThan(6000);
  }, 30_000);

  it("refuses an output that would copy a Secret's data into the stack", async () => {
    const lambda = await environment();

    const refused = await send(
      lambda,
      request('Create', {
        SetName: 'secretive',
        Manifest: 'apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter22}',
        Outputs: { Password: { Kind: 'Secret', Name: 'db', JsonPath: '{.data.password}' } },
      }),
    );

    expect(refused).toMatchObject({ Status: 'FAILED' });
    expect(String(refused['Reason'])).toContain('Outputs.Password.JsonPath: ');
    expect(String(refused['Reason'])).toContain("would copy a Secret's data into the stack");
    expect(JSON.stringify(refused)).not.toContain('hunter22');
  });
});

describe('resource types', () => {
  it('refuses a Create of a type it does not serve, naming the types it does', async () => {
    const lambda = await environment();

    const refused = await send(lambda, request('Create', { Name: 'web' }, { ResourceType: 'Custom::Something' }));

    expect(refused).toMatchObject({ Status: 'FAILED' });
    expect(String(refused['Reason'])).toMatch(
      /^InvalidEventError: ResourceType: "Custom::Something" is not a resource type this function serves/,
    );
    expect(String(refused['Reason'])).toContain('Custom::KubernetesManifest');
    expect(await scope.admin.get(restPath('apps/v1', 'deployments', home(), 'web'))).toBeUndefined();
  });

  it('serves an Update and a Delete of another type as a Custom::KubernetesDeployment, as earlier versions did', async () => {
    const lambda = await environment();
    const old = { Name: 'legacy', Replicas: '1' };
    // Made by an earlier version, which served every type as a Deployment.
    const created = await send(lambda, request('Create', old, { ResourceType: 'Custom::KubernetesDeployment' }));
    const id = String(created['PhysicalResourceId']);

    const updated = await send(
      lambda,
      request(
        'Update',
        { ...old, Replicas: '2' },
        { ResourceType: 'Custom::App', PhysicalResourceId: id, OldResourceProperties: old },
      ),
    );
    const deleted = await send(lambda, request('Delete', old, { ResourceType: 'Custom::App', PhysicalResourceId: id }));

    expect(updated).toMatchObject({ Status: 'SUCCESS', Data: { Name: 'legacy', Status: 'configured' } });
    expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'deleted' } });
    expect(await scope.admin.get(restPath('apps/v1', 'deployments', home(), 'legacy'))).toBeUndefined();
  }, 60_000);
});
