// Typed walks over objects, as structured-merge-diff's typed package does them (tofieldset.go, compare.go,
// merge.go, remove.go): the field set of an object, the difference between two, the merge of an applied
// configuration into a live object, and the removal of a set of fields.
import { FieldSet, elementKey, type FieldPath, type PathElement } from './fieldpath.js';
import { isObject, jsonEqual, type Json, type JsonObject } from './json.js';
import { nodeKind, type NodeKind, type Resource } from './schema.js';

export interface Comparison {
  readonly added: FieldSet;
  readonly removed: FieldSet;
  readonly modified: FieldSet;
}

interface Walk {
  readonly resource: Resource;
  readonly typePath: readonly string[];
  readonly path: FieldPath;
}

const descendField = (walk: Walk, name: string): Walk => ({
  resource: walk.resource,
  typePath: [...walk.typePath, name],
  path: [...walk.path, { field: name }],
});

const descendItem = (walk: Walk, pe: PathElement): Walk => ({
  resource: walk.resource,
  typePath: walk.typePath,
  path: [...walk.path, pe],
});

const kindOf = (walk: Walk): NodeKind => nodeKind(walk.resource, walk.typePath);

/** The path element of a list item: its key fields (with schema defaults), or its value for a set. */
export function itemElement(kind: NodeKind, item: Json, index: number): PathElement {
  if (kind.kind === 'set') return { value: item };
  if (kind.kind === 'list' && isObject(item)) {
    return {
      key: kind.keys.flatMap((name): [string, Json][] => {
        const value = item[name] ?? kind.defaults?.[name];
        return value === undefined ? [] : [[name, value]];
      }),
    };
  }
  return { index };
}

const granularList = (kind: NodeKind): boolean => kind.kind === 'list' || kind.kind === 'set';

/** The fields an object sets (tofieldset.go): leaves, list items, and empty or null struct fields. */
export function toFieldSet(resource: Resource, object: JsonObject): FieldSet {
  const set = new FieldSet();
  const visit = (value: Json, walk: Walk): void => {
    const kind = kindOf(walk);
    if (isObject(value) && kind.kind !== 'atomic') {
      for (const [name, child] of Object.entries(value)) {
        const next = descendField(walk, name);
        visit(child, next);
        const empty = child === null || (isObject(child) && Object.keys(child).length === 0);
        if (empty || kind.kind === 'map') set.insert(next.path);
      }
      return;
    }
    if (Array.isArray(value) && granularList(kind)) {
      value.forEach((item, index) => {
        const next = descendItem(walk, itemElement(kind, item, index));
        visit(item, next);
        set.insert(next.path);
      });
      return;
    }
    if (walk.path.length > 0) set.insert(walk.path);
  };
  visit(object, { resource, typePath: [], path: [] });
  return set;
}

const emptyish = (value: Json | undefined): boolean =>
  value === undefined ||
  value === null ||
  (isObject(value) && Object.keys(value).length === 0) ||
  (Array.isArray(value) && value.length === 0);

/** What changed from `lhs` to `rhs` (compare.go); a node that appears or disappears is itself added or removed. */
export function compare(resource: Resource, lhs: JsonObject, rhs: JsonObject): Comparison {
  const result: Comparison = { added: new FieldSet(), removed: new FieldSet(), modified: new FieldSet() };
  const leaf = (l: Json | undefined, r: Json | undefined, walk: Walk): void => {
    if (l === undefined) result.added.insert(walk.path);
    else if (r === undefined) result.removed.insert(walk.path);
    else if (!jsonEqual(l, r)) result.modified.insert(walk.path);
  };
  const visit = (l: Json | undefined, r: Json | undefined, walk: Walk): void => {
    if (l === undefined && r === undefined) return;
    const kind = kindOf(walk);
    const isMap = isObject(l) || isObject(r);
    const isList = Array.isArray(l) || Array.isArray(r);
    if ((isMap && kind.kind !== 'atomic') || (isList && granularList(kind))) {
      if (emptyish(l) && emptyish(r)) {
        leaf(l, r, walk);
        return;
      }
      if (isMap) {
        const lm = isObject(l) ? l : {};
        const rm = isObject(r) ? r : {};
        for (const name of new Set([...Object.keys(lm), ...Object.keys(rm)])) {
          visit(lm[name], rm[name], descendField(walk, name));
        }
      } else {
        const li = indexItems(kind, Array.isArray(l) ? l : []);
        const ri = indexItems(kind, Array.isArray(r) ? r : []);
        for (const key of new Set([...li.keys(), ...ri.keys()])) {
          const left = li.get(key);
          const right = ri.get(key);
          const pe = left?.pe ?? right?.pe;
          if (pe !== undefined) visit(left?.item, right?.item, descendItem(walk, pe));
        }
      }
      if (walk.path.length > 0) {
        if (l === undefined) result.added.insert(walk.path);
        else if (r === undefined) result.removed.insert(walk.path);
      }
      return;
    }
    leaf(l, r, walk);
  };
  visit(lhs, rhs, { resource, typePath: [], path: [] });
  return result;
}

function indexItems(kind: NodeKind, items: readonly Json[]): Map<string, { pe: PathElement; item: Json }> {
  const index = new Map<string, { pe: PathElement; item: Json }>();
  items.forEach((item, i) => {
    const pe = itemElement(kind, item, i);
    index.set(elementKey(pe), { pe, item });
  });
  return index;
}

/** The live object with the applied configuration merged in (merge.go): the configuration wins on leaves and
 * atomic nodes; maps merge by field, associative lists and sets by key, in the order structured-merge-diff keeps. */
export function merge(resource: Resource, live: JsonObject, config: JsonObject): JsonObject {
  const visit = (l: Json | undefined, r: Json | undefined, walk: Walk): Json | undefined => {
    if (r === undefined) return l;
    if (l === undefined) return structuredClone(r);
    const kind = kindOf(walk);
    if (isObject(l) && isObject(r) && kind.kind !== 'atomic') {
      const out: JsonObject = { ...l };
      for (const [name, value] of Object.entries(r)) {
        const merged = visit(l[name], value, descendField(walk, name));
        if (merged !== undefined) out[name] = merged;
      }
      return out;
    }
    if (Array.isArray(l) && Array.isArray(r) && granularList(kind)) return mergeList(kind, l, r, walk, visit);
    return structuredClone(r);
  };
  const merged = visit(live, config, { resource, typePath: [], path: [] });
  return isObject(merged) ? merged : live;
}

/** mergingWalker.visitListItems: live items stay where they are, shared items follow the configuration's order,
 * new items come where the configuration puts them. */
function mergeList(
  kind: NodeKind,
  lhs: readonly Json[],
  rhs: readonly Json[],
  walk: Walk,
  visit: (l: Json | undefined, r: Json | undefined, walk: Walk) => Json | undefined,
): Json[] {
  const lhsPEs = lhs.map((item, i) => itemElement(kind, item, i));
  const rhsPEs = rhs.map((item, i) => itemElement(kind, item, i));
  const observedLHS = new Map(lhsPEs.map((pe, i) => [elementKey(pe), lhs[i]]));
  const observedRHS = new Map(rhsPEs.map((pe, i) => [elementKey(pe), rhs[i]]));
  const sharedOrder = rhsPEs.filter((pe) => observedLHS.has(elementKey(pe))).map(elementKey);
  let nextShared = sharedOrder.shift();
  const merged = new Set<string>();
  const out: Json[] = [];
  const take = (pe: PathElement, l: Json | undefined, r: Json | undefined): void => {
    const value = visit(l, r, descendItem(walk, pe));
    if (value !== undefined) out.push(value);
  };
  let lI = 0;
  let rI = 0;
  while (lI < lhsPEs.length || rI < rhsPEs.length) {
    const lpe = lhsPEs[lI];
    const rpe = rhsPEs[rI];
    if (lpe !== undefined && rpe !== undefined) {
      const lk = elementKey(lpe);
      if (lk === elementKey(rpe)) {
        merged.add(lk);
        take(lpe, observedLHS.get(lk), observedRHS.get(lk));
        lI += 1;
        rI += 1;
        nextShared = sharedOrder.shift();
        continue;
      }
      if (observedRHS.has(lk) && nextShared !== undefined && nextShared !== lk) {
        lI += 1;
        continue;
      }
    }
    if (lpe !== undefined) {
      const lk = elementKey(lpe);
      if (!observedRHS.has(lk)) {
        take(lpe, lhs[lI], undefined);
        lI += 1;
        continue;
      }
      if (merged.has(lk)) {
        lI += 1;
        continue;
      }
    }
    if (rpe !== undefined) {
      const rk = elementKey(rpe);
      merged.add(rk);
      take(rpe, observedLHS.get(rk), observedRHS.get(rk));
      rI += 1;
      if (nextShared === rk) nextShared = sharedOrder.shift();
    }
  }
  return out;
}

/** The object without the fields in `set` (remove.go); a map or list left empty goes too. */
export function removeItems(resource: Resource, object: JsonObject, set: FieldSet): JsonObject {
  const visit = (value: Json, toRemove: FieldSet, walk: Walk): Json | undefined => {
    const kind = kindOf(walk);
    if (isObject(value) && kind.kind !== 'atomic') {
      if (Object.keys(value).length === 0) return value;
      const out: JsonObject = {};
      for (const [name, child] of Object.entries(value)) {
        const pe = { field: name };
        if (toRemove.hasMember(pe)) continue;
        const below = toRemove.withPrefix(pe);
        const kept = below === undefined || below.isEmpty() ? child : visit(child, below, descendField(walk, name));
        if (kept !== undefined) out[name] = kept;
      }
      return Object.keys(out).length > 0 ? out : undefined;
    }
    if (Array.isArray(value) && granularList(kind)) {
      if (value.length === 0) return value;
      const out: Json[] = [];
      value.forEach((item, index) => {
        const pe = itemElement(kind, item, index);
        if (toRemove.hasMember(pe)) return;
        const below = toRemove.withPrefix(pe);
        const kept = below === undefined || below.isEmpty() ? item : visit(item, below, descendItem(walk, pe));
        if (kept !== undefined) out.push(kept);
      });
      return out.length > 0 ? out : undefined;
    }
    return value;
  };
  const result = visit(object, set, { resource, typePath: [], path: [] });
  return isObject(result) ? result : {};
}

/** The set plus every struct field on the way to its paths (Set.EnsureNamedFieldsAreMembers); map entries and
 * list items are not named fields. */
export function ensureNamedFieldsAreMembers(resource: Resource, set: FieldSet): FieldSet {
  const result = set.copy();
  for (const path of set.paths()) {
    let typePath: string[] = [];
    for (let i = 0; i < path.length - 1; i += 1) {
      const pe = path[i];
      if (pe === undefined) break;
      const parentKind = nodeKind(resource, typePath);
      if ('field' in pe) {
        if (parentKind.kind === 'struct') result.insert(path.slice(0, i + 1));
        typePath = [...typePath, pe.field];
      }
    }
  }
  return result;
}
