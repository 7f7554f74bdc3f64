import { describe, expect, it } from '@jest/globals';
import { InvalidEventError } from '../../../src/errors.js';
import { MAX_RESPONSE_BYTES, responseBody, type CfnResponse } from '../../../src/lambda/cfn-response.js';
import {
  isCustomResourceRequest,
  parseCustomResourceRequest,
  parsePhysicalResourceId,
  physicalResourceId,
} from '../../../src/lambda/custom-resource.js';

const REQUEST = {
  RequestType: 'Create',
  ResponseURL:
    'https://cloudformation-custom-resource-response-uswest2.s3.us-west-2.amazonaws.com/x?X-Amz-Signature=abc',
  StackId: 'arn:aws:cloudformation:us-west-2:111122223333:stack/web/6a3f',
  RequestId: 'c5f0d7e2-1',
  LogicalResourceId: 'Web',
  ResourceType: 'Custom::KubernetesDeployment',
  ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-west-2:111122223333:function:f', Name: 'web' },
};

describe('isCustomResourceRequest', () => {
  it('recognises CloudFormation requests and nothing else', () => {
    expect(isCustomResourceRequest(REQUEST)).toBe(true);
    expect(isCustomResourceRequest({ name: 'web' })).toBe(false);
    expect(isCustomResourceRequest(null)).toBe(false);
    expect(isCustomResourceRequest({ RequestType: 'Create' })).toBe(false);
  });
});

describe('parseCustomResourceRequest', () => {
  it('reads the envelope and the properties', () => {
    expect(parseCustomResourceRequest(REQUEST)).toMatchObject({
      requestType: 'Create',
      logicalResourceId: 'Web',
      physicalResourceId: undefined,
      properties: { Name: 'web' },
    });
  });

  it.each([
    ['http to a host that is not loopback', 'http://example.com/x?X-Amz-Signature=abc'],
    ['another scheme', 'ftp://127.0.0.1/x'],
    ['not a URL', 'not a url'],
  ])('refuses a ResponseURL that is %s, without quoting it', (_label, url) => {
    const parse = () => parseCustomResourceRequest({ ...REQUEST, ResponseURL: url });
    expect(parse).toThrow(InvalidEventError);
    expect(parse).toThrow(/^ResponseURL: /);
    expect(parse).not.toThrow(/X-Amz-Signature/);
  });

  it.each(['http://127.0.0.1:8080/x', 'http://[::1]:8080/x', 'http://localhost/x'])('accepts loopback %s', (url) => {
    expect(parseCustomResourceRequest({ ...REQUEST, ResponseURL: url }).responseUrl.href).toBe(new URL(url).href);
  });

  it('requires the PhysicalResourceId of an Update or Delete', () => {
    expect(() => parseCustomResourceRequest({ ...REQUEST, RequestType: 'Delete' })).toThrow(/^PhysicalResourceId: /);
  });

  it('names a RequestType CloudFormation never sends', () => {
    expect(() => parseCustomResourceRequest({ ...REQUEST, RequestType: 'Upsert' })).toThrow(/^RequestType: /);
  });
});

describe('the PhysicalResourceId', () => {
  it('has the documented format, and reads back', () => {
    const id = physicalResourceId('my-cluster', 'apps', 'web');
    expect(id).toBe('lambda-eks/my-cluster/apps/web');
    expect(parsePhysicalResourceId(id)).toEqual({ cluster: 'my-cluster', namespace: 'apps', name: 'web' });
  });

  it.each([
    'lambda-eks/not-created/c5f0d7e2-1',
    'web',
    'arn:aws:something',
    'lambda-eks/c/ns/name/extra',
    '',
    'lambda-eks/c/NS/web',
  ])('is not ours when it is %j', (id) => {
    expect(parsePhysicalResourceId(id)).toBeUndefined();
  });
});

describe('responseBody', () => {
  const base: CfnResponse = {
    Status: 'FAILED',
    PhysicalResourceId: 'lambda-eks/demo/default/web',
    StackId: REQUEST.StackId,
    RequestId: REQUEST.RequestId,
    LogicalResourceId: 'Web',
  };

  it('leaves a short answer whole', () => {
    const response = { ...base, Reason: 'RolloutFailedError: image not found' };
    expect(JSON.parse(responseBody(response))).toEqual(response);
  });

  it.each([
    ['ASCII', 'x'],
    ['multi-byte', 'ü'],
    ['escaped', '"'],
  ])('cuts an over-long %s Reason to fit 4096 bytes, keeping the errorType', (_label, char) => {
    const body = responseBody({ ...base, Reason: `RolloutFailedError: ${char.repeat(10_000)}` });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_RESPONSE_BYTES - 8);
    const parsed: unknown = JSON.parse(body);
    expect(parsed).toMatchObject({ ...base, Reason: expect.stringMatching(/^RolloutFailedError: .*\.\.\.$/) });
  });
});
