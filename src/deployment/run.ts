import { rediscoverCluster, resolveCluster } from '../aws/cluster.js';
import type { AwsCredentials, FunctionConfig } from '../config.js';
import type { Session } from '../kube/session.js';
import type { ActionRequest } from './request.js';
import { applyAction, type ApplyResult } from './apply.js';
import { createAction, type CreateResult } from './create.js';
import { deleteAction, type DeleteResult } from './delete.js';
import { getAction, type GetResult } from './get.js';

/** What the function returns for a direct invocation: the result of the action asked for. */
export type ActionResult = CreateResult | ApplyResult | GetResult | DeleteResult;

/** The cluster, identity and deadline one invocation works with. */
export interface Invocation {
  readonly config: FunctionConfig;
  readonly credentials: AwsCredentials;
  /** Epoch ms: when the invocation started, and by when the function must have answered. */
  readonly startedAt: number;
  readonly deadline: number;
}

/** Resolves the cluster (DescribeCluster when it is not configured) and opens the invocation's session with it.
 * Throws ConfigurationError or ClusterUnreachableError. */
export async function openSession({ config, credentials, startedAt, deadline }: Invocation): Promise<Session> {
  return {
    clusterName: config.clusterName,
    region: config.region,
    credentials,
    cluster: await resolveCluster(config, deadline),
    deadline,
    startedAt,
    requests: 0,
    listPageSize: config.listPageSize,
    rediscover: config.cluster ? undefined : () => rediscoverCluster(config, deadline),
  };
}

/** Runs the requested action against the cluster. Returns the action's result and the number of requests it took;
 * throws the errors of errors.ts. */
export async function runAction(
  invocation: Invocation,
  request: ActionRequest,
): Promise<{ result: ActionResult; requests: number }> {
  const session = await openSession(invocation);
  const result = await perform(session, request);
  return { result, requests: session.requests };
}

function perform(session: Session, request: ActionRequest): Promise<ActionResult> {
  switch (request.action) {
    case 'create':
      return createAction(session, request);
    case 'apply':
      return applyAction(session, request);
    case 'get':
      return getAction(session, request);
    case 'delete':
      return deleteAction(session, request);
  }
}
