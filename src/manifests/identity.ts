// Who an object of a set is: its group, kind, namespace and name (the identity a set's record keeps, with the version
// it was applied as and, once known, its uid). Pure.

/** An object's identity in a set. */
export interface ObjectRef {
  /** The API group; empty for the core group. */
  readonly group: string;
  readonly kind: string;
  /** Undefined for a cluster-scoped object. */
  readonly namespace: string | undefined;
  readonly name: string;
}

/** A member of a set, as its record keeps it. */
export interface Member extends ObjectRef {
  /** The apiVersion it was applied as: the version to read it by later. */
  readonly apiVersion: string;
  readonly uid: string | undefined;
  /** What the set last wrote to it: "<resourceVersion> <digest of the object sent>", from the answer to that write.
   * While the object's resourceVersion is still that one, nothing has written it since (a resourceVersion changes
   * with every write), so the same object sent again would change nothing. Undefined until the set writes it. */
  readonly applied?: string | undefined;
}

/** The group of an apiVersion: `apps` for `apps/v1`, empty for `v1`. */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** A key that is the same for the same identity. */
export function refKey({ group, kind, namespace, name }: ObjectRef): string {
  return `${group}/${kind}/${namespace ?? ''}/${name}`;
}

/** `Kind.group`, as kubectl and ApplySet write a group-kind (`ConfigMap`, `Deployment.apps`). */
export function groupKind({ group, kind }: Pick<ObjectRef, 'group' | 'kind'>): string {
  return group === '' ? kind : `${kind}.${group}`;
}

/** The object for a message: `Deployment.apps "web" in namespace "apps"`, `ClusterRole "reader"`. */
export function describeRef(ref: ObjectRef): string {
  return `${groupKind(ref)} "${ref.name}"${ref.namespace === undefined ? '' : ` in namespace "${ref.namespace}"`}`;
}
