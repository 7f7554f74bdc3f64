import type { ActionRequest } from './request.js';
import type { Session } from '../kube/session.js';
import { deploymentImage, fetchDeployment, observeRollout } from './observe.js';
import type { Rollout } from '../status/rollout.js';

type GetRequest = Extract<ActionRequest, { action: 'get' }>;

/** What action get returns: the Deployment as the cluster has it (not as an event would describe it). */
export interface GetResult {
  readonly status: 'found' | 'absent';
  readonly name: string;
  readonly namespace: string;
  readonly replicas?: number;
  readonly image?: string;
  readonly uid?: string;
  readonly rollout?: Rollout;
}

/** Reads the Deployment and its rollout: one GET, plus one pod list only when the rollout is not complete. `absent`
 * is a result, not an error. Throws the errors of errors.ts. */
export async function getAction(session: Session, request: GetRequest): Promise<GetResult> {
  const { name, namespace } = request;
  const deployment = await fetchDeployment(session, request, 'observe');
  if (deployment === undefined) {
    return { status: 'absent', name, namespace };
  }
  const { rollout } = await observeRollout(session, request, deployment);
  const image = deploymentImage(deployment);
  const uid = deployment.metadata?.uid;
  return {
    status: 'found',
    name,
    namespace,
    replicas: deployment.spec?.replicas ?? 1,
    ...(image === undefined ? {} : { image }),
    ...(uid === undefined ? {} : { uid }),
    rollout,
  };
}
