// One invocation's work: the session with the cluster, and the action asked for, of the Deployment or of a set.
import { rediscoverCluster, resolveCluster } from './aws/cluster.js';
import type { AwsCredentials, FunctionConfig } from './config.js';
import { applyAction, type ApplyResult } from './deployment/apply.js';
import { createAction, type CreateResult } from './deployment/create.js';
import { deleteAction, type DeleteResult } from './deployment/delete.js';
import { getAction, type GetResult } from './deployment/get.js';
import type { ActionRequest } from './deployment/request.js';
import type { Session } from './kube/session.js';
import type { ManifestRequest } from './manifests/request.js';
import type { SetResult } from './manifests/result.js';

/** What an invocation may ask: an action of the Deployment, or of a set. */
export type FunctionRequest = ActionRequest | ManifestRequest;

/** What the function returns for a direct invocation: the result of the action asked for. */
export type ActionResult = CreateResult | ApplyResult | GetResult | DeleteResult | SetResult;

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
  request: FunctionRequest,
): Promise<{ result: ActionResult; requests: number }> {
  const session = await openSession(invocation);
  const result = await perform(session, request, invocation.config);
  return { result, requests: session.requests };
}

async function perform(session: Session, request: FunctionRequest, config: FunctionConfig): Promise<ActionResult> {
  switch (request.action) {
    case 'apply-manifest': {
      const sets = await import('./manifests/actions.js');
      return sets.applyManifest(session, {
        ...request,
        manifest: await sets.resolveManifest(request.manifest, session, config.s3Endpoint),
      });
    }
    case 'get-manifest':
      return (await import('./manifests/actions.js')).getManifest(session, request);
    case 'delete-manifest':
      return (await import('./manifests/actions.js')).deleteManifest(session, request);
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
