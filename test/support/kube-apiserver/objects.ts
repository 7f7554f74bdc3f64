// Small typed reads of Deployments, ReplicaSets and Pods the controllers share.
import { arrayAt, isObject, numberAt, objectAt, stringAt, type Json, type JsonObject } from './json.js';

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller: boolean;
  readonly blockOwnerDeletion: boolean;
}

export function ownerReferences(object: JsonObject): OwnerReference[] {
  return arrayAt(object, 'metadata', 'ownerReferences').flatMap((ref) => {
    const kind = stringAt(ref, 'kind');
    const name = stringAt(ref, 'name');
    const uid = stringAt(ref, 'uid');
    if (kind === undefined || name === undefined || uid === undefined) return [];
    return [
      {
        apiVersion: stringAt(ref, 'apiVersion') ?? '',
        kind,
        name,
        uid,
        controller: valueIs(ref, 'controller', true),
        blockOwnerDeletion: valueIs(ref, 'blockOwnerDeletion', true),
      },
    ];
  });
}

function valueIs(object: Json, key: string, expected: Json): boolean {
  return isObject(object) && object[key] === expected;
}

/** The controller reference (metav1.GetControllerOf). */
export function controllerOf(object: JsonObject): OwnerReference | undefined {
  return ownerReferences(object).find((ref) => ref.controller);
}

export function controlledBy(object: JsonObject, uid: string): boolean {
  return controllerOf(object)?.uid === uid;
}

export function uidOf(object: JsonObject): string {
  return stringAt(object, 'metadata', 'uid') ?? '';
}

export function nameOf(object: JsonObject): string {
  return stringAt(object, 'metadata', 'name') ?? '';
}

export function namespaceOf(object: JsonObject): string {
  return stringAt(object, 'metadata', 'namespace') ?? '';
}

export function specReplicas(object: JsonObject, fallback = 1): number {
  return numberAt(object, 'spec', 'replicas') ?? fallback;
}

export function statusNumber(object: JsonObject, field: string): number {
  return numberAt(object, 'status', field) ?? 0;
}

export function annotation(object: JsonObject, key: string): string | undefined {
  return stringAt(object, 'metadata', 'annotations', key);
}

export function creationMs(object: JsonObject): number {
  return Date.parse(stringAt(object, 'metadata', 'creationTimestamp') ?? '') || 0;
}

export interface Condition extends JsonObject {
  type: string;
  status: string;
}

export function conditions(object: JsonObject): Condition[] {
  return arrayAt(object, 'status', 'conditions').flatMap((condition): Condition[] => {
    if (!isObject(condition)) return [];
    const { type, status } = condition;
    return typeof type === 'string' && typeof status === 'string' ? [{ ...condition, type, status }] : [];
  });
}

export function condition(object: JsonObject, type: string): Condition | undefined {
  return conditions(object).find((c) => c.type === type);
}

/** IsPodActive: not finished and not being deleted. */
export function podIsActive(pod: JsonObject): boolean {
  const phase = stringAt(pod, 'status', 'phase');
  return phase !== 'Succeeded' && phase !== 'Failed' && objectAt(pod, 'metadata')?.['deletionTimestamp'] === undefined;
}

export function podIsReady(pod: JsonObject): boolean {
  return condition(pod, 'Ready')?.status === 'True';
}

/** IsPodAvailable: Ready for at least minReadySeconds. */
export function podIsAvailable(pod: JsonObject, minReadySeconds: number, now: number): boolean {
  const ready = condition(pod, 'Ready');
  if (ready?.status !== 'True') return false;
  if (minReadySeconds === 0) return true;
  const since = Date.parse(typeof ready['lastTransitionTime'] === 'string' ? ready['lastTransitionTime'] : '');
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now;
}

/** GetScaledValueFromIntOrPercent: an int, or a percentage of `total` rounded up or down. */
export function scaledValue(value: Json | undefined, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const percent = /^(\d+)%$/.exec(value);
    if (percent?.[1] !== undefined) {
      const scaled = (Number(percent[1]) * total) / 100;
      return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
    }
    const number = Number(value);
    return Number.isInteger(number) ? number : 0;
  }
  return 0;
}
