import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CfnReceiver } from '../support/cfn-receiver.js';
import { cfnRequests, STACK_ID } from '../support/cfn-requests.js';
import { uniqueName, useCluster } from '../support/cluster.js';
import { at } from '../support/json.js';
import { restPath, type KubeObject } from '../support/kube-admin.js';
import type { LambdaEnvironment } from '../support/lambda.js';
import { useSetIdentity } from '../support/sets.js';

// The function as a CloudFormation custom resource provider, end to end: the bundle as Lambda runs it, the real
// control plane behind the file's fault proxy, and a local receiver standing in for the presigned S3 URL each request
// carries.
const TYPE = 'Custom::KubernetesDeployment';
/** How long a request that waits for a rollout may take: a real rolling update replaces one pod at a time. */
const WAIT_TIMEOUT_MS = 60_000;
const receiver = new CfnReceiver();
const scope = useCluster({ namespaces: { elsewhere: [] }, cleanup: () => receiver.stop() });
const setEnv = useSetIdentity(scope);
// Every request as a stack with ServiceTimeout 600 sends it.
const { request, send } = cfnRequests(receiver, TYPE, { properties: { ServiceTimeout: '600' }, timeoutMs: 10_000 });

beforeAll(async () => {
  await receiver.start();
});

beforeEach(() => {
  receiver.reset();
});

const ns = (): string => scope.ns('default');
/** The PhysicalResourceId of a Deployment of this test's namespace, in the format that never changes. */
const idOf = (name: string, cluster = 'demo'): string => `lambda-eks/${cluster}/${ns()}/${name}`;
const deploymentPath = (name: string): string => restPath('apps/v1', 'deployments', ns(), name);
const deployment = (name: string): Promise<KubeObject | undefined> => scope.admin.get(deploymentPath(name));
const deploymentNames = async (): Promise<string[]> =>
  (await scope.admin.list(restPath('apps/v1', 'deployments', ns())))
    .map((object) => object.metadata?.name ?? '')
    .sort();
const podsOf = (name: string): Promise<KubeObject[]> =>
  scope.admin.list(restPath('v1', 'pods', ns()), { labelSelector: `app.kubernetes.io/instance=${name}` });
const requestsWith = (method: string): number[] =>
  scope.proxy.requests.filter((request) => request.method === method).map((request) => request.status);

/** The function's `custom resource: nothing to delete` records. */
const nothingToDelete = (lambda: LambdaEnvironment): Record<string, unknown>[] =>
  lambda.records().filter((record) => record['message'] === 'custom resource: nothing to delete');

/** Holds every rollout of the test's namespace where it starts: a real ResourceQuota of zero pods, so that the
 * ReplicaSet controller can create none (the kwok pods of a normal image are ready within 1.5 s). */
async function holdRollouts(): Promise<void> {
  const name = 'no-pods';
  await scope.admin.create(restPath('v1', 'resourcequotas', ns()), {
    metadata: { name },
    spec: { hard: { pods: '0' } },
  });
  // Once the quota controller has counted the namespace, every admission of a pod sees the quota.
  await scope.admin.waitFor(
    restPath('v1', 'resourcequotas', ns(), name),
    (quota) => at(quota, 'status', 'hard', 'pods') === '0',
    'the resource quota controller to count the pods',
  );
}

/** Makes a real ValidatingAdmissionPolicy deny every Deployment created in the test's namespace with `message`: 422
 * Invalid by default, 403 Forbidden with reason Forbidden (what a denying webhook answers). Waits until kube-apiserver
 * enforces it; returns how to delete it and its binding. */
async function denyDeployments(message: string, reason: 'Forbidden' | undefined): Promise<() => Promise<void>> {
  const name = uniqueName('deny-deployments');
  const group = 'admissionregistration.k8s.io/v1';
  const remove = async (): Promise<void> => {
    await scope.admin.delete(restPath(group, 'validatingadmissionpolicybindings', undefined, name));
    await scope.admin.delete(restPath(group, 'validatingadmissionpolicies', undefined, name));
  };
  try {
    await scope.admin.create(restPath(group, 'validatingadmissionpolicies'), {
      metadata: { name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['deployments'] },
          ],
        },
        validations: [{ expression: 'false', message, ...(reason === undefined ? {} : { reason }) }],
      },
    });
    await scope.admin.create(restPath(group, 'validatingadmissionpolicybindings'), {
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns() } } },
      },
    });
    // kube-apiserver loads policies and bindings from its informers: a dry run shows when it enforces them.
    const probe = {
      metadata: { name: 'probe' },
      spec: {
        selector: { matchLabels: { probe: 'true' } },
        template: { metadata: { labels: { probe: 'true' } }, spec: { containers: [{ name: 'c', image: 'probe' }] } },
      },
    };
    const deadline = Date.now() + 30_000;
    for (;;) {
      const answer = await scope.admin.send('POST', `${restPath('apps/v1', 'deployments', ns())}?dryRun=All`, {
        body: probe,
      });
      if (JSON.stringify(answer.body).includes(`ValidatingAdmissionPolicy '${name}'`)) break;
      if (Date.now() > deadline) throw new Error(`policy ${name} not enforced after 30 s: ${answer.status}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return remove;
}

describe('a Custom::KubernetesDeployment', () => {
  it('lives through Create, Update of the image, a rename and its cleanup Delete, and Delete', async () => {
    const lambda = await scope.environment();
    const properties = { Name: 'web', Namespace: ns(), Replicas: '3', Image: 'nginx:1.30.0', Wait: 'true' };

    const created = await send(lambda, request('Create', properties), WAIT_TIMEOUT_MS);
    const stored = await deployment('web');
    expect(created).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: idOf('web'),
      StackId: STACK_ID,
      LogicalResourceId: 'Web',
      Data: { Name: 'web', Namespace: ns(), Status: 'created', Uid: stored?.metadata?.uid },
    });
    expect(stored?.metadata?.annotations?.['lambda-eks/stack-resource']).toBe(`${STACK_ID}#Web`);
    expect(at(stored, 'spec', 'replicas')).toBe(3);
    // Wait: the answer came once the rollout was complete.
    expect(stored?.['status']).toMatchObject({ updatedReplicas: 3, availableReplicas: 3 });

    const updated = await send(
      lambda,
      request(
        'Update',
        { ...properties, Image: 'nginx:1.31.0' },
        { PhysicalResourceId: idOf('web'), OldResourceProperties: properties },
      ),
      WAIT_TIMEOUT_MS,
    );
    expect(updated).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: idOf('web'),
      Data: { Status: 'configured', Uid: stored?.metadata?.uid },
    });
    const afterUpdate = await deployment('web');
    expect(at(afterUpdate, 'spec', 'template', 'spec', 'containers', 0, 'image')).toBe('nginx:1.31.0');
    expect(afterUpdate?.['status']).toMatchObject({
      observedGeneration: afterUpdate?.metadata?.['generation'],
      replicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
    });

    const renamed = await send(
      lambda,
      request(
        'Update',
        { ...properties, Name: 'web2' },
        { PhysicalResourceId: idOf('web'), OldResourceProperties: properties },
      ),
      WAIT_TIMEOUT_MS,
    );
    expect(renamed).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: idOf('web2'),
      Data: { Name: 'web2', Status: 'created' },
    });
    expect(await deploymentNames()).toEqual(['web', 'web2']);

    // CloudFormation's cleanup: the Delete of the old id, with the old properties (Wait: the pods are gone too).
    const cleanup = await send(lambda, request('Delete', properties, { PhysicalResourceId: idOf('web') }), 30_000);
    expect(cleanup).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: idOf('web') });
    expect(await deploymentNames()).toEqual(['web2']);
    expect(await podsOf('web')).toEqual([]);

    const deleted = await send(
      lambda,
      request('Delete', { ...properties, Name: 'web2' }, { PhysicalResourceId: idOf('web2') }),
      30_000,
    );
    expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'deleted' } });
    expect(await deploymentNames()).toEqual([]);

    const records = lambda.records().filter((record) => record['message'] === 'custom resource');
    expect(records.map((record) => [record['requestType'], record['outcome'], record['physicalResourceId']])).toEqual([
      ['Create', 'SUCCESS', idOf('web')],
      ['Update', 'SUCCESS', idOf('web')],
      ['Update', 'SUCCESS', idOf('web2')],
      ['Delete', 'SUCCESS', idOf('web')],
      ['Delete', 'SUCCESS', idOf('web2')],
    ]);
  }, 120_000);

  it('answers with a PUT, an empty Content-Type and the byte length', async () => {
    const lambda = await scope.environment();

    await send(lambda, request('Create', { Name: 'web' }));

    const [put] = receiver.received.slice(-1);
    expect(put).toMatchObject({ method: 'PUT', contentType: '' });
    expect(Number(put?.contentLength)).toBe(Buffer.byteLength(put?.body ?? ''));
    expect(put?.path).toContain('X-Amz-Signature=');
  });

  it.each([
    ['Replicas: "3.0"', { Replicas: '3.0' }, /^InvalidEventError: Replicas: must be a whole number/],
    ['Wait: "yes"', { Wait: 'yes' }, /^InvalidEventError: Wait: must be true or false/],
    [
      'an unknown property',
      { Replica: '3' },
      /^InvalidEventError: Replica: is not a property of Custom::KubernetesDeployment/,
    ],
  ])('fails a Create with %s, naming it, and its rollback Delete deletes nothing', async (_label, bad, reason) => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web' });
    const sentBefore = scope.proxy.requests.length;
    const create = request('Create', { Name: 'web', ...bad });

    const failed = await send(lambda, create);
    expect(failed).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(reason),
      PhysicalResourceId: `lambda-eks/not-created/${create.RequestId}`,
    });

    const rollback = await send(
      lambda,
      request('Delete', { Name: 'web', ...bad }, { PhysicalResourceId: String(failed['PhysicalResourceId']) }),
    );
    expect(rollback).toMatchObject({ Status: 'SUCCESS' });
    expect(await deployment('web')).toBeDefined();
    // Neither request reached the cluster.
    expect(scope.proxy.requests).toHaveLength(sentBefore);
  });

  it('fails a Create of a name that exists and belongs to no stack resource, changing nothing', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web', replicas: 1 });
    // What a write could change; the controllers' status updates move resourceVersion on their own.
    const specOf = async () => {
      const object = await deployment('web');
      return [
        at(object, 'spec'),
        at(object, 'metadata', 'generation'),
        at(object, 'metadata', 'annotations', 'lambda-eks/stack-resource'),
        at(object, 'metadata', 'uid'),
      ];
    };
    const before = await specOf();

    const failed = await send(lambda, request('Create', { Name: 'web', Replicas: '5' }));

    expect(failed).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(
        new RegExp(
          `^KubernetesApiError: deployment ${ns()}/web already exists and was not created by this stack resource`,
        ),
      ),
    });
    expect(String(failed['PhysicalResourceId'])).toMatch(/^lambda-eks\/not-created\//);
    expect(await specOf()).toEqual(before);
    expect(before[2]).toBeUndefined();
  });

  it('succeeds when Lambda retries a Create that already made its Deployment', async () => {
    const lambda = await scope.environment();
    const create = request('Create', { Name: 'web' });

    const first = await send(lambda, create);
    receiver.reset();
    const retried = await send(lambda, create);

    expect(retried).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: first['PhysicalResourceId'],
      Data: { Uid: at(first, 'Data', 'Uid') },
    });
    expect(at(await deployment('web'), 'metadata', 'uid')).toBe(at(first, 'Data', 'Uid'));
    expect(await deploymentNames()).toEqual(['web']);
  });

  it('retries the answer when S3 fails the first PUTs', async () => {
    receiver.failNext(2);
    const lambda = await scope.environment();

    const answer = await send(lambda, request('Create', { Name: 'web' }));

    expect(answer).toMatchObject({ Status: 'SUCCESS' });
    expect(receiver.received.map((put) => put.status)).toEqual([503, 503, 200]);
  });

  it('answers FAILED, before the deadline, when the rollout outlasts the invocation', async () => {
    await holdRollouts();
    const lambda = await scope.environment();
    const started = Date.now();

    const answer = await send(lambda, request('Create', { Name: 'slow', Wait: 'true' }), 6000);

    expect(answer).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: idOf('slow'),
      Reason: expect.stringMatching(new RegExp(`^RolloutTimeoutError: deployment ${ns()}/slow `)),
    });
    expect(Date.now() - started).toBeLessThan(6000);
    // The quota held the rollout: no pod was ever made.
    expect(await podsOf('slow')).toEqual([]);
  });

  it('fails the invocation, before the deadline and without quoting the URL, when S3 never takes the answer', async () => {
    receiver.failNext(1000);
    const lambda = await scope.environment();
    const create = request('Create', { Name: 'web' });

    const invocation = await lambda.invoke(create, 3000);

    expect(invocation).toMatchObject({ ok: false, errorType: 'ResponseNotDeliveredError' });
    expect(invocation.durationMs).toBeLessThan(3000);
    expect(receiver.received.length).toBeGreaterThan(1);
    const signature = new URL(String(create['ResponseURL'])).searchParams.get('X-Amz-Signature') ?? '';
    expect(signature).not.toBe('');
    expect(JSON.stringify(invocation)).not.toContain(signature);
    expect(lambda.logs.join('\n')).not.toContain(signature);
    expect(lambda.records().filter((record) => record['message'] === 'custom resource')).toEqual([
      expect.objectContaining({ level: 'ERROR', outcome: 'undelivered', errorType: 'ResponseNotDeliveredError' }),
    ]);
  });

  it('logs an answered request at the level of its answer: SUCCESS at INFO, FAILED at ERROR', async () => {
    const lambda = await scope.environment();

    await send(lambda, request('Create', { Name: 'web' }));
    await send(lambda, request('Create', { Name: 'web', Replicas: 'many' }));

    expect(lambda.records().filter((record) => record['message'] === 'custom resource')).toEqual([
      expect.objectContaining({ level: 'INFO', outcome: 'SUCCESS' }),
      expect.objectContaining({ level: 'ERROR', outcome: 'FAILED', errorType: 'InvalidEventError' }),
    ]);
  });

  it.each([
    ['403 Forbidden', 'Forbidden' as const, 'HTTP 403 Forbidden'],
    ['422 Invalid', undefined, 'HTTP 422 Invalid'],
  ])(
    'cuts a Reason that would make the answer over 4096 bytes, keeping its errorType (admission %s)',
    async (_label, reason, said) => {
      const removePolicy = await denyDeployments(`denied: ${'x'.repeat(6000)}`, reason);
      try {
        const lambda = await scope.environment();

        const answer = await send(lambda, request('Create', { Name: 'web' }));

        const put = receiver.received.slice(-1)[0];
        expect(Buffer.byteLength(put?.body ?? '')).toBeLessThanOrEqual(4096);
        expect(Buffer.byteLength(put?.body ?? '')).toBeGreaterThan(4000);
        expect(answer).toMatchObject({
          Status: 'FAILED',
          Reason: expect.stringMatching(/^KubernetesApiError: .*\.\.\.$/),
        });
        expect(answer['Reason']).toContain(`${said}: deployments.apps "web" is forbidden: ValidatingAdmissionPolicy`);
        expect(await deployment('web')).toBeUndefined();
      } finally {
        await removePolicy();
      }
    },
  );

  it('refuses an http:// ResponseURL that is not loopback, without sending anything or quoting it', async () => {
    const lambda = await scope.environment();
    const event = {
      ...request('Create', { Name: 'web' }),
      ResponseURL: 'http://s3.example.com/bucket/key?X-Amz-Signature=secretsig0123456789',
    };

    const invocation = await lambda.invoke(event);

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'InvalidEventError',
      errorMessage: expect.stringMatching(/^ResponseURL: /),
    });
    expect(!invocation.ok && invocation.errorMessage).not.toContain('secretsig');
    expect(lambda.logs.join('\n')).not.toContain('secretsig');
    expect(scope.proxy.requests).toHaveLength(0);
  });

  it('deletes nothing for an id that is not one of its own, and for one whose object another resource made', async () => {
    const lambda = await scope.environment();
    await send(lambda, request('Create', { Name: 'other' }, { LogicalResourceId: 'Other' }));

    const foreignId = await send(
      lambda,
      request('Delete', { Name: 'web' }, { PhysicalResourceId: 'arn:aws:something:else' }),
    );
    const othersObject = await send(
      lambda,
      request('Delete', { Name: 'other' }, { PhysicalResourceId: idOf('other') }),
    );

    expect(foreignId).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'arn:aws:something:else' });
    expect(othersObject).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'kept' } });
    expect(await deployment('other')).toBeDefined();
    expect(requestsWith('DELETE')).toEqual([]);
    expect(nothingToDelete(lambda)).toEqual([
      expect.objectContaining({
        level: 'INFO',
        physicalResourceId: 'arn:aws:something:else',
        reason: expect.any(String),
      }),
      expect.objectContaining({ level: 'INFO', physicalResourceId: idOf('other'), reason: expect.any(String) }),
    ]);
  });

  it("deletes nothing in its cluster for another cluster's id, and answers FAILED saying how to finish", async () => {
    const lambda = await scope.environment();
    await send(lambda, request('Create', { Name: 'web' }));

    const otherCluster = await send(
      lambda,
      request('Delete', { Name: 'web' }, { PhysicalResourceId: idOf('web', 'prod') }),
    );

    expect(otherCluster).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: idOf('web', 'prod'),
      Reason: expect.stringMatching(/^ConfigurationError: CLUSTER_NAME: this function manages cluster "demo", but/),
    });
    expect(otherCluster['Reason']).toContain(`is in cluster "prod"`);
    expect(otherCluster['Reason']).toContain('--retain-resources Web');
    expect(await deployment('web')).toBeDefined();
    expect(requestsWith('DELETE')).toEqual([]);
  });

  it('leaves its Deployment to the set that took it over: a Delete answers SUCCESS, kept, and says why', async () => {
    const lambda = await scope.environment();
    await send(lambda, request('Create', { Name: 'web' }));
    const sets = await scope.environment(setEnv());
    const adopted = await sets.invoke(
      {
        action: 'apply-manifest',
        set: 'platform',
        adopt: true,
        manifest: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'web' },
            spec: {
              selector: { matchLabels: { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web' } },
              template: {
                metadata: { labels: { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web' } },
                spec: { containers: [{ name: 'nginx', image: 'nginx:1.30.0' }] },
              },
            },
          },
        ],
      },
      20_000,
    );

    const kept = await send(lambda, request('Delete', { Name: 'web' }, { PhysicalResourceId: idOf('web') }));

    expect(adopted.ok).toBe(true);
    expect(kept).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: idOf('web'), Data: { Status: 'kept' } });
    expect(await deployment('web')).toBeDefined();
    expect(requestsWith('DELETE')).toEqual([]);
    expect(nothingToDelete(lambda)).toEqual([
      expect.objectContaining({
        level: 'INFO',
        physicalResourceId: idOf('web'),
        reason: expect.stringContaining(`belongs to set ${ns()}/platform`),
      }),
    ]);
  }, 40_000);

  it('answers SUCCESS for a Delete of an object already gone', async () => {
    const lambda = await scope.environment();

    const gone = await send(lambda, request('Delete', { Name: 'gone' }, { PhysicalResourceId: idOf('gone') }));

    expect(gone).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: idOf('gone'), Data: { Status: 'absent' } });
    expect(requestsWith('DELETE')).toEqual([]);
    expect(nothingToDelete(lambda)).toEqual([
      expect.objectContaining({ level: 'INFO', physicalResourceId: idOf('gone'), reason: expect.any(String) }),
    ]);
  });

  it("keeps its Deployment's namespace when only the function's default NAMESPACE changed", async () => {
    const before = await scope.environment();
    const create = await send(before, request('Create', { Name: 'web' }));
    const after = await scope.environment({ ...scope.env, NAMESPACE: scope.ns('elsewhere') });

    const updated = await send(
      after,
      request(
        'Update',
        { Name: 'web', Replicas: '3' },
        { PhysicalResourceId: idOf('web'), OldResourceProperties: { Name: 'web' } },
      ),
    );

    expect(updated).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: create['PhysicalResourceId'],
      Data: { Namespace: ns(), Status: 'configured' },
    });
    expect(at(await deployment('web'), 'spec', 'replicas')).toBe(3);
    expect(await scope.admin.get(restPath('apps/v1', 'deployments', scope.ns('elsewhere'), 'web'))).toBeUndefined();
  });

  it('rolls a rename back to the Deployment it had, converged, and never deletes it', async () => {
    const lambda = await scope.environment();
    const a = { Name: 'web-a', Replicas: '1' };
    const b = { Name: 'web-b', Replicas: '1' };
    await send(lambda, request('Create', a));
    const original = await deployment('web-a');
    await send(lambda, request('Update', b, { PhysicalResourceId: idOf('web-a'), OldResourceProperties: a }));

    // The rollback's properties are the old ones; say the template had asked for 2 replicas of web-a.
    const rolledBack = await send(
      lambda,
      request('Update', { ...a, Replicas: '2' }, { PhysicalResourceId: idOf('web-b'), OldResourceProperties: b }),
    );

    expect(rolledBack).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: idOf('web-a'),
      Data: { Uid: original?.metadata?.uid, Status: 'configured' },
    });
    expect(at(await deployment('web-a'), 'spec', 'replicas')).toBe(2);
  });

  it('leaves the Deployment a failed rollback of a rename went back to, and says so truly', async () => {
    // No pod can start in the namespace, so no rollout completes: the rename's wait fails, then the rollback's.
    await holdRollouts();
    const lambda = await scope.environment();
    const a = { Name: 'web-a', Wait: 'true' };
    const b = { Name: 'web-b', Wait: 'true' };
    await send(lambda, request('Create', { Name: 'web-a' }));
    const original = await deployment('web-a');
    const renamed = await send(
      lambda,
      request('Update', b, { PhysicalResourceId: idOf('web-a'), OldResourceProperties: a }),
      6000,
    );

    const rolledBack = await send(
      lambda,
      request('Update', a, { PhysicalResourceId: idOf('web-b'), OldResourceProperties: b }),
      6000,
    );

    expect(renamed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: idOf('web-a') });
    expect(renamed['Reason']).toContain(`The function deleted the new Deployment ${ns()}/web-b again`);
    expect(rolledBack).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: idOf('web-b'),
      Reason: expect.stringMatching(/^RolloutTimeoutError: /),
    });
    expect(rolledBack['Reason']).toContain(`Deployment ${ns()}/web-a existed before this update`);
    expect(rolledBack['Reason']).not.toMatch(/deleted|stays/);
    expect(at(await deployment('web-a'), 'metadata', 'uid')).toBe(original?.metadata?.uid);
    expect(await deploymentNames()).toEqual(['web-a']);
  }, 60_000);

  it('deletes with Wait whatever its other properties say, and answers once the pods are gone', async () => {
    const lambda = await scope.environment();
    await send(lambda, request('Create', { Name: 'web', Wait: 'true' }), WAIT_TIMEOUT_MS);
    expect(await podsOf('web')).toHaveLength(2);

    const deleted = await send(
      lambda,
      request(
        'Delete',
        { Name: 'web', Replicas: '3.0', Bogus: 'x', Wait: 'true' },
        { PhysicalResourceId: idOf('web') },
      ),
      30_000,
    );

    expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'deleted' } });
    expect(await deployment('web')).toBeUndefined();
    expect(await podsOf('web')).toEqual([]);
    // A foreground deletion: the server removed the pods before the Deployment.
    const deletion = scope.proxy.requests.find((seen) => seen.method === 'DELETE');
    expect(at(JSON.parse(deletion?.body ?? '{}'), 'propagationPolicy')).toBe('Foreground');
  });

  it('removes a replacement whose rollout failed before answering FAILED, and keeps the old Deployment', async () => {
    const lambda = await scope.environment();
    const old = { Name: 'web' };
    await send(lambda, request('Create', old));
    const before = await deployment('web');
    const replacing = { Name: 'web2', Image: 'nginx:1.30.0-does-not-exist', Wait: 'true' };

    const failed = await send(
      lambda,
      request('Update', replacing, { PhysicalResourceId: idOf('web'), OldResourceProperties: old }),
      WAIT_TIMEOUT_MS,
    );
    // CloudFormation rolls back: an Update of the old resource back to its old properties.
    const rolledBack = await send(
      lambda,
      request('Update', old, { PhysicalResourceId: idOf('web'), OldResourceProperties: replacing }),
    );

    expect(failed).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: idOf('web'),
      Reason: expect.stringMatching(/^RolloutFailedError: .*nginx:1\.30\.0-does-not-exist/),
    });
    expect(await deployment('web2')).toBeUndefined();
    expect(requestsWith('DELETE')).toEqual([200]);
    expect(rolledBack).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: idOf('web'),
      Data: { Status: 'unchanged', Uid: before?.metadata?.uid },
    });
    expect(await deploymentNames()).toEqual(['web']);
    expect(lambda.records().filter((record) => record['level'] === 'WARN')).toEqual([]);
  });

  it('takes over fields of another field manager only when Force is true', async () => {
    const lambda = await scope.environment();
    // A template sets Force for every request type: a Create takes it and has nothing to force.
    const created = await send(lambda, request('Create', { Name: 'web', Replicas: '2', Force: 'true' }));
    await scope.admin.mergePatch(deploymentPath('web'), { spec: { replicas: 4 } }, 'kubectl-edit');

    const refused = await send(
      lambda,
      request('Update', { Name: 'web', Replicas: '3' }, { PhysicalResourceId: idOf('web'), OldResourceProperties: {} }),
    );
    const replicasAfterRefusal = at(await deployment('web'), 'spec', 'replicas');
    const forced = await send(
      lambda,
      request(
        'Update',
        { Name: 'web', Replicas: '3', Force: 'true' },
        { PhysicalResourceId: idOf('web'), OldResourceProperties: {} },
      ),
    );

    expect(created).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'created' } });
    expect(refused).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: idOf('web'),
      Reason: expect.stringMatching(/^KubernetesApiError: .*\.spec\.replicas is owned by "kubectl-edit"/),
    });
    expect(replicasAfterRefusal).toBe(4);
    expect(forced).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'configured' } });
    const after = await deployment('web');
    expect(at(after, 'spec', 'replicas')).toBe(3);
    const managedFields = at(after, 'metadata', 'managedFields');
    const editorsFields = (Array.isArray(managedFields) ? managedFields : []).filter(
      (entry) => at(entry, 'manager') === 'kubectl-edit',
    );
    expect(JSON.stringify(editorsFields)).not.toContain('f:replicas');
  });

  it('gets through the reliability faults: a 503, a reset and a lost answer on its requests', async () => {
    scope.proxy.inject([{ kind: 'status', code: 503 }, { kind: 'reset' }]);
    const lambda = await scope.environment();

    const created = await send(lambda, request('Create', { Name: 'web' }));
    // The DELETE reaches the server, which deletes the Deployment; its answer is lost on the way back.
    scope.proxy.inject([{ kind: 'lose-answer' }], ({ method }) => method === 'DELETE');
    const deleted = await send(lambda, request('Delete', { Name: 'web' }, { PhysicalResourceId: idOf('web') }));

    expect(created).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'created' } });
    expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'deleted' } });
    expect(requestsWith('POST')).toEqual([503, 0, 201]);
    expect(requestsWith('DELETE')).toEqual([0, 404]);
    expect(await deployment('web')).toBeUndefined();
  });
});

describe('an https ResponseURL', () => {
  let dir: string;
  let secure: CfnReceiver;

  beforeAll(async () => {
    secure = new CfnReceiver(scope.info.pki.server);
    await secure.start();
    dir = mkdtempSync(join(tmpdir(), 'lambda-eks-ca-'));
    writeFileSync(join(dir, 'ca.pem'), scope.info.pki.ca.cert);
  });

  afterAll(async () => {
    await secure.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is answered over verified TLS', async () => {
    // The receiver's certificate comes from the test CA, which this environment trusts besides the public ones.
    const lambda = await scope.environment({ ...scope.env, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') });
    const event = { ...request('Create', { Name: 'web' }), ResponseURL: secure.urlFor('tls') };

    await lambda.invoke(event);

    expect(secure.answers()).toMatchObject([{ Status: 'SUCCESS', PhysicalResourceId: idOf('web') }]);
  });
});
