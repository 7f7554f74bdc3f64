import type { Context } from 'aws-lambda';
import { resolveCluster } from './cluster.js';
import { readConfig, readCredentials } from './config.js';
import { DEADLINE_RESERVE_MS } from './constants.js';
import { describeThrown } from './errors.js';
import { ensureDeployment, type DeploymentResult } from './ensure-deployment.js';
import { parseEvent, type DeploymentRequest } from './event.js';
import { beginInvocationLog, log } from './log.js';
import { warm } from './state.js';

export type { DeploymentResult };

/** The Lambda entry point: validates the configuration and the event, then creates the Deployment (or finds it there)
 * and returns the result. Throws one of the errors in errors.ts; Lambda reports its name as errorType. */
export async function handler(event: unknown, context: Context): Promise<DeploymentResult> {
  const started = Date.now();
  beginInvocationLog(context);
  const deadline = started + context.getRemainingTimeInMillis() - DEADLINE_RESERVE_MS;
  let request: DeploymentRequest | undefined;
  let clusterName: string | undefined;
  try {
    const config = (warm.config ??= readConfig(process.env));
    clusterName = config.clusterName;
    const credentials = readCredentials(process.env);
    request = parseEvent(event, config.namespace);
    const cluster = await resolveCluster(config, deadline);
    const outcome = await ensureDeployment({
      clusterName: config.clusterName,
      region: config.region,
      cluster,
      credentials,
      request,
      deadline,
    });
    log('info', 'invocation', {
      outcome: outcome.result.status,
      cluster: clusterName,
      namespace: request.namespace,
      name: request.name,
      dryRun: request.dryRun,
      attempts: outcome.attempts,
      durationMs: Date.now() - started,
    });
    return outcome.result;
  } catch (error) {
    const { name, message } = describeThrown(error);
    log('error', 'invocation', {
      outcome: 'error',
      errorType: name,
      errorMessage: message,
      cluster: clusterName,
      namespace: request?.namespace,
      name: request?.name,
      durationMs: Date.now() - started,
    });
    throw error;
  }
}
