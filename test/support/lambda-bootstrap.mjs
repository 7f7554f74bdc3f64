// How Lambda's managed Node.js runtime starts Node, for the tests' execution environments (test/support/lambda.ts)
// and the benchmark: the one place that knows it. Dependency-free so that any script can import it.
//
// Source: the bootstrap script of the nodejs18.x managed runtime, /var/runtime/bootstrap in the public base image
// public.ecr.aws/lambda/nodejs:18 (aws/aws-lambda-base-images, branch nodejs18.x). It runs
//   /var/lang/bin/node --expose-gc --max-http-header-size 81920 \
//     --max-semi-space-size=$semi_space --max-old-space-size=$old_space /var/runtime/index.mjs
// with new_space=$(expr $AWS_LAMBDA_FUNCTION_MEMORY_SIZE / 10), semi_space=$(expr $new_space / 2) and
// old_space=$(expr $AWS_LAMBDA_FUNCTION_MEMORY_SIZE - $new_space) (shell integer division), after setting NODE_PATH
// and NODE_EXTRA_CA_CERTS (to the runtime's CA bundle, when the function sets none) and exporting AWS_EXECUTION_ENV;
// AWS_LAMBDA_EXEC_WRAPPER, when set, is run in front of the command. The function's NODE_OPTIONS apply on top, as Node
// reads them itself. AWS publishes no bootstrap for nodejs24.x; we assume it starts Node the same way.

/** SAM's default MemorySize for AWS::Serverless::Function, in MB. */
export const DEFAULT_MEMORY_SIZE_MB = 128;

/** The flags Lambda's Node.js bootstrap passes to node for a function of `memorySizeMb` MB, before the runtime's
 * script. Throws RangeError for a memory size Lambda does not accept (128 to 10240 MB, whole MB). */
export function lambdaNodeArgs(memorySizeMb) {
  if (!Number.isInteger(memorySizeMb) || memorySizeMb < 128 || memorySizeMb > 10_240) {
    throw new RangeError(`MemorySize must be a whole number of MB from 128 to 10240, not ${memorySizeMb}`);
  }
  const newSpace = Math.floor(memorySizeMb / 10);
  const semiSpace = Math.floor(newSpace / 2);
  const oldSpace = memorySizeMb - newSpace;
  return [
    '--expose-gc',
    '--max-http-header-size',
    '81920',
    `--max-semi-space-size=${semiSpace}`,
    `--max-old-space-size=${oldSpace}`,
  ];
}

/** The MemorySize of the one AWS::Serverless::Function in a parsed SAM template (its own, else Globals.Function's,
 * else SAM's default). Throws when the template does not have exactly one function or the value is not a number. */
export function memorySizeOf(template) {
  const functions = Object.values(template?.Resources ?? {}).filter(
    (resource) => resource?.Type === 'AWS::Serverless::Function',
  );
  if (functions.length !== 1) {
    throw new Error(`the template has ${functions.length} AWS::Serverless::Function resources; expected 1`);
  }
  const value = functions[0].Properties?.MemorySize ?? template.Globals?.Function?.MemorySize ?? DEFAULT_MEMORY_SIZE_MB;
  if (typeof value !== 'number') {
    throw new Error(`the function's MemorySize is ${JSON.stringify(value)}; expected a number of MB`);
  }
  return value;
}
