// Serves invocations of one handler in its own process, the way Lambda's Node.js runtime does: the module is
// imported once (the init phase), then each invocation gets the event and a Lambda-shaped context, and the result
// goes back JSON-serialised, or the error as errorType/errorMessage. Messages travel over the IPC channel.
import { pathToFileURL } from 'node:url';
import { lambdaContext } from './lambda-context.mjs';

const [modulePath, handlerName] = process.argv.slice(2);
const initStarted = performance.now();
const userModule = await import(pathToFileURL(modulePath).href);
const handler = userModule[handlerName];
if (typeof handler !== 'function') {
  process.send({
    type: 'init-error',
    errorType: 'Runtime.HandlerNotFound',
    errorMessage: `${handlerName} is not exported`,
  });
  process.exit(1);
}
process.send({ type: 'ready', node: process.versions.node, initMs: performance.now() - initStarted });

process.on('message', async ({ id, event, timeoutMs, requestId }) => {
  const deadline = Date.now() + timeoutMs;
  const context = lambdaContext(requestId, deadline);
  try {
    const result = await handler(event, context);
    process.send({ type: 'result', id, ok: true, result: JSON.parse(JSON.stringify(result ?? null)) });
  } catch (error) {
    process.send({
      type: 'result',
      id,
      ok: false,
      errorType: error?.name ?? 'Error',
      errorMessage: error?.message ?? String(error),
    });
  }
});
