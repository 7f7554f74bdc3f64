// CloudFormation's custom resource requests, as it sends them (every property value a string, a presigned ResponseURL
// for each request), and the answer the receiver got for each.
import { expect } from '@jest/globals';
import type { CfnReceiver } from './cfn-receiver.js';
import type { LambdaEnvironment } from './lambda.js';

export const STACK_ID =
  'arn:aws:cloudformation:us-west-2:111122223333:stack/web-stack/6a3f1c2e-0000-0000-0000-000000000000';

/** A request of CloudFormation's: Create, Update or Delete. */
export interface CfnRequest extends Record<string, unknown> {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly RequestId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
}

let requestCount = 0;

/** Makes requests of `resourceType` answered to `receiver`: `defaults.properties` in every request's properties (and
 * old properties, as CloudFormation sends them both), `defaults.timeoutMs` for how long `send` waits by default. */
export function cfnRequests(
  receiver: CfnReceiver,
  resourceType: string,
  defaults: { readonly properties?: Record<string, string>; readonly timeoutMs?: number } = {},
) {
  const always = { ServiceToken: 'arn:aws:lambda:us-west-2:111122223333:function:f', ...defaults.properties };
  const request = (
    type: CfnRequest['RequestType'],
    properties: Record<string, unknown>,
    extra: {
      PhysicalResourceId?: string;
      OldResourceProperties?: Record<string, unknown>;
      LogicalResourceId?: string;
      StackId?: string;
      ResourceType?: string;
    } = {},
  ): CfnRequest => {
    requestCount += 1;
    const id = `request-${requestCount}`;
    return {
      RequestType: type,
      ServiceToken: 'arn:aws:lambda:us-west-2:111122223333:function:lambda-eks-demo-DeployerFunction',
      ResponseURL: receiver.urlFor(id),
      StackId: extra.StackId ?? STACK_ID,
      RequestId: id,
      LogicalResourceId: extra.LogicalResourceId ?? 'Web',
      ResourceType: extra.ResourceType ?? resourceType,
      ResourceProperties: { ...always, ...properties },
      ...(extra.PhysicalResourceId ? { PhysicalResourceId: extra.PhysicalResourceId } : {}),
      ...(extra.OldResourceProperties ? { OldResourceProperties: { ...always, ...extra.OldResourceProperties } } : {}),
    };
  };
  /** Invokes as CloudFormation does and returns the answer the receiver got for that request. */
  const send = async (
    lambda: LambdaEnvironment,
    event: CfnRequest,
    timeoutMs = defaults.timeoutMs ?? 20_000,
  ): Promise<Record<string, unknown>> => {
    const invocation = await lambda.invoke(event, timeoutMs);
    expect(invocation.ok).toBe(true);
    const answers = receiver.answers().filter((answer) => answer['RequestId'] === event.RequestId);
    expect(answers).toHaveLength(1);
    return answers[0] ?? {};
  };
  return { request, send };
}
