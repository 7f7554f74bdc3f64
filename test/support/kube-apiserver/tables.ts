// Server-side printing: the meta.k8s.io/v1 Table kubectl asks for (`Accept: application/json;as=Table;...`), with
// the columns and cells of pkg/printers/internalversion/printers.go (printDeployment, printReplicaSet, printPod) and
// ages as apimachinery pkg/util/duration HumanDuration writes them.
import { arrayAt, numberAt, objectAt, stringAt, type Json, type JsonObject } from './json.js';
import type { Resource } from './schema.js';
import type { StoredObject } from './store.js';

const NAME = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow ' +
    'a client to request the generation of an appropriate name automatically. Name is primarily intended for creation ' +
    'idempotence and configuration definition. Cannot be updated. More info: ' +
    'https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};
const AGE = {
  name: 'Age',
  type: 'string',
  format: '',
  description:
    'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed ' +
    'to be set in happens-before order across separate operations. Clients may not set this value. It is represented ' +
    'in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: ' +
    'https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  priority: 0,
};
const column = (name: string, type: string, description: string, priority = 0): JsonObject => ({
  name,
  type,
  format: '',
  description,
  priority,
});

const COLUMNS: Readonly<Record<Resource, Json[]>> = {
  deployments: [
    NAME,
    column('Ready', 'string', 'Number of the pod with ready state'),
    column(
      'Up-to-date',
      'string',
      'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
    ),
    column(
      'Available',
      'string',
      'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
    ),
    AGE,
    column('Containers', 'string', 'Names of each container in the template.', 1),
    column('Images', 'string', 'Images referenced by each container in the template.', 1),
    column(
      'Selector',
      'string',
      'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
      1,
    ),
  ],
  replicasets: [
    NAME,
    column('Desired', 'integer', 'Replicas is the number of desired pods.'),
    column('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    column('Ready', 'integer', 'The number of ready replicas for this replica set.'),
    AGE,
    column('Containers', 'string', 'Names of each container in the template.', 1),
    column('Images', 'string', 'Images referenced by each container in the template.', 1),
    column('Selector', 'string', 'Selector is a label query over pods that should match the replica count.', 1),
  ],
  pods: [
    NAME,
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column(
      'Restarts',
      'string',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    AGE,
    column('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster.', 1),
    column('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
    column(
      'Nominated Node',
      'string',
      'nominatedNodeName is set only when this pod preempts other pods on the node.',
      1,
    ),
    column('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
};

/** The Table of `objects`, with each row's object as PartialObjectMetadata unless `includeObject` says otherwise. */
export function table(
  resource: Resource,
  objects: readonly StoredObject[],
  resourceVersion: string,
  now: number,
  includeObject: string,
): JsonObject {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: COLUMNS[resource],
    rows: objects.map((object) => {
      const row: JsonObject = { cells: cells(resource, object, now) };
      if (includeObject === 'Object') row['object'] = object;
      else if (includeObject !== 'None') {
        row['object'] = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
      }
      return row;
    }),
  };
}

function cells(resource: Resource, object: StoredObject, now: number): Json[] {
  const name = stringAt(object, 'metadata', 'name') ?? '';
  const age = translateTimestampSince(stringAt(object, 'metadata', 'creationTimestamp'), now);
  const containers = arrayAt(object, 'spec', 'template', 'spec', 'containers');
  const names = containers.map((c) => stringAt(c, 'name') ?? '').join(',');
  const images = containers.map((c) => stringAt(c, 'image') ?? '').join(',');
  const selector = formatSelector(objectAt(object, 'spec', 'selector'));
  const n = (field: string): number => numberAt(object, 'status', field) ?? 0;
  switch (resource) {
    case 'deployments':
      return [
        name,
        `${n('readyReplicas')}/${numberAt(object, 'spec', 'replicas') ?? 0}`,
        n('updatedReplicas'),
        n('availableReplicas'),
        age,
        names,
        images,
        selector,
      ];
    case 'replicasets':
      return [
        name,
        numberAt(object, 'spec', 'replicas') ?? 0,
        n('replicas'),
        n('readyReplicas'),
        age,
        names,
        images,
        selector,
      ];
    case 'pods':
      return podCells(object, name, age, now);
  }
}

function formatSelector(selector: JsonObject | undefined): string {
  if (selector === undefined) return '<none>';
  const terms = Object.entries(objectAt(selector, 'matchLabels') ?? {}).map(
    ([key, value]) => `${key}=${String(value)}`,
  );
  for (const expression of arrayAt(selector, 'matchExpressions')) {
    const key = stringAt(expression, 'key') ?? '';
    const values = arrayAt(expression, 'values').join(',');
    const operator = stringAt(expression, 'operator');
    if (operator === 'In') terms.push(`${key} in (${values})`);
    if (operator === 'NotIn') terms.push(`${key} notin (${values})`);
    if (operator === 'Exists') terms.push(key);
    if (operator === 'DoesNotExist') terms.push(`!${key}`);
  }
  return terms.length === 0 ? '<none>' : terms.sort().join(',');
}

/** printPod: READY, STATUS (the reason of the last container that is not running), RESTARTS (with how long ago). */
function podCells(pod: StoredObject, name: string, age: string, now: number): Json[] {
  const total = arrayAt(pod, 'spec', 'containers').length;
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  let reason = stringAt(pod, 'status', 'reason') ?? stringAt(pod, 'status', 'phase') ?? '';
  const statuses = arrayAt(pod, 'status', 'containerStatuses');
  for (let i = statuses.length - 1; i >= 0; i -= 1) {
    const status = statuses[i];
    restarts += numberAt(status, 'restartCount') ?? 0;
    const finished = Date.parse(stringAt(status, 'lastState', 'terminated', 'finishedAt') ?? '');
    if (Number.isFinite(finished) && finished > lastRestart) lastRestart = finished;
    const waiting = stringAt(status, 'state', 'waiting', 'reason');
    const terminated = objectAt(status, 'state', 'terminated');
    if (waiting !== undefined && waiting !== '') reason = waiting;
    else if (terminated !== undefined) {
      reason = stringAt(terminated, 'reason') ?? `ExitCode:${numberAt(terminated, 'exitCode') ?? 0}`;
    } else if (objectAt(status, 'state', 'running') !== undefined && valueIsTrue(status, 'ready')) {
      ready += 1;
    }
  }
  if (stringAt(pod, 'metadata', 'deletionTimestamp') !== undefined) reason = 'Terminating';
  const restartsText =
    restarts !== 0 && lastRestart > 0 ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
  const podIP = stringAt(pod, 'status', 'podIP') ?? '<none>';
  const node = stringAt(pod, 'spec', 'nodeName') ?? '<none>';
  return [name, `${ready}/${total}`, reason, restartsText, age, podIP, node, '<none>', '<none>'];
}

function valueIsTrue(value: Json | undefined, key: string): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && value[key] === true;
}

function translateTimestampSince(time: string | undefined, now: number): string {
  const at = Date.parse(time ?? '');
  return Number.isFinite(at) ? humanDuration(now - at) : '<unknown>';
}

/** duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8)
    return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}
