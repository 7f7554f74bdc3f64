import { buildDeployment } from './build.js';
import { createDeployment } from '../kube/client.js';
import { explainRejection } from '../kube/explain.js';
import { send, type Purpose, type RetryRejection, type Session } from '../kube/session.js';
import type { ActionRequest } from './request.js';
import { waitForRollout } from './observe.js';
import type { Rollout } from '../status/rollout.js';

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

/** What action create returns. `exists` says only what create knows: that a Deployment of that name is there (it
 * cannot read it with the create grant alone; action get does). */
export type CreateResult =
  | (DeploymentFields & { readonly status: 'created' | 'dry-run' })
  | { readonly status: 'exists'; readonly name: string; readonly namespace: string; readonly rollout?: Rollout };

/** kube-apiserver's message for a name whose object is still being deleted (k8s.io/apiserver
 * pkg/registry/generic/registry/store.go, Create). */
const BEING_DELETED = /^object is being deleted: /;

/** How a create retries what will pass. A 409 Conflict is an optimistic-lock failure elsewhere (a ResourceQuota
 * counting objects, updated by a concurrent create): transient. An AlreadyExists for an object on its way out resolves
 * once it is gone; and once one was seen, a plain AlreadyExists is worth one more attempt: the server reads the object
 * again to say it is being deleted (k8s.io/apiserver pkg/registry/generic/registry/store.go, Create), and if it went
 * meanwhile it says only that it exists. */
export function createRetries(): RetryRejection {
  let sawDeletion = false;
  let retriedPlain = false;
  return ({ httpStatus, status }) => {
    if (httpStatus === 409 && status.reason === 'Conflict') {
      return 'backoff';
    }
    if (httpStatus === 409 && status.reason === 'AlreadyExists' && BEING_DELETED.test(status.message ?? '')) {
      sawDeletion = true;
      return 'until-deadline';
    }
    if (httpStatus === 409 && status.reason === 'AlreadyExists' && sawDeletion && !retriedPlain) {
      retriedPlain = true;
      return 'backoff';
    }
    return undefined;
  };
}

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
    createRetries(),
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
    result = { status: 'exists', name, namespace };
  } else {
    throw explainRejection(settled, purpose, session);
  }
  return request.wait ? { ...result, rollout: await waitForRollout(session, request) } : result;
}
