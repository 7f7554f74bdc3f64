// Field paths and field sets as server-side apply tracks them (sigs.k8s.io/structured-merge-diff fieldpath: element.go,
// set.go, serialize.go; apimachinery pkg/util/managedfields/internal/pathelement.go for the FieldsV1 keys).
import { isObject, type Json, type JsonObject } from './json.js';

/** One step of a path: a struct or map field, a list item by key, a set item by value, or a list index. */
export type PathElement =
  | { readonly field: string }
  | { readonly key: readonly (readonly [string, Json])[] }
  | { readonly value: Json }
  | { readonly index: number };

export type FieldPath = readonly PathElement[];

/** The FieldsV1 key of an element: `f:name`, `k:{"name":"nginx"}`, `v:"x"`, `i:0` (pathelement.go). */
export function elementKey(pe: PathElement): string {
  if ('field' in pe) return `f:${pe.field}`;
  if ('key' in pe) {
    const sorted = [...pe.key].sort(([a], [b]) => compareStrings(a, b));
    return `k:{${sorted.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`).join(',')}}`;
  }
  if ('value' in pe) return `v:${JSON.stringify(pe.value)}`;
  return `i:${pe.index}`;
}

/** The element as structured-merge-diff prints it in conflict messages (element.go, PathElement.String). */
export function elementString(pe: PathElement): string {
  if ('field' in pe) return `.${pe.field}`;
  if ('key' in pe) {
    const sorted = [...pe.key].sort(([a], [b]) => compareStrings(a, b));
    return `[${sorted.map(([name, value]) => `${name}=${valueString(value)}`).join(',')}]`;
  }
  if ('value' in pe) return `[=${valueString(pe.value)}]`;
  return `[${pe.index}]`;
}

export function pathString(path: FieldPath): string {
  return path.map(elementString).join('');
}

/** value.ToString: strings quoted, numbers and booleans bare. */
function valueString(value: Json): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(valueString).join(',')}]`;
  return Object.entries(value)
    .map(([key, item]) => `${key}=${valueString(item)}`)
    .join('');
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function typeRank(value: Json): number {
  if (value === null) return 0;
  if (typeof value === 'boolean') return 1;
  if (typeof value === 'number') return 2;
  if (typeof value === 'string') return 3;
  return Array.isArray(value) ? 4 : 5;
}

function compareValues(a: Json, b: Json): number {
  const rank = typeRank(a) - typeRank(b);
  if (rank !== 0) return Math.sign(rank);
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return compareStrings(JSON.stringify(a), JSON.stringify(b));
}

/** PathElement.Compare: fields before keys before values before indices, each ordered within. */
export function compareElements(a: PathElement, b: PathElement): number {
  const rank = (pe: PathElement): number => ('field' in pe ? 0 : 'key' in pe ? 1 : 'value' in pe ? 2 : 3);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if ('field' in a && 'field' in b) return compareStrings(a.field, b.field);
  if ('key' in a && 'key' in b) {
    const left = [...a.key].sort(([x], [y]) => compareStrings(x, y));
    const right = [...b.key].sort(([x], [y]) => compareStrings(x, y));
    for (let i = 0; ; i += 1) {
      const l = left[i];
      const r = right[i];
      if (l === undefined || r === undefined) return l === undefined ? (r === undefined ? 0 : -1) : 1;
      const byName = compareStrings(l[0], r[0]);
      if (byName !== 0) return byName;
      const byValue = compareValues(l[1], r[1]);
      if (byValue !== 0) return byValue;
    }
  }
  if ('value' in a && 'value' in b) return compareValues(a.value, b.value);
  if ('index' in a && 'index' in b) return a.index - b.index;
  return 0;
}

/** A set of field paths, as a tree: members are paths that end here, children are paths that go on. */
export class FieldSet {
  private readonly members = new Map<string, PathElement>();
  private readonly children = new Map<string, { readonly pe: PathElement; readonly set: FieldSet }>();

  static of(...paths: FieldPath[]): FieldSet {
    const set = new FieldSet();
    for (const path of paths) set.insert(path);
    return set;
  }

  insert(path: FieldPath): void {
    const [first, ...rest] = path;
    if (first === undefined) return;
    const key = elementKey(first);
    if (rest.length === 0) {
      this.members.set(key, first);
      return;
    }
    let child = this.children.get(key);
    if (child === undefined) {
      child = { pe: first, set: new FieldSet() };
      this.children.set(key, child);
    }
    child.set.insert(rest);
  }

  has(path: FieldPath): boolean {
    const [first, ...rest] = path;
    if (first === undefined) return false;
    const key = elementKey(first);
    if (rest.length === 0) return this.members.has(key);
    return this.children.get(key)?.set.has(rest) ?? false;
  }

  hasMember(pe: PathElement): boolean {
    return this.members.has(elementKey(pe));
  }

  /** The paths below `pe`, relative to it (Set.WithPrefix). */
  withPrefix(pe: PathElement): FieldSet | undefined {
    return this.children.get(elementKey(pe))?.set;
  }

  isEmpty(): boolean {
    if (this.members.size > 0) return false;
    for (const { set } of this.children.values()) if (!set.isEmpty()) return false;
    return true;
  }

  union(other: FieldSet): FieldSet {
    const result = this.copy();
    for (const path of other.paths()) result.insert(path);
    return result;
  }

  difference(other: FieldSet): FieldSet {
    return FieldSet.of(...this.paths().filter((path) => !other.has(path)));
  }

  intersection(other: FieldSet): FieldSet {
    return FieldSet.of(...this.paths().filter((path) => other.has(path)));
  }

  /** The paths that neither are in `other` nor lie below one of its members (Set.RecursiveDifference). */
  recursiveDifference(other: FieldSet): FieldSet {
    return FieldSet.of(
      ...this.paths().filter((path) => !path.some((_pe, index) => other.has(path.slice(0, index + 1)))),
    );
  }

  copy(): FieldSet {
    return FieldSet.of(...this.paths());
  }

  /** Every path, in the order structured-merge-diff iterates: members, then children, each sorted. */
  paths(): FieldPath[] {
    const result: FieldPath[] = [];
    for (const pe of [...this.members.values()].sort(compareElements)) result.push([pe]);
    for (const { pe, set } of [...this.children.values()].sort((a, b) => compareElements(a.pe, b.pe))) {
      for (const path of set.paths()) result.push([pe, ...path]);
    }
    return result;
  }

  /** The FieldsV1 form (serialize.go): `.` for a member that also has children, keys in element order. */
  toFieldsV1(): JsonObject {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): JsonObject {
    const out: JsonObject = {};
    if (includeSelf) out['.'] = {};
    const entries = new Map<string, { pe: PathElement; member: boolean; set?: FieldSet }>();
    for (const [key, pe] of this.members) entries.set(key, { pe, member: true });
    for (const [key, { pe, set }] of this.children) {
      if (set.isEmpty()) continue;
      entries.set(key, { pe, member: entries.has(key), set });
    }
    for (const [key, entry] of [...entries].sort((a, b) => compareElements(a[1].pe, b[1].pe))) {
      out[key] = entry.set === undefined ? {} : entry.set.emit(entry.member);
    }
    return out;
  }

  static fromFieldsV1(fields: Json | undefined): FieldSet {
    const set = new FieldSet();
    const walk = (node: JsonObject, prefix: PathElement[]): void => {
      for (const [key, child] of Object.entries(node)) {
        if (key === '.') {
          set.insert(prefix);
          continue;
        }
        const pe = parseElementKey(key);
        if (pe === undefined || !isObject(child)) continue;
        const path = [...prefix, pe];
        if (Object.keys(child).length === 0) set.insert(path);
        else walk(child, path);
      }
    };
    if (isObject(fields)) walk(fields, []);
    return set;
  }
}

function parseElementKey(key: string): PathElement | undefined {
  const body = key.slice(2);
  try {
    if (key.startsWith('f:')) return { field: body };
    if (key.startsWith('i:')) return { index: Number(body) };
    const parsed: unknown = JSON.parse(body);
    if (key.startsWith('v:')) return { value: toJsonValue(parsed) };
    if (key.startsWith('k:') && typeof parsed === 'object' && parsed !== null) {
      return { key: Object.entries(parsed).map(([name, value]): [string, Json] => [name, toJsonValue(value)]) };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function toJsonValue(value: unknown): Json {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  return JSON.stringify(value);
}
