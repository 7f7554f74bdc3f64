import type { Context } from 'aws-lambda';
import { runAction, type ActionResult, type FunctionRequest } from '../run.js';
import { readConfig, readCredentials } from '../config.js';
import { describeThrown } from '../errors.js';
import { dropIdleConnection } from '../kube/http.js';
import { warm } from '../state.js';
import { workDeadline } from './deadline.js';
import { parseEvent } from './event.js';
import { log } from '../log.js';

/** Serves a direct invocation (console, CLI, pipeline): validates the configuration and the event, runs the action,
 * logs one record, and returns the result or throws the error (its `name` is Lambda's errorType). */
export async function serveDirect(event: unknown, context: Context): Promise<ActionResult> {
  const startedAt = Date.now();
  const deadline = workDeadline(startedAt, context.getRemainingTimeInMillis());
  dropIdleConnection(startedAt);
  let request: FunctionRequest | undefined;
  let clusterName: string | undefined;
  try {
    const config = (warm.config ??= readConfig(process.env));
    clusterName = config.clusterName;
    const credentials = readCredentials(process.env);
    request = parseEvent(event, config.namespace);
    const { result, requests } = await runAction({ config, credentials, startedAt, deadline }, request);
    log('info', 'invocation', {
      outcome: result.status,
      action: request.action,
      cluster: clusterName,
      namespace: request.namespace,
      ...subjectOf(request),
      dryRun: 'dryRun' in request ? request.dryRun : undefined,
      rollout: 'rollout' in result ? result.rollout?.state : undefined,
      // A set's record carries the counts, never the objects (a Secret's data never reaches a log).
      counts: 'counts' in result ? result.counts : undefined,
      requests,
      durationMs: Date.now() - startedAt,
    });
    return result;
  } catch (error) {
    const { name, message } = describeThrown(error);
    log('error', 'invocation', {
      outcome: 'error',
      errorType: name,
      errorMessage: message,
      action: request?.action,
      cluster: clusterName,
      namespace: request?.namespace,
      ...(request === undefined ? {} : subjectOf(request)),
      durationMs: Date.now() - startedAt,
    });
    throw error;
  }
}

/** What the request is about, for the log: the Deployment's name, or the set's. */
function subjectOf(request: FunctionRequest): { name: string } | { set: string } {
  return 'set' in request ? { set: request.set } : { name: request.name };
}
