// What the manifest actions return: the set, each object's identity and what was done to it, and the counts.
import type { JsonObject } from '../kube/client.js';
import type { Readiness, ReadinessReport } from '../status/kstatus.js';
import type { Member, ObjectRef } from './identity.js';
import { metadataString } from './objects.js';

/** What was done, or with a dry run would be done, to one object. */
export type ObjectAction = 'created' | 'configured' | 'unchanged' | 'pruned' | 'deleted' | 'kept';

/** One object of the set in a result. */
export interface SetObjectResult {
  readonly apiVersion: string;
  readonly kind: string;
  /** Absent for a cluster-scoped object. */
  readonly namespace?: string;
  readonly name: string;
  readonly uid?: string;
  readonly action?: ObjectAction;
  /** Why, for `kept` and anything unusual. */
  readonly message?: string;
  /** Dry runs only: whether the server checked the object (it cannot, before its CRD or namespace exists). */
  readonly verified?: boolean;
  /** How ready the object is (kstatus's rules), and why; not on dry runs, nor for what was pruned or deleted. */
  readonly ready?: Readiness;
  readonly readyMessage?: string;
}

/** What apply-manifest, get-manifest and delete-manifest return. */
export interface SetResult {
  readonly status: 'applied' | 'dry-run' | 'found' | 'absent' | 'deleted';
  readonly set: string;
  readonly namespace: string;
  /** How many objects each action touched; zeros are left out. */
  readonly counts: Partial<Record<ObjectAction, number>>;
  readonly objects: readonly SetObjectResult[];
}

/** An object's result entry. */
export function objectResult(
  member: Pick<Member, 'apiVersion' | 'kind' | 'namespace' | 'name'> & { readonly uid?: string | undefined },
  outcome: { action?: ObjectAction; message?: string; verified?: boolean; readiness?: ReadinessReport } = {},
): SetObjectResult {
  return {
    apiVersion: member.apiVersion,
    kind: member.kind,
    ...(member.namespace === undefined ? {} : { namespace: member.namespace }),
    name: member.name,
    ...(member.uid === undefined ? {} : { uid: member.uid }),
    ...(outcome.action === undefined ? {} : { action: outcome.action }),
    ...(outcome.message === undefined ? {} : { message: outcome.message }),
    ...(outcome.verified === undefined ? {} : { verified: outcome.verified }),
    ...(outcome.readiness === undefined
      ? {}
      : { ready: outcome.readiness.ready, readyMessage: outcome.readiness.message }),
  };
}

/** The counts of a result's objects, by action. */
export function countActions(objects: readonly SetObjectResult[]): Partial<Record<ObjectAction, number>> {
  const counts: Partial<Record<ObjectAction, number>> = {};
  for (const { action } of objects) {
    if (action !== undefined) counts[action] = (counts[action] ?? 0) + 1;
  }
  return counts;
}

/** The uid of an object the server answered with. */
export function uidOf(object: JsonObject | undefined): string | undefined {
  return metadataString(object, 'uid');
}

/** The identity part of a member, for messages. */
export function refOf(member: Member): ObjectRef {
  const { group, kind, namespace, name } = member;
  return { group, kind, namespace, name };
}
