// Whether a live Kubernetes object is ready: the rules of kstatus (kubernetes-sigs/cli-utils pkg/kstatus/status),
// restated in TypeScript. The order is kstatus's own Compute (status.go): the generic rules every kind shares
// (generic.go), then the rules of the built-in kinds kstatus knows (core.go), then the Ready condition (status.go),
// then a fallback. Pure: the object in, a verdict and a reason out; it never reads a Secret's data and never calls
// the API server.
//
// Two deliberate departures from kstatus, both marked DEPARTURE below:
// (a) A custom resource that gives nothing to judge (no status.conditions, no status.observedGeneration) is `unknown`,
//     not kstatus's fail-open Current: we cannot observe its readiness, so we say so and do not wait for it. Built-in
//     kinds with nothing to judge (ConfigMap, ServiceAccount, Role...) stay `current`: existing is all they do.
// (b) A Pod the scheduler reports Unschedulable stays `in-progress` for as long as it lasts, where kstatus turns it
//     Failed after 15 s: with Karpenter or Cluster Autoscaler, an unschedulable pod is how a new node gets asked for.

/** What kstatus concludes about an object: its Current, InProgress, Failed, Terminating and Unknown statuses. */
export type Readiness = 'current' | 'in-progress' | 'failed' | 'terminating' | 'unknown';

/** The verdict on one object, and why, in words meant for a platform engineer reading the logs. */
export interface ReadinessReport {
  readonly ready: Readiness;
  readonly message: string;
}

type Json = Readonly<Record<string, unknown>>;

/** A status condition as kstatus reads it (util.go BasicCondition); absent strings read as empty. */
interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

/** What every rule needs to know about the object it judges. */
interface Subject {
  readonly object: Json;
  readonly kind: string;
  readonly conditions: readonly Condition[];
  readonly now: number;
}

type Rule = (subject: Subject) => ReadinessReport;

// The controllers' own default when spec.progressDeadlineSeconds is unset; kstatus (core.go) treats it as "no
// deadline", since the deployment controller then never sets the Progressing condition's reason.
const NO_PROGRESS_DEADLINE = 2147483647;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a dotted path ("status.readyReplicas"), or undefined where any step is missing or not an object. */
function at(object: Json, path: string): unknown {
  let value: unknown = object;
  for (const key of path.split('.')) {
    if (!isRecord(value)) return undefined;
    value = value[key];
  }
  return value;
}

function textAt(object: Json, path: string, fallback = ''): string {
  const value = at(object, path);
  return typeof value === 'string' ? value : fallback;
}

/** Like kstatus's GetIntField (util.go): only a whole number counts; anything else reads as absent. */
function integerAt(object: Json, path: string): number | undefined {
  const value = at(object, path);
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

function countAt(object: Json, path: string, fallback: number): number {
  return integerAt(object, path) ?? fallback;
}

function listAt(object: Json, path: string): readonly unknown[] {
  const value: unknown = at(object, path);
  return Array.isArray(value) ? value : [];
}

/** status.conditions, keeping the entries that have a type; kstatus would reject the whole object instead. */
function conditionsOf(object: Json): readonly Condition[] {
  const conditions: Condition[] = [];
  for (const entry of listAt(object, 'status.conditions')) {
    if (!isRecord(entry) || typeof entry.type !== 'string') continue;
    conditions.push({
      type: entry.type,
      status: typeof entry.status === 'string' ? entry.status : '',
      reason: typeof entry.reason === 'string' ? entry.reason : '',
      message: typeof entry.message === 'string' ? entry.message : '',
    });
  }
  return conditions;
}

function hasCondition(conditions: readonly Condition[], type: string, status: string): boolean {
  return conditions.some((condition) => condition.type === type && condition.status === status);
}

/** "(Ready=False, reason NotReadyYet): waiting for the database": the condition as an engineer would want it quoted. */
function quote(condition: Condition): string {
  const reason = condition.reason ? `, reason ${condition.reason}` : '';
  const message = condition.message ? `: ${condition.message}` : '';
  return `(${condition.type}=${condition.status}${reason})${message}`;
}

function current(message: string): ReadinessReport {
  return { ready: 'current', message };
}

function inProgress(message: string): ReadinessReport {
  return { ready: 'in-progress', message };
}

function failed(message: string): ReadinessReport {
  return { ready: 'failed', message };
}

// ---------------------------------------------------------------------------------------------------------------------
// Generic rules (generic.go checkGenericProperties): deletion, then the observed generation, then the Reconciling and
// Stalled conditions. When one decides, the kind's own rules are not consulted.

function genericReadiness({ object, kind, conditions }: Subject): ReadinessReport | undefined {
  const deletion = textAt(object, 'metadata.deletionTimestamp');
  if (deletion !== '') {
    const finalizers = listAt(object, 'metadata.finalizers').filter((name): name is string => typeof name === 'string');
    const waiting = finalizers.length > 0 ? `; waiting on finalizers: ${finalizers.join(', ')}` : '';
    return { ready: 'terminating', message: `${kind} is being deleted (deletionTimestamp ${deletion})${waiting}` };
  }

  // generic.go checkGeneration: compared only when both are present; a controller that never writes
  // observedGeneration cannot be judged this way.
  const generation = integerAt(object, 'metadata.generation');
  const observed = integerAt(object, 'status.observedGeneration');
  if (generation !== undefined && observed !== undefined && observed !== generation) {
    return inProgress(
      `${kind} generation is ${generation}, but its controller has observed generation ${observed} so far`,
    );
  }

  // The first Reconciling=True or Stalled=True in list order decides, as in generic.go.
  for (const condition of conditions) {
    if (condition.status !== 'True') continue;
    if (condition.type === 'Reconciling') return inProgress(`${kind} is reconciling ${quote(condition)}`);
    if (condition.type === 'Stalled') return failed(`${kind} is stalled ${quote(condition)}`);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------------
// Rules of the built-in kinds (core.go), keyed like its legacyTypes: "group/Kind", or "Kind" for the core group.

/** core.go alwaysReady: Secret, ConfigMap and CronJob have nothing to roll out. */
function alwaysReady({ kind }: Subject): ReadinessReport {
  return current(`${kind} is ready once it exists: it has nothing to roll out`);
}

/** core.go deploymentConditions: the deadline, then the replica counts, then the Progressing and Available conditions. */
function deploymentReadiness({ object, conditions }: Subject): ReadinessReport {
  // Without a deadline the controller never reports NewReplicaSetAvailable, so kstatus does not ask for it.
  let progressing = countAt(object, 'spec.progressDeadlineSeconds', NO_PROGRESS_DEADLINE) === NO_PROGRESS_DEADLINE;
  let available = false;
  for (const condition of conditions) {
    if (condition.type === 'Progressing') {
      // Whatever the status: the controller sets this reason with status False, and it does not recover by itself.
      if (condition.reason === 'ProgressDeadlineExceeded') {
        return failed(`Deployment exceeded its progress deadline ${quote(condition)}`);
      }
      if (condition.status === 'True' && condition.reason === 'NewReplicaSetAvailable') progressing = true;
    } else if (condition.type === 'Available' && condition.status === 'True') {
      available = true;
    }
  }

  const desired = countAt(object, 'spec.replicas', 1);
  const replicas = countAt(object, 'status.replicas', 0);
  const updated = countAt(object, 'status.updatedReplicas', 0);
  const ready = countAt(object, 'status.readyReplicas', 0);
  const availableReplicas = countAt(object, 'status.availableReplicas', 0);
  if (desired > replicas) return inProgress(`Replicas: ${replicas}/${desired} created`);
  if (desired > updated) return inProgress(`Replicas: ${updated}/${desired} updated`);
  if (replicas > desired) return inProgress(`Pending termination: ${replicas - desired} old replica(s)`);
  if (updated > availableReplicas) return inProgress(`Replicas: ${availableReplicas}/${updated} available`);
  if (desired > ready) return inProgress(`Replicas: ${ready}/${desired} ready`);
  if (!progressing) {
    return inProgress('Deployment is not done progressing: its new ReplicaSet is not reported available yet');
  }
  if (!available) return inProgress('Deployment is not Available yet (its Available condition is not True)');
  return current(`Deployment is available. Replicas: ${replicas}`);
}

/** core.go stsConditions: StatefulSets set no conditions, so only the counts and revisions tell. */
function statefulSetReadiness({ object }: Subject): ReadinessReport {
  if (textAt(object, 'spec.updateStrategy.type') === 'OnDelete') {
    return current('StatefulSet uses the OnDelete update strategy: pods change only when deleted by hand');
  }
  const desired = countAt(object, 'spec.replicas', 1);
  const ready = countAt(object, 'status.readyReplicas', 0);
  const currentReplicas = countAt(object, 'status.currentReplicas', 0);
  const updated = countAt(object, 'status.updatedReplicas', 0);
  const replicas = countAt(object, 'status.replicas', 0);
  const partition = countAt(object, 'spec.updateStrategy.rollingUpdate.partition', -1);

  if (desired > replicas) return inProgress(`Replicas: ${replicas}/${desired} created`);
  if (desired > ready) return inProgress(`Replicas: ${ready}/${desired} ready`);
  if (replicas > desired) return inProgress(`Pending termination: ${replicas - desired} extra replica(s)`);
  // A partitioned rolling update only updates the ordinals at or above the partition; the rest stay by design.
  if (partition !== -1) {
    if (updated < desired - partition) {
      return inProgress(`Partitioned rollout: ${updated}/${desired - partition} replicas updated`);
    }
    return current(`Partitioned rollout complete. Updated: ${updated}`);
  }
  if (desired > currentReplicas) return inProgress(`Replicas: ${currentReplicas}/${desired} at the current revision`);
  const currentRevision = textAt(object, 'status.currentRevision');
  const updateRevision = textAt(object, 'status.updateRevision');
  if (currentRevision !== updateRevision) {
    return inProgress(`Waiting for the update revision ${updateRevision} to replace revision ${currentRevision}`);
  }
  return current(`StatefulSet is ready. Replicas: ${replicas}`);
}

/** core.go daemonsetConditions, after its checkGenerationSet: a DaemonSet its controller has acted on always has both. */
function daemonSetReadiness({ object }: Subject): ReadinessReport {
  if (integerAt(object, 'metadata.generation') === undefined) {
    return inProgress('DaemonSet has no metadata.generation yet');
  }
  if (integerAt(object, 'status.observedGeneration') === undefined) {
    return inProgress('DaemonSet has no status.observedGeneration yet: its controller has not acted on it');
  }
  const desired = countAt(object, 'status.desiredNumberScheduled', -1);
  if (desired === -1) {
    return inProgress('DaemonSet has no status.desiredNumberScheduled yet: its controller has not counted the nodes');
  }
  const scheduled = countAt(object, 'status.currentNumberScheduled', 0);
  const updated = countAt(object, 'status.updatedNumberScheduled', 0);
  const available = countAt(object, 'status.numberAvailable', 0);
  const ready = countAt(object, 'status.numberReady', 0);
  if (desired > scheduled) return inProgress(`Pods: ${scheduled}/${desired} scheduled`);
  if (desired > updated) return inProgress(`Pods: ${updated}/${desired} updated`);
  if (desired > available) return inProgress(`Pods: ${available}/${desired} available`);
  if (desired > ready) return inProgress(`Pods: ${ready}/${desired} ready`);
  return current(`DaemonSet is ready. Pods: ${desired}`);
}

/** core.go replicasetConditions. */
function replicaSetReadiness({ object, conditions }: Subject): ReadinessReport {
  // kstatus keeps waiting on ReplicaFailure (a quota, an admission webhook): it may clear when the cause does.
  const failure = conditions.find((condition) => condition.type === 'ReplicaFailure' && condition.status === 'True');
  if (failure) return inProgress(`ReplicaSet cannot create all its pods ${quote(failure)}`);

  const desired = countAt(object, 'spec.replicas', 1);
  const replicas = countAt(object, 'status.replicas', 0);
  const ready = countAt(object, 'status.readyReplicas', 0);
  const available = countAt(object, 'status.availableReplicas', 0);
  const labelled = countAt(object, 'status.fullyLabeledReplicas', 0);
  if (desired > labelled) return inProgress(`Replicas: ${labelled}/${desired} fully labelled`);
  if (desired > available) return inProgress(`Replicas: ${available}/${desired} available`);
  if (desired > ready) return inProgress(`Replicas: ${ready}/${desired} ready`);
  if (replicas > desired) return inProgress(`Pending termination: ${replicas - desired} extra replica(s)`);
  return current(`ReplicaSet is available. Replicas: ${replicas}`);
}

/** core.go pvcConditions. */
function persistentVolumeClaimReadiness({ object }: Subject): ReadinessReport {
  const phase = textAt(object, 'status.phase', 'unknown');
  if (phase !== 'Bound') return inProgress(`PersistentVolumeClaim is not Bound yet (phase ${phase})`);
  return current('PersistentVolumeClaim is Bound');
}

/** Names of the containers the kubelet is backing off restarting (core.go getCrashLoopingContainers). */
function crashLoopingContainers(object: Json): readonly string[] {
  const names: string[] = [];
  for (const container of listAt(object, 'status.containerStatuses')) {
    if (!isRecord(container)) continue;
    const name = textAt(container, 'name');
    if (name !== '' && textAt(container, 'state.waiting.reason') === 'CrashLoopBackOff') names.push(name);
  }
  return names;
}

/** "42 s" or "3 min": how long since an RFC 3339 timestamp, or empty when it cannot be read. */
function elapsedSince(timestamp: string, now: number): string {
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) return '';
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  return seconds < 120 ? `${seconds} s` : `${Math.floor(seconds / 60)} min`;
}

/** core.go podConditions, by phase. */
function podReadiness({ object, conditions, now }: Subject): ReadinessReport {
  const phase = textAt(object, 'status.phase');
  switch (phase) {
    case 'Succeeded':
      return current('Pod has completed successfully');
    case 'Failed':
      // kstatus counts a finished pod as reconciled whatever its exit: nothing more will happen to it.
      return current('Pod has completed, but not successfully (phase Failed)');
    case 'Running': {
      if (hasCondition(conditions, 'Ready', 'True')) return current('Pod is Ready');
      const looping = crashLoopingContainers(object);
      if (looping.length > 0) return failed(`Pod containers are in CrashLoopBackOff: ${looping.join(', ')}`);
      return inProgress('Pod is running but is not Ready');
    }
    case 'Pending': {
      const scheduling = conditions.find(
        (condition) => condition.type === 'PodScheduled' && condition.status === 'False',
      );
      if (scheduling?.reason === 'Unschedulable') {
        // DEPARTURE (b): kstatus (core.go, ScheduleWindow) calls this Failed 15 s after creation. An autoscaler
        // (Karpenter, Cluster Autoscaler) adds a node because of exactly this condition, so it is a wait, not an end;
        // the deadline of whoever waits decides when it has lasted too long.
        const elapsed = elapsedSince(textAt(object, 'metadata.creationTimestamp'), now);
        const since = elapsed ? ` for ${elapsed}` : '';
        const said = scheduling.message ? `; the scheduler says: "${scheduling.message}"` : '';
        return inProgress(`Pod has been unschedulable${since}, waiting for a node to fit it${said}`);
      }
      return inProgress('Pod is in the Pending phase');
    }
    case '':
      return inProgress('Pod has no phase yet: it has not been observed by the kubelet');
    default:
      // kstatus returns an error here; the phase Unknown (a node that stopped reporting) is the real-world case.
      return { ready: 'unknown', message: `Pod is in phase ${phase}, from which its readiness cannot be told` };
  }
}

/** core.go pdbConditions: once the generic generation check passes, the disruption controller has done its work. */
function podDisruptionBudgetReadiness(): ReadinessReport {
  return current('PodDisruptionBudget is current: its allowed disruptions have been computed');
}

/** core.go jobConditions: a started Job is current (kstatus does not wait for it to finish); only a failure fails. */
function jobReadiness({ object, conditions }: Subject): ReadinessReport {
  const parallelism = countAt(object, 'spec.parallelism', 1);
  const completions = countAt(object, 'spec.completions', parallelism);
  const succeeded = countAt(object, 'status.succeeded', 0);
  const active = countAt(object, 'status.active', 0);
  const failures = countAt(object, 'status.failed', 0);
  for (const condition of conditions) {
    if (condition.status !== 'True') continue;
    if (condition.type === 'Complete') return current(`Job completed. Succeeded: ${succeeded}/${completions}`);
    if (condition.type === 'Failed') {
      return failed(`Job failed. Failed: ${failures}/${completions} ${quote(condition)}`);
    }
    // A suspended Job runs nothing until resumed: waiting for it would never end (kubernetes-sigs/cli-utils#668).
    if (condition.type === 'Suspended') return current('Job is suspended');
  }
  if (textAt(object, 'status.startTime') === '') return inProgress('Job has not started yet');
  return current(`Job is running. Succeeded: ${succeeded}, active: ${active}, failed: ${failures}`);
}

/** core.go serviceConditions: only a LoadBalancer Service without a cluster IP is still on its way. */
function serviceReadiness({ object }: Subject): ReadinessReport {
  const type = textAt(object, 'spec.type', 'ClusterIP');
  if (type === 'LoadBalancer' && textAt(object, 'spec.clusterIP') === '') {
    return inProgress('Service of type LoadBalancer has no cluster IP yet');
  }
  return current(`Service is ready (type ${type})`);
}

/** core.go crdConditions: names rejected, or establishing failed, is final; otherwise wait for Established. */
function customResourceDefinitionReadiness({ conditions }: Subject): ReadinessReport {
  for (const condition of conditions) {
    if (condition.type === 'NamesAccepted' && condition.status === 'False') {
      return failed(`CustomResourceDefinition names are not accepted ${quote(condition)}`);
    }
    if (condition.type === 'Established') {
      if (condition.status === 'False' && condition.reason !== 'Installing') {
        return failed(`CustomResourceDefinition could not be established ${quote(condition)}`);
      }
      if (condition.status === 'True') return current('CustomResourceDefinition is established');
    }
  }
  return inProgress('CustomResourceDefinition is being installed: it is not Established yet');
}

// core.go legacyTypes, entry for entry. The apps kinds also under "extensions", as upstream keeps them. Kubernetes
// requires a CRD's group to contain a dot and protects *.k8s.io, so no custom resource can take one of these keys.
const BUILT_IN_RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ['Service', serviceReadiness],
  ['Pod', podReadiness],
  ['Secret', alwaysReady],
  ['PersistentVolumeClaim', persistentVolumeClaimReadiness],
  ['apps/StatefulSet', statefulSetReadiness],
  ['apps/DaemonSet', daemonSetReadiness],
  ['extensions/DaemonSet', daemonSetReadiness],
  ['apps/Deployment', deploymentReadiness],
  ['extensions/Deployment', deploymentReadiness],
  ['apps/ReplicaSet', replicaSetReadiness],
  ['extensions/ReplicaSet', replicaSetReadiness],
  ['policy/PodDisruptionBudget', podDisruptionBudgetReadiness],
  ['batch/CronJob', alwaysReady],
  ['ConfigMap', alwaysReady],
  ['batch/Job', jobReadiness],
  ['apiextensions.k8s.io/CustomResourceDefinition', customResourceDefinitionReadiness],
]);

/** core.go GetLegacyConditionsFn: the group of apiVersion ("apps" of "apps/v1"; none for "v1") and the kind. */
function builtInRule(object: Json, kind: string): Rule | undefined {
  const apiVersion = textAt(object, 'apiVersion');
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  return BUILT_IN_RULES.get(group === '' ? kind : `${group}/${kind}`);
}

// ---------------------------------------------------------------------------------------------------------------------
// The Ready condition (status.go checkReadyCondition), for kinds without rules of their own: not a Kubernetes API
// convention, but most operators set it. The first Ready condition with status True, False or Unknown decides.

function readyConditionReadiness({ kind, conditions }: Subject): ReadinessReport | undefined {
  for (const condition of conditions) {
    if (condition.type !== 'Ready') continue;
    if (condition.status === 'True') return current(`${kind} is Ready ${quote(condition)}`);
    if (condition.status === 'False') return inProgress(`${kind} is not Ready yet ${quote(condition)}`);
    // kstatus treats Unknown as still in progress: the controller has not decided yet.
    if (condition.status === 'Unknown') return inProgress(`${kind} readiness is not decided yet ${quote(condition)}`);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------------
// Nothing above decided (status.go's last word, "Resource is current").

function fallbackReadiness({ object, kind, conditions }: Subject, custom: boolean): ReadinessReport {
  const observed = integerAt(object, 'status.observedGeneration');
  if (observed !== undefined) {
    return current(`${kind} is current: its controller has observed generation ${observed} and reports no trouble`);
  }
  if (conditions.length > 0) {
    const types = conditions.map((condition) => condition.type).join(', ');
    return current(`${kind} is current: none of its conditions (${types}) is Ready, Reconciling or Stalled`);
  }
  if (custom) {
    // DEPARTURE (a): kstatus calls this Current, since it cannot tell a controller that reports nothing from one that
    // has not reported yet. Calling it ready would be a guess; calling it in progress would wait forever on a
    // controller that never writes a status. So: unknown, and not waited for.
    return {
      ready: 'unknown',
      message:
        `${kind} readiness cannot be observed: it reports no conditions and no observedGeneration, ` +
        'so it is not waited for',
    };
  }
  return current(`${kind} is current: Kubernetes defines no readiness for it beyond existing`);
}

/** The readiness of a live object by kstatus's rules, with the two departures described at the top of this file. */
export function readinessOf(
  object: Readonly<Record<string, unknown>>,
  options: { readonly custom: boolean; readonly now?: number },
): ReadinessReport {
  const kind = textAt(object, 'kind') || 'Object';
  const subject: Subject = { object, kind, conditions: conditionsOf(object), now: options.now ?? Date.now() };
  const generic = genericReadiness(subject);
  if (generic) return generic;
  const rule = builtInRule(object, kind);
  if (rule) return rule(subject);
  return readyConditionReadiness(subject) ?? fallbackReadiness(subject, options.custom);
}
