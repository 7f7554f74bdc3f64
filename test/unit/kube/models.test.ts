import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import * as full from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { KUBE_MODEL_ROOTS } from '../../../esbuild.config.mjs';
import { at } from '../../support/json.js';
import { PROJECT_ROOT } from '../../support/lambda.js';

// The bundle keeps only the client-node models reachable from KUBE_MODEL_ROOTS (esbuild.config.mjs). A type missing
// from the trimmed map would otherwise pass data through untyped and silently: these tests compare the trimmed
// serializer the bundle ships (dist/vendor.mjs) with client-node's full one.

interface Serializer {
  serialize(data: unknown, type: string, format: string): unknown;
  deserialize(data: unknown, type: string, format: string): unknown;
}

let trimmed: Serializer;

beforeAll(async () => {
  const vendor: unknown = await import(pathToFileURL(join(PROJECT_ROOT, 'dist/vendor.mjs')).href);
  const serializer = at(vendor, 'ObjectSerializer');
  if (typeof serializer !== 'function') throw new Error('dist/vendor.mjs exports no ObjectSerializer: npm run build');
  trimmed = {
    serialize: (data, type, format) =>
      Reflect.apply(Reflect.get(serializer, 'serialize'), serializer, [data, type, format]),
    deserialize: (data, type, format) =>
      Reflect.apply(Reflect.get(serializer, 'deserialize'), serializer, [data, type, format]),
  };
});

const models: Readonly<Record<string, unknown>> = full;

/** A model class's static attributeTypeMap; undefined for anything else. A class is a function, which at() (for
 * parsed JSON) does not step into. */
function attributeTypeMap(model: unknown): unknown {
  return typeof model === 'function' ? Reflect.get(model, 'attributeTypeMap') : undefined;
}

function attributes(model: string): { name: string; baseName: string; type: string }[] {
  const map = attributeTypeMap(models[model]);
  return Array.isArray(map)
    ? map.map((attribute: unknown) => ({
        name: String(at(attribute, 'name')),
        baseName: String(at(attribute, 'baseName')),
        type: String(at(attribute, 'type')),
      }))
    : [];
}

/** A wire-format object with every attribute of `type` filled, to `depth` levels of nested models. */
function fixture(type: string, depth: number): unknown {
  const plain = type.replace(/ \| (null|undefined)$/, '');
  if (plain.startsWith('Array<')) return [fixture(plain.slice(6, -1), depth)];
  if (plain.startsWith('{ [key: string]: ')) return { key: fixture(plain.slice(17, -3), depth) };
  if (plain === 'Date' || plain === 'V1MicroTime') return '2026-12-01T10:20:30.000Z';
  if (plain === 'IntOrString') return '25%';
  if (plain === 'string') return `value-of-${depth}`;
  if (plain === 'number') return 3;
  if (plain === 'boolean') return true;
  if (plain === 'any') return { raw: [1, 'two'] };
  if (depth === 0 || attributes(plain).length === 0) return {};
  return Object.fromEntries(
    attributes(plain).map(({ baseName, type: inner }) => [baseName, fixture(inner, depth - 1)]),
  );
}

/** The full map's models, by their attribute lists: the bundle minifies vendor class names (esbuild keepNames is off
 * for vendor.mjs), so a class is recognised by what it declares, not by its name. */
const MODELS_BY_ATTRIBUTES = new Map<string, string>();
for (const [name, model] of Object.entries(models)) {
  const key = JSON.stringify(attributeTypeMap(model));
  if (key !== undefined) {
    const known = MODELS_BY_ATTRIBUTES.get(key);
    MODELS_BY_ATTRIBUTES.set(key, known === undefined ? name : `${known}|${name}`);
  }
}

/** Which model class made `object`: a full-map model's name (or the names of all with the same attributes), or
 * "Object" for data passed through untyped. */
function modelOf(object: object): string {
  const key = JSON.stringify(attributeTypeMap(object.constructor));
  return key === undefined ? object.constructor.name : (MODELS_BY_ATTRIBUTES.get(key) ?? 'unknown model');
}

/** JSON that also records what each value is: a Date, or an instance of which class. */
function described(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, inner: unknown) {
    const original: unknown = key === '' ? value : Reflect.get(Object(this), key);
    if (original instanceof Date) return { date: original.toISOString() };
    if (typeof original === 'object' && original !== null && !Array.isArray(original)) {
      return { class: modelOf(original), ...Object(inner) };
    }
    return inner;
  });
}

describe('the trimmed client-node model map', () => {
  it.each(KUBE_MODEL_ROOTS)('reads and writes %s exactly as the full map does', (type) => {
    const wire = fixture(type, 8);
    const fromFull = full.ObjectSerializer.deserialize(wire, type, '');
    const fromTrimmed = trimmed.deserialize(wire, type, '');

    expect(described(fromTrimmed)).toBe(described(fromFull));
    expect(JSON.stringify(trimmed.serialize(fromTrimmed, type, ''))).toBe(
      JSON.stringify(full.ObjectSerializer.serialize(fromFull, type, '')),
    );
    // Typed, not passed through: the root is an instance of its model class.
    expect(described(fromTrimmed)).toMatch(new RegExp(`^\\{"class":"${type}"`));
  });

  it('throws, naming the model, instead of passing a trimmed model through untyped', () => {
    expect(() => trimmed.deserialize({ spec: {} }, 'V1StatefulSet', '')).toThrow(
      '@kubernetes/client-node model V1StatefulSet was left out of the bundle',
    );
    expect(() => trimmed.serialize({ spec: {} }, 'V1StatefulSet', '')).toThrow(/V1StatefulSet/);
    expect(full.ObjectSerializer.deserialize({ spec: {} }, 'V1StatefulSet', '')).toBeDefined();
  });

  it('has every type src/kube/client.ts sends or reads among its roots', () => {
    const client = readFileSync(join(PROJECT_ROOT, 'src/kube/client.ts'), 'utf8');
    const appsApi = readFileSync(
      join(PROJECT_ROOT, 'node_modules/@kubernetes/client-node/dist/gen/apis/AppsV1Api.js'),
      'utf8',
    );
    const methods = [...client.matchAll(/\.(\w+)WithHttpInfo\(/g)].map((match) => match[1] ?? '');
    expect(methods.length).toBeGreaterThanOrEqual(5);
    const used = new Set([...client.matchAll(/'(V1\w+)'/g)].map((match) => match[1] ?? ''));
    for (const method of methods) {
      // The request factory serializes the body, the response processor deserializes the answer.
      for (const signature of [`async ${method}(`, `async ${method}WithHttpInfo(response)`]) {
        const start = appsApi.indexOf(signature);
        expect(start).toBeGreaterThan(0);
        const body = appsApi.slice(start, appsApi.indexOf('\n    async ', start + 1));
        for (const match of body.matchAll(/ObjectSerializer\.(?:de)?serialize\([^;]*?"(V1\w+)"/g)) {
          used.add(match[1] ?? '');
        }
      }
    }
    expect([...used].sort()).toEqual([...KUBE_MODEL_ROOTS].sort());
  });
});
