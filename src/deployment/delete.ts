import { MANAGED_BY_LABEL, MANAGER } from '../constants.js';
import { NotManagedError } from '../errors.js';
import { deleteDeployment, type V1Deployment } from '../kube/client.js';
import { explainRejection } from '../kube/explain.js';
import { send, type Purpose, type Session } from '../kube/session.js';
import type { ActionRequest } from './request.js';
import { refuseSetMember } from './build.js';
import { fetchDeployment, waitForDeletion } from './observe.js';

type DeleteRequest = Extract<ActionRequest, { action: 'delete' }>;

/** What action delete returns. */
export interface DeleteResult {
  readonly status: 'deleted' | 'absent' | 'dry-run';
  /** With dryRun: what the delete would have done. */
  readonly wouldBe?: 'deleted' | 'absent';
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string;
}

/** A Deployment replaced between our read and our delete is read again, a bounded number of times. */
const MAX_ROUNDS = 3;

/** Deletes the Deployment (only the one with `onlyUid`, when given) if, and only if, this function manages it (its `app.kubernetes.io/managed-by` label says
 * lambda-eks); the DELETE carries the uid that was checked as a precondition, so a Deployment recreated meanwhile is
 * never touched. With `wait`, a foreground deletion that ends when the pods are gone. A missing Deployment is
 * `absent`, not an error. Throws NotManagedError, and the errors of errors.ts. */
export async function deleteAction(
  session: Session,
  request: DeleteRequest,
  /** Delete only the Deployment with this uid: another of the same name is `absent` to this delete. */
  onlyUid?: string,
): Promise<DeleteResult> {
  const { name, namespace, dryRun, wait } = request;
  const purpose: Purpose = {
    action: 'delete',
    verb: 'delete',
    resource: 'deployments',
    namespace,
    name,
    grant: 'delete',
  };
  for (let round = 1; ; round += 1) {
    const deployment = await fetchDeployment(session, request, 'delete');
    if (deployment === undefined || (onlyUid !== undefined && deployment.metadata?.uid !== onlyUid)) {
      return dryRun ? { status: 'dry-run', wouldBe: 'absent', name, namespace } : { status: 'absent', name, namespace };
    }
    refuseUnmanaged(deployment, request);
    const uid = deployment.metadata?.uid ?? '';
    const settled = await send(session, purpose, (call) =>
      deleteDeployment(call, { namespace, name, uid, dryRun, propagationPolicy: wait ? 'Foreground' : 'Background' }),
    );
    const gone =
      settled.kind === 'ok' ||
      // Our own earlier attempt may have deleted it, its answer lost on the way back.
      (settled.httpStatus === 404 && settled.uncertain);
    if (gone) {
      if (dryRun) {
        return { status: 'dry-run', wouldBe: 'deleted', name, namespace, uid };
      }
      if (wait) {
        await waitForDeletion(session, request, uid);
      }
      return { status: 'deleted', name, namespace, uid };
    }
    if (settled.httpStatus === 404) {
      return { status: 'absent', name, namespace };
    }
    // 409: the uid precondition failed, so this is another Deployment of the same name: check it afresh.
    if (settled.httpStatus !== 409 || round >= MAX_ROUNDS) {
      throw explainRejection(settled, purpose, session);
    }
  }
}

function refuseUnmanaged(deployment: V1Deployment, { namespace, name }: DeleteRequest): void {
  refuseSetMember(deployment, 'delete');
  const label = deployment.metadata?.labels?.[MANAGED_BY_LABEL];
  if (label === MANAGER) {
    return;
  }
  const managers = [...new Set((deployment.metadata?.managedFields ?? []).map((entry) => entry.manager ?? ''))]
    .filter(Boolean)
    .join(', ');
  const who =
    label === undefined ? `it has no ${MANAGED_BY_LABEL} label` : `its ${MANAGED_BY_LABEL} label says "${label}"`;
  throw new NotManagedError(
    `deployment ${namespace}/${name} was not created by lambda-eks (${who}${managers ? `; field managers: ${managers}` : ''}), ` +
      'so the function will not delete it and changed nothing. Delete it with the tool that manages it, or with ' +
      `"kubectl delete deployment -n ${namespace} ${name}" if you mean to.`,
  );
}
