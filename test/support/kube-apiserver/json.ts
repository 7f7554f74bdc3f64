// JSON values as the stand-in stores and serves them, and the few typed reads it needs, without casts.

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** The value as JSON, or undefined if it is not JSON (a function, a symbol, a cycle is not expected here). */
export function toJson(value: unknown): Json | undefined {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (Array.isArray(value)) {
    const items: Json[] = [];
    for (const item of value) {
      const json = toJson(item);
      if (json === undefined) return undefined;
      items.push(json);
    }
    return items;
  }
  if (typeof value === 'object') {
    const object: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const json = toJson(item);
      if (json === undefined) return undefined;
      object[key] = json;
    }
    return object;
  }
  return undefined;
}

/** JSON.parse into Json; undefined when the text is not JSON. */
export function parseJson(text: string): Json | undefined {
  try {
    return toJson(JSON.parse(text));
  } catch {
    return undefined;
  }
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `key`, or undefined. */
export function objectAt(value: Json | undefined, ...path: string[]): JsonObject | undefined {
  const found = valueAt(value, ...path);
  return isObject(found) ? found : undefined;
}

export function valueAt(value: Json | undefined, ...path: string[]): Json | undefined {
  let current = value;
  for (const step of path) {
    if (!isObject(current)) return undefined;
    current = current[step];
  }
  return current;
}

export function stringAt(value: Json | undefined, ...path: string[]): string | undefined {
  const found = valueAt(value, ...path);
  return typeof found === 'string' ? found : undefined;
}

export function numberAt(value: Json | undefined, ...path: string[]): number | undefined {
  const found = valueAt(value, ...path);
  return typeof found === 'number' ? found : undefined;
}

export function arrayAt(value: Json | undefined, ...path: string[]): Json[] {
  const found = valueAt(value, ...path);
  return Array.isArray(found) ? found : [];
}

/** The string-to-string map at `path` (labels, annotations, matchLabels); non-string values are skipped. */
export function stringMapAt(value: Json | undefined, ...path: string[]): Record<string, string> {
  const found = objectAt(value, ...path) ?? {};
  const map: Record<string, string> = {};
  for (const [key, item] of Object.entries(found)) {
    if (typeof item === 'string') map[key] = item;
  }
  return map;
}

/** The object at `path`, created (with every object on the way) if missing. */
export function ensureObject(root: JsonObject, ...path: string[]): JsonObject {
  let current = root;
  for (const step of path) {
    const next = current[step];
    if (isObject(next)) {
      current = next;
    } else {
      const created: JsonObject = {};
      current[step] = created;
      current = created;
    }
  }
  return current;
}

export function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}

/** Deep equality of JSON values; object key order does not matter. */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && jsonEqual(a[key], b[key]));
  }
  return false;
}

/** JSON text with object keys sorted, for hashing. */
export function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] ?? null)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Removes a key chosen at run time (a literal key is deleted with `delete`). */
export function dropKey(object: JsonObject, key: string): void {
  Reflect.deleteProperty(object, key);
}
