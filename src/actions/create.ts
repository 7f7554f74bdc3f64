import { buildDeployment } from '../deployment.js';
import { createDeployment } from '../kube/client.js';
import { explainRejection } from '../kube/explain.js';
import { send, type Purpose, type RetryRejection, type Session } from '../kube/session.js';
import type { ActionRequest } from '../lambda/event.js';
import { waitForRollout } from './observe.js';
import type { Rollout } from './rollout.js';

type CreateRequest = Extract<ActionRequest, { action: 'create' }>;

/** What create and apply report about the Deployment, after their status. */
export interface DeploymentFields {
  readonly name: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly image: string;
  readonly uid?: string;
  /** With `wait`: the rollout, complete. */
  readonly rollout?: Rollout;
}

/** What action create returns. */
export interface CreateResult extends DeploymentFields {
  readonly status: 'created' | 'exists' | 'dry-run';
}

/** kube-apiserver's message for a name whose object is still being deleted (k8s.io/apiserver
 * pkg/registry/generic/registry/store.go, Create). */
const BEING_DELETED = /^object is being deleted: /;

/** A 409 Conflict on create is an optimistic-lock failure elsewhere (a ResourceQuota counting objects, updated by a
 * concurrent create): transient. An AlreadyExists for an object on its way out will resolve once it is gone. */
const retryCreate: RetryRejection = ({ httpStatus, status }) => {
  if (httpStatus === 409 && status.reason === 'Conflict') {
    return 'backoff';
  }
  if (httpStatus === 409 && status.reason === 'AlreadyExists' && BEING_DELETED.test(status.message ?? '')) {
    return 'until-deadline';
  }
  return undefined;
};

/** Creates the Deployment (POST), or finds one of that name there (409 AlreadyExists: `exists`, nothing changed);
 * with `wait`, then waits for its rollout. Throws the errors of errors.ts. */
export async function createAction(session: Session, request: CreateRequest): Promise<CreateResult> {
  const { name, namespace, replicas, image, dryRun } = request;
  const purpose: Purpose = {
    action: 'create',
    verb: 'create',
    resource: 'deployments',
    namespace,
    name,
    grant: 'create',
  };
  const settled = await send(
    session,
    purpose,
    (call) => createDeployment(call, { namespace, body: buildDeployment(request), dryRun }),
    retryCreate,
  );
  const base = { name, namespace, replicas, image };
  let result: CreateResult;
  if (settled.kind === 'ok') {
    const uid = settled.body.metadata?.uid;
    result = { status: dryRun ? 'dry-run' : 'created', ...base, ...(uid ? { uid } : {}) };
  } else if (
    settled.httpStatus === 409 &&
    settled.status.reason === 'AlreadyExists' &&
    !BEING_DELETED.test(settled.status.message ?? '')
  ) {
    result = { status: 'exists', ...base };
  } else {
    throw explainRejection(settled, purpose, session);
  }
  return request.wait ? { ...result, rollout: await waitForRollout(session, request) } : result;
}
