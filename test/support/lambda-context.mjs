// The identity of the function under test, shared by the execution environments (test/support/lambda.ts, which passes
// it to Lambda's runtime as its environment and Runtime API headers) and the in-process runner, which builds the
// context object Lambda's Node.js runtime would pass to the handler from it.
export const FUNCTION_NAME = 'lambda-eks-test';
export const FUNCTION_VERSION = '$LATEST';
export const FUNCTION_ARN = `arn:aws:lambda:us-west-2:111122223333:function:${FUNCTION_NAME}`;
export const LOG_GROUP_NAME = `/aws/lambda/${FUNCTION_NAME}`;
/** The template's MemorySize; runtime.e2e.test.ts checks that they agree. */
export const MEMORY_SIZE_MB = 256;

/** The context object Lambda's Node.js runtime passes to a handler, for a deadline in epoch ms. */
export function lambdaContext(requestId, deadline, logStreamName = 'test') {
  return {
    awsRequestId: requestId,
    functionName: FUNCTION_NAME,
    functionVersion: FUNCTION_VERSION,
    invokedFunctionArn: FUNCTION_ARN,
    memoryLimitInMB: String(MEMORY_SIZE_MB),
    logGroupName: LOG_GROUP_NAME,
    logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
