// The context object Lambda's Node.js runtime passes to a handler, for a deadline in epoch ms.
export function lambdaContext(requestId, deadline) {
  return {
    awsRequestId: requestId,
    functionName: 'lambda-eks-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:lambda-eks-test',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/lambda-eks-test',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
