// The list and watch query: namespace, labelSelector, fieldSelector, limit and continue.
import { stringAt, stringMapAt, type JsonObject } from './json.js';
import type { Resource } from './schema.js';
import { matches, parseFieldSelector, parseLabelSelector, type FieldRequirement, type Selector } from './selector.js';

export interface ListQuery {
  /** Undefined for a list across all namespaces. */
  readonly namespace: string | undefined;
  readonly labels: Selector;
  readonly fields: readonly FieldRequirement[];
}

/** The field labels each resource can be selected by (the strategies' GetAttrs / field label conversion). */
const FIELD_LABELS: Readonly<Record<Resource, readonly string[]>> = {
  deployments: ['metadata.name', 'metadata.namespace'],
  replicasets: ['metadata.name', 'metadata.namespace', 'status.replicas'],
  pods: [
    'metadata.name',
    'metadata.namespace',
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
};

/** Parses the query; throws with the server's message when a selector is malformed. */
export function parseListQuery(resource: Resource, namespace: string | undefined, params: URLSearchParams): ListQuery {
  return {
    namespace,
    labels: parseLabelSelector(params.get('labelSelector') ?? ''),
    fields: parseFieldSelector(params.get('fieldSelector') ?? '', FIELD_LABELS[resource]),
  };
}

export function matchesQuery(object: JsonObject, query: ListQuery): boolean {
  if (query.namespace !== undefined && stringAt(object, 'metadata', 'namespace') !== query.namespace) return false;
  const labels = stringMapAt(object, 'metadata', 'labels');
  if (!matches(query.labels, labels)) return false;
  return query.fields.every(({ field, value, equal }) => {
    const actual = fieldValue(object, field);
    return (actual === value) === equal;
  });
}

function fieldValue(object: JsonObject, field: string): string {
  let current: unknown = object;
  for (const step of field.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return '';
    current = Reflect.get(current, step);
  }
  if (typeof current === 'string') return current;
  if (typeof current === 'number' || typeof current === 'boolean') return String(current);
  return '';
}
