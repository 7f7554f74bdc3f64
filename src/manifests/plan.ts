// A manifest, parsed and resolved, as the set engine acts on it: each object with its resource type, its identity
// (its namespace defaulted), and where it goes in the order; checked for everything that needs discovery, before
// anything is written.
import { APPLYSET_PART_OF_LABEL, SET_ANNOTATION } from '../constants.js';
import { InvalidManifestError } from '../errors.js';
import type { JsonObject } from '../kube/client.js';
import type { Session } from '../kube/session.js';
import { resolveTypes, typeKey, typesDefinedBy, type ResourceType } from './discovery.js';
import { describeRef, groupOf, refKey, type Member, type ObjectRef } from './identity.js';
import { parseManifest, type ParsedObject } from './parse.js';
import type { InlineManifest } from './request.js';

/** The most objects one set may hold. */
export const MAX_SET_OBJECTS = 500;

/** An object of the set, ready to apply. */
export interface PlannedObject {
  readonly from: string;
  readonly type: ResourceType;
  readonly ref: ObjectRef;
  readonly apiVersion: string;
  readonly kind: string;
  readonly custom: boolean;
  /** The object to send: as written, with its namespace set and the set's label and annotation added. */
  readonly object: JsonObject;
  /** Its kind is defined by a CRD of this set, or its namespace is made by this set: it cannot be checked by the server
   * before those exist. */
  readonly dependsOnSet: boolean;
}

/** Parses the manifest, finds each kind's resource type, defaults namespaces, and checks what a set may hold. Throws
 * InvalidManifestError naming the document for the first problem. */
export async function planSet(
  session: Session,
  source: InlineManifest,
  target: { readonly set: string; readonly namespace: string; readonly applySetId: string },
): Promise<PlannedObject[]> {
  const parsed = await parseManifest(source);
  if (parsed.length > MAX_SET_OBJECTS) {
    throw new InvalidManifestError(
      `the manifest holds ${parsed.length} objects, more than the ${MAX_SET_OBJECTS} a set may have (each is read, ` +
        "checked and applied within one invocation, and listed in the set's record): split it into several sets",
    );
  }
  const definedBySet = typesDefinedBy(parsed);
  const types = await resolveTypes(session, parsed, definedBySet);
  const namespacesOfSet = new Set(
    parsed.filter((object) => object.apiVersion === 'v1' && object.kind === 'Namespace').map((object) => object.name),
  );
  const seen = new Map<string, string>();
  return parsed.map((object) => {
    const type = types.get(typeKey(object.apiVersion, object.kind));
    if (type === undefined) throw new Error(`no resource type for ${object.apiVersion} ${object.kind}`);
    const ref = identify(object, type, target.namespace);
    if (type.kind === 'Namespace' && type.group === '' && object.name === target.namespace) {
      throw new InvalidManifestError(
        `${object.from} (Namespace "${object.name}") is the set's own namespace, where its record lives: a set cannot ` +
          'hold it. Keep that namespace out of the manifest (create it before), or give the set another "namespace".',
      );
    }
    const key = refKey(ref);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new InvalidManifestError(
        `${object.from} and ${earlier} are the same object, ${describeRef(ref)}: give each object of a set its own ` +
          'name',
      );
    }
    seen.set(key, object.from);
    const definedHere = definedBySet.some(
      (defined) => typeKey(defined.apiVersion, defined.kind) === typeKey(type.apiVersion, type.kind),
    );
    return {
      from: object.from,
      type,
      ref,
      apiVersion: object.apiVersion,
      kind: object.kind,
      custom: type.custom,
      object: labelled(object, ref, target),
      dependsOnSet: definedHere || (ref.namespace !== undefined && namespacesOfSet.has(ref.namespace)),
    };
  });
}

/** The record's entry for a planned object (its uid once known, and what the set last wrote to it). */
export function memberOf(planned: PlannedObject, uid: string | undefined, applied?: string): Member {
  return { ...planned.ref, apiVersion: planned.apiVersion, uid, ...(applied === undefined ? {} : { applied }) };
}

function identify(object: ParsedObject, type: ResourceType, defaultNamespace: string): ObjectRef {
  if (!type.namespaced && object.namespace !== undefined) {
    throw new InvalidManifestError(
      `${object.from} (${object.kind} "${object.name}") names namespace "${object.namespace}", but ${object.kind} is ` +
        'cluster-scoped: remove metadata.namespace',
    );
  }
  return {
    group: groupOf(object.apiVersion),
    kind: object.kind,
    namespace: type.namespaced ? (object.namespace ?? defaultNamespace) : undefined,
    name: object.name,
  };
}

/** The object as it is sent: as written, its namespace set when it names none, and the set's label and annotation. */
function labelled(
  object: ParsedObject,
  ref: ObjectRef,
  target: { readonly set: string; readonly namespace: string; readonly applySetId: string },
): JsonObject {
  const metadata = record(object.object['metadata']);
  const labels = record(metadata['labels']);
  const annotations = record(metadata['annotations']);
  return {
    ...object.object,
    metadata: {
      ...metadata,
      ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
      labels: { ...labels, [APPLYSET_PART_OF_LABEL]: target.applySetId },
      annotations: { ...annotations, [SET_ANNOTATION]: `${target.namespace}/${target.set}` },
    },
  };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : {};
}
