import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CfnReceiver } from '../support/cfn-receiver.js';
import { useTestBed } from '../support/hooks.js';
import { at } from '../support/json.js';
import type { LambdaEnvironment } from '../support/lambda.js';

// The function as a CloudFormation custom resource provider, end to end: the bundle as Lambda runs it, the API
// stand-in, and a local receiver standing in for the presigned S3 URL each request carries.
const STACK_ID = 'arn:aws:cloudformation:us-west-2:111122223333:stack/web-stack/6a3f1c2e-0000-0000-0000-000000000000';
const TYPE = 'Custom::KubernetesDeployment';
const receiver = new CfnReceiver();
const scope = useTestBed({
  overrides: {
    cluster: {
      observeDelayMs: 20,
      podReadyDelayMs: 50,
      images: { 'registry.example.com/slow:1': { readyAfterMs: 120_000 } },
    },
  },
  cleanup: () => receiver.stop(),
});
let requestCount = 0;

beforeAll(async () => {
  await receiver.start();
});

beforeEach(() => {
  receiver.reset();
});

interface Request {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly RequestId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
}

/** A request as CloudFormation sends it: every property value a string. */
function request(
  type: Request['RequestType'],
  properties: Record<string, string>,
  extra: {
    PhysicalResourceId?: string;
    OldResourceProperties?: Record<string, string>;
    LogicalResourceId?: string;
  } = {},
): Request & Record<string, unknown> {
  requestCount += 1;
  const id = `request-${requestCount}`;
  return {
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:us-west-2:111122223333:function:lambda-eks-demo-DeployerFunction',
    ResponseURL: receiver.urlFor(id),
    StackId: STACK_ID,
    RequestId: id,
    LogicalResourceId: extra.LogicalResourceId ?? 'Web',
    ResourceType: TYPE,
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:us-west-2:111122223333:function:f',
      ServiceTimeout: '600',
      ...properties,
    },
    ...(extra.PhysicalResourceId ? { PhysicalResourceId: extra.PhysicalResourceId } : {}),
    ...(extra.OldResourceProperties ? { OldResourceProperties: extra.OldResourceProperties } : {}),
  };
}

/** Invokes as CloudFormation does and returns the answer the receiver got for that request. */
async function send(lambda: LambdaEnvironment, event: Request, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const invocation = await lambda.invoke(event, timeoutMs);
  expect(invocation.ok).toBe(true);
  const answers = receiver.answers().filter((answer) => answer['RequestId'] === event.RequestId);
  expect(answers).toHaveLength(1);
  return answers[0] ?? {};
}

describe('a Custom::KubernetesDeployment', () => {
  it('lives through Create, Update of the image, a rename and its cleanup Delete, and Delete', async () => {
    const lambda = await scope.environment();
    const properties = { Name: 'web', Namespace: 'default', Replicas: '3', Image: 'nginx:1.30.0', Wait: 'true' };

    const created = await send(lambda, request('Create', properties));
    expect(created).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'lambda-eks/demo/default/web',
      StackId: STACK_ID,
      LogicalResourceId: 'Web',
      Data: {
        Name: 'web',
        Namespace: 'default',
        Status: 'created',
        Uid: at(scope.bed.server.deployment('default', 'web'), 'metadata', 'uid'),
      },
    });
    expect(at(scope.bed.server.deployment('default', 'web'), 'spec', 'replicas')).toBe(3);

    const updated = await send(
      lambda,
      request(
        'Update',
        { ...properties, Image: 'nginx:1.31.0' },
        { PhysicalResourceId: 'lambda-eks/demo/default/web', OldResourceProperties: properties },
      ),
    );
    expect(updated).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'lambda-eks/demo/default/web',
      Data: { Status: 'configured' },
    });
    expect(
      at(scope.bed.server.deployment('default', 'web'), 'spec', 'template', 'spec', 'containers', 0, 'image'),
    ).toBe('nginx:1.31.0');

    const renamed = await send(
      lambda,
      request(
        'Update',
        { ...properties, Name: 'web2' },
        { PhysicalResourceId: 'lambda-eks/demo/default/web', OldResourceProperties: properties },
      ),
    );
    expect(renamed).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'lambda-eks/demo/default/web2',
      Data: { Status: 'created' },
    });
    expect([...scope.bed.server.deployments.keys()].sort()).toEqual(['default/web', 'default/web2']);

    // CloudFormation's cleanup: the Delete of the old id, with the old properties.
    const cleanup = await send(
      lambda,
      request('Delete', properties, { PhysicalResourceId: 'lambda-eks/demo/default/web' }),
    );
    expect(cleanup).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'lambda-eks/demo/default/web' });
    expect([...scope.bed.server.deployments.keys()]).toEqual(['default/web2']);

    const deleted = await send(
      lambda,
      request('Delete', { ...properties, Name: 'web2' }, { PhysicalResourceId: 'lambda-eks/demo/default/web2' }),
    );
    expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'deleted' } });
    expect(scope.bed.server.deployments.size).toBe(0);

    const records = lambda.records().filter((record) => record['message'] === 'custom resource');
    expect(records.map((record) => [record['requestType'], record['outcome'], record['physicalResourceId']])).toEqual([
      ['Create', 'SUCCESS', 'lambda-eks/demo/default/web'],
      ['Update', 'SUCCESS', 'lambda-eks/demo/default/web'],
      ['Update', 'SUCCESS', 'lambda-eks/demo/default/web2'],
      ['Delete', 'SUCCESS', 'lambda-eks/demo/default/web'],
      ['Delete', 'SUCCESS', 'lambda-eks/demo/default/web2'],
    ]);
  });

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

    const failed = await send(lambda, request('Create', { Name: 'web', ...bad }));
    expect(failed).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(reason) });
    expect(String(failed['PhysicalResourceId'])).toMatch(/^lambda-eks\/not-created\//);

    const rollback = await send(
      lambda,
      request('Delete', { Name: 'web', ...bad }, { PhysicalResourceId: String(failed['PhysicalResourceId']) }),
    );
    expect(rollback).toMatchObject({ Status: 'SUCCESS' });
    expect(scope.bed.server.deployment('default', 'web')).toBeDefined();
  });

  it('fails a Create of a name that exists and belongs to no stack resource, changing nothing', async () => {
    const lambda = await scope.environment();
    await lambda.invoke({ name: 'web', replicas: 1 });
    // What a write could change; the controller's status updates move resourceVersion on their own.
    const specOf = () => {
      const object = scope.bed.server.deployment('default', 'web');
      return [
        at(object, 'spec'),
        at(object, 'metadata', 'generation'),
        at(object, 'metadata', 'annotations', 'lambda-eks/stack-resource'),
      ];
    };
    const before = specOf();

    const failed = await send(lambda, request('Create', { Name: 'web', Replicas: '5' }));

    expect(failed).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(
        /^KubernetesApiError: deployment default\/web already exists and was not created by this stack resource/,
      ),
    });
    expect(String(failed['PhysicalResourceId'])).toMatch(/^lambda-eks\/not-created\//);
    expect(specOf()).toEqual(before);
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
  });

  it('retries the answer when S3 fails the first PUTs', async () => {
    receiver.failNext(2);
    const lambda = await scope.environment();

    const answer = await send(lambda, request('Create', { Name: 'web' }));

    expect(answer).toMatchObject({ Status: 'SUCCESS' });
    expect(receiver.received.map((put) => put.status)).toEqual([503, 503, 200]);
  });

  it('answers FAILED, before the deadline, when the rollout outlasts the invocation', async () => {
    const lambda = await scope.environment();
    const started = Date.now();

    const answer = await send(
      lambda,
      request('Create', { Name: 'slow', Image: 'registry.example.com/slow:1', Wait: 'true' }),
      6000,
    );

    expect(answer).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: 'lambda-eks/demo/default/slow',
      Reason: expect.stringMatching(/^RolloutTimeoutError: /),
    });
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('cuts a Reason that would make the answer over 4096 bytes, keeping its errorType', async () => {
    scope.bed.server.inject({
      kind: 'webhook-denied',
      webhook: 'policy.example.com',
      message: `denied: ${'x'.repeat(6000)}`,
    });
    const lambda = await scope.environment();

    const answer = await send(lambda, request('Create', { Name: 'web' }));

    const put = receiver.received.slice(-1)[0];
    expect(Buffer.byteLength(put?.body ?? '')).toBeLessThanOrEqual(4096);
    expect(answer).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/^KubernetesApiError: .*\.\.\.$/) });
  });

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
    expect(scope.bed.server.requests).toHaveLength(0);
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
      request('Delete', { Name: 'other' }, { PhysicalResourceId: 'lambda-eks/demo/default/other' }),
    );

    expect(foreignId).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'arn:aws:something:else' });
    expect(othersObject).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'kept' } });
    expect(scope.bed.server.deployment('default', 'other')).toBeDefined();
  });

  it('gets through the reliability faults: a 503, a reset and a lost answer on its requests', async () => {
    scope.bed.server.inject({ kind: 'status', code: 503 }, { kind: 'reset' });
    const lambda = await scope.environment();

    const created = await send(lambda, request('Create', { Name: 'web' }));
    scope.bed.server.inject({ kind: 'delay', ms: 0 }, { kind: 'drop-after-create' });
    const deleted = await send(
      lambda,
      request('Delete', { Name: 'web' }, { PhysicalResourceId: 'lambda-eks/demo/default/web' }),
    );

    expect(created).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'created' } });
    expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'deleted' } });
  });
});

describe('an https ResponseURL', () => {
  let dir: string;
  let secure: CfnReceiver;

  beforeAll(async () => {
    secure = new CfnReceiver(scope.bed.pki.server);
    await secure.start();
    dir = mkdtempSync(join(tmpdir(), 'lambda-eks-ca-'));
    writeFileSync(join(dir, 'ca.pem'), scope.bed.pki.ca.cert);
  });

  afterAll(async () => {
    await secure.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is answered over verified TLS', async () => {
    // The receiver's certificate comes from the test CA, which this environment trusts besides the public ones.
    const lambda = await scope.environment({ ...scope.bed.env, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') });
    const event = { ...request('Create', { Name: 'web' }), ResponseURL: secure.urlFor('tls') };

    await lambda.invoke(event);

    expect(secure.answers()).toMatchObject([{ Status: 'SUCCESS', PhysicalResourceId: 'lambda-eks/demo/default/web' }]);
  });
});
