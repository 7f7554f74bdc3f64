import { DEFAULT_IMAGE, DEFAULT_REPLICAS, MANAGER } from '../constants.js';
import { buildDeployment, refuseSetMember } from './build.js';
import { KubernetesApiError } from '../errors.js';
import { applyDeployment, type Rejected, type V1Deployment } from '../kube/client.js';
import { explainRejection } from '../kube/explain.js';
import { send, type Purpose, type Session, type Settled } from '../kube/session.js';
import type { ActionRequest, DeploymentSpec } from './request.js';
import { deploymentImage, fetchDeployment, waitForRollout } from './observe.js';
import type { DeploymentFields } from './create.js';

type ApplyRequest = Extract<ActionRequest, { action: 'apply' }>;
type ApplyOutcome = 'created' | 'configured' | 'unchanged';

/** What action apply returns. */
export interface ApplyResult extends DeploymentFields {
  readonly status: ApplyOutcome | 'dry-run';
  /** With dryRun: what the apply would have done. */
  readonly wouldBe?: ApplyOutcome;
}

/** Reading, applying and re-reading once more when our own first write got in the way: a bounded number of rounds. */
const MAX_ROUNDS = 3;

/** Server-side applies the Deployment the request describes, so that the cluster converges to it, and says whether
 * that created, changed or left it as it was: the server gives no such signal, so the Deployment is read first and
 * compared (best effort against a concurrent writer). What the event leaves out is kept as the cluster has it (see
 * `specFor`). With `wait`, then waits for the rollout. Throws the errors of errors.ts; a conflict with another field
 * manager is a KubernetesApiError naming each field and its owner. */
export async function applyAction(session: Session, request: ApplyRequest): Promise<ApplyResult> {
  const { name, namespace, dryRun } = request;
  const purpose: Purpose = { action: 'apply', verb: 'patch', resource: 'deployments', namespace, name, grant: 'apply' };
  for (let round = 1; ; round += 1) {
    const before = await fetchDeployment(session, request, 'apply');
    refuseSetMember(before, 'apply');
    const spec = specFor(request, before);
    let settled = await apply(session, purpose, request, spec, request.force, undefined);
    if (settled.kind === 'rejected' && ownUpdateConflict(settled) && before !== undefined && ownsUpdateEntry(before)) {
      // `create` left an Update entry of manager lambda-eks; the server counts it as another manager than our Apply
      // entry, so changing a value create set conflicts with ourselves. Take those fields over, but only if the object
      // is still the one just read (resourceVersion precondition), so no other writer's fields are taken.
      settled = await apply(session, purpose, request, spec, true, before.metadata?.resourceVersion);
    }
    if (settled.kind === 'ok') {
      // A retried apply whose first attempt created the object, its answer lost, is still the one that created it.
      const created = settled.httpStatus === 201 || (before === undefined && settled.uncertain);
      const outcome = outcomeOf(before, settled.body, created, buildDeployment(spec), dryRun);
      return {
        status: dryRun ? 'dry-run' : outcome,
        ...(dryRun ? { wouldBe: outcome } : {}),
        ...describeApplied(request, settled.body),
        ...(request.wait ? { rollout: await waitForRollout(session, request) } : {}),
      };
    }
    const retryable = modifiedMeanwhile(settled) || (ownUpdateConflict(settled) && before === undefined);
    if (!retryable || round >= MAX_ROUNDS) {
      throw fieldConflicts(settled, request) ?? explainRejection(settled, purpose, session);
    }
  }
}

/** The Deployment an apply sends. What the event leaves out is kept as the cluster has it: the image of the live
 * Deployment; its replicas, sent back as they are when only this function manages them (server-side apply would
 * otherwise reset a field its only manager stops sending), and not sent when another field manager owns them too (an
 * autoscaler, kubectl scale), so that they stay theirs. An apply that creates the Deployment takes create's defaults. */
export function specFor(request: ApplyRequest, live: V1Deployment | undefined): DeploymentSpec {
  const { name, namespace, annotations } = request;
  const base = annotations === undefined ? { name, namespace } : { name, namespace, annotations };
  if (live === undefined) {
    return { ...base, replicas: request.replicas ?? DEFAULT_REPLICAS, image: request.image ?? DEFAULT_IMAGE };
  }
  const image = request.image ?? deploymentImage(live) ?? DEFAULT_IMAGE;
  if (request.replicas !== undefined) {
    return { ...base, replicas: request.replicas, image };
  }
  const othersOwnReplicas = (live.metadata?.managedFields ?? []).some(
    (entry) => entry.manager !== MANAGER && ownsReplicas(entry.fieldsV1),
  );
  return { ...base, replicas: othersOwnReplicas ? undefined : (live.spec?.replicas ?? DEFAULT_REPLICAS), image };
}

/** Whether a managedFields entry's field set (FieldsV1) holds spec.replicas. */
function ownsReplicas(fields: unknown): boolean {
  const spec: unknown = typeof fields === 'object' && fields !== null ? Reflect.get(fields, 'f:spec') : undefined;
  return typeof spec === 'object' && spec !== null && Reflect.has(spec, 'f:replicas');
}

function apply(
  session: Session,
  purpose: Purpose,
  request: ApplyRequest,
  spec: DeploymentSpec,
  force: boolean,
  resourceVersion: string | undefined,
): Promise<Settled<V1Deployment>> {
  const built = buildDeployment(spec);
  const body = resourceVersion === undefined ? built : { ...built, metadata: { ...built.metadata, resourceVersion } };
  return send(session, purpose, (call) =>
    applyDeployment(call, { namespace: request.namespace, body, dryRun: request.dryRun, force }),
  );
}

/** created: nothing was there (and the server says it created it); unchanged: what the apply owns is as it was.
 * The server gives no such signal. An unchanged resourceVersion means nothing was written; a changed one may be
 * another writer's (the deployment controller updates status right after every change), so then the apply's own
 * effect is judged: the generation, which every spec change bumps, and the labels and annotations it sets. A dry run
 * answers what it would store under the old resourceVersion, so it is judged by that effect alone. Best effort against a concurrent writer of the spec. */
function outcomeOf(
  before: V1Deployment | undefined,
  after: V1Deployment,
  created: boolean,
  config: V1Deployment,
  dryRun: boolean,
): ApplyOutcome {
  if (before === undefined) {
    return created ? 'created' : 'configured';
  }
  // A dry run stores nothing, so its answer keeps the resourceVersion whatever it would change.
  if (!dryRun && before.metadata?.resourceVersion === after.metadata?.resourceVersion) {
    return 'unchanged';
  }
  const sameKeys = (field: 'labels' | 'annotations'): boolean =>
    Object.keys(config.metadata?.[field] ?? {}).every(
      (key) => before.metadata?.[field]?.[key] === after.metadata?.[field]?.[key],
    );
  const same =
    before.metadata?.generation === after.metadata?.generation && sameKeys('labels') && sameKeys('annotations');
  return same ? 'unchanged' : 'configured';
}

/** The Deployment as the apply's answer has it. */
function describeApplied(request: ApplyRequest, applied: V1Deployment) {
  const uid = applied.metadata?.uid;
  return {
    name: request.name,
    namespace: request.namespace,
    replicas: applied.spec?.replicas ?? 1,
    image: deploymentImage(applied) ?? '',
    ...(uid ? { uid } : {}),
  };
}

/** The managers a conflict names (structured-merge-diff's `conflict with "<manager>"[ using <apiVersion>]`). */
function conflictManagers(rejected: Rejected): { field: string; manager: string; update: boolean }[] {
  return rejected.status.causes
    .filter((cause) => cause.reason === 'FieldManagerConflict')
    .map((cause) => {
      const match = /conflict with "([^"]*)"( using )?/.exec(cause.message ?? '');
      return { field: cause.field ?? '', manager: match?.[1] ?? '', update: match?.[2] !== undefined };
    });
}

function isApplyConflict(rejected: Rejected): boolean {
  return rejected.httpStatus === 409 && rejected.status.reason === 'Conflict' && conflictManagers(rejected).length > 0;
}

/** Every conflicting field is owned by our own Update entry (the one `create` leaves). */
function ownUpdateConflict(settled: Settled<V1Deployment>): boolean {
  return (
    settled.kind === 'rejected' &&
    isApplyConflict(settled) &&
    conflictManagers(settled).every(({ manager, update }) => manager === MANAGER && update)
  );
}

function ownsUpdateEntry(deployment: V1Deployment): boolean {
  return (deployment.metadata?.managedFields ?? []).some(
    (entry) => entry.manager === MANAGER && entry.operation === 'Update',
  );
}

/** The precondition of the forced apply failed, or another writer raced us: read again. */
function modifiedMeanwhile(rejected: Rejected): boolean {
  return (
    rejected.httpStatus === 409 && rejected.status.reason === 'Conflict' && conflictManagers(rejected).length === 0
  );
}

/** A conflict with other field managers, as a KubernetesApiError listing each field and its owner. */
function fieldConflicts(rejected: Rejected, request: ApplyRequest): KubernetesApiError | undefined {
  if (!isApplyConflict(rejected)) {
    return undefined;
  }
  const owners = conflictManagers(rejected)
    .map(({ field, manager }) => `${field} is owned by "${manager}"`)
    .join('; ');
  return new KubernetesApiError(
    409,
    'Conflict',
    rejected.status.message ?? '',
    `applying deployment ${request.namespace}/${request.name} conflicts with other field managers: ${owners}. Pass ` +
      '"force": true to take these fields over (server-side apply force), or change the event to agree with them.',
  );
}
