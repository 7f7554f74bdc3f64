import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DNS1123_LABEL } from '../../../src/constants.js';
import { InvalidEventError } from '../../../src/errors.js';
import { ACTION_FIELDS, ACTIONS } from '../../../src/deployment/request.js';
import { MANIFEST_ACTIONS, MANIFEST_FIELDS } from '../../../src/manifests/request.js';
import { parseEvent } from '../../../src/lambda/event.js';
import { imageReferenceProblem } from '../../../src/deployment/image-reference.js';
import { resetWarmState } from '../../../src/state.js';
import { functionEnv, IDENTITY_SECRETS } from '../../support/fixture.js';
import { CountingTlsListener } from '../../support/counting-listener.js';
import { invokeInProcess } from '../../support/in-process.js';
import { makeTestPki } from '../../support/pki.js';
import { recordSecrets } from '../../support/run-record.js';

/** How many generated events each property sees; the README's Reliability section quotes these. */
const PARSER_RUNS = 5000;
const HANDLER_RUNS = 300;

const FIELDS = [
  'action',
  'name',
  'namespace',
  'replicas',
  'image',
  'dryRun',
  'wait',
  'force',
  'set',
  'manifest',
  'prune',
  'adopt',
  'deleteCrdsAndNamespaces',
];
const TAKES: Readonly<Record<string, readonly string[]>> = { ...ACTION_FIELDS, ...MANIFEST_FIELDS };
const NEAR_MISSES = [
  'Name',
  'nmae',
  'names',
  'replica',
  'Replicas',
  'dry_run',
  'dryrun',
  'DryRun',
  'image ',
  ' name',
  'namespace\u0000',
  'imag',
  'Action',
  'actions',
  'Wait',
  'waits',
  'forse',
  'Force',
  'Set',
  'sets',
  'Manifest',
  'manifests',
  'purne',
  'adopts',
  'deleteCrds',
];
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

const nested = (depth: number, leaf: unknown): unknown =>
  depth === 0 ? leaf : depth % 2 ? [nested(depth - 1, leaf)] : { a: nested(depth - 1, leaf) };

const oddValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    2.5,
    -1,
    1001,
    Number.POSITIVE_INFINITY,
    -0,
    Number.MAX_SAFE_INTEGER,
    'NaN',
    'Infinity',
    '1e309',
    '2',
    'true',
    '',
    ' ',
    'nginx latest',
    'nginx\t',
    'UPPER',
    'a'.repeat(64),
    'create',
    'apply',
    'get',
    'delete',
    'Apply',
    'update',
    'NGINX:Latest',
    'a::b',
  ),
  fc.double(),
  fc.integer({ min: 1, max: 300_000 }).map((length) => 'x'.repeat(length)),
  fc.integer({ min: 1, max: 2000 }).map((depth) => nested(depth, 1)),
);

const validValue: Record<string, fc.Arbitrary<unknown>> = {
  name: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/),
  namespace: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/),
  replicas: fc.integer({ min: 0, max: 1000 }),
  image: fc.stringMatching(
    /^([a-z0-9]+\.[a-z0-9]+(:[0-9]{1,5})?\/)?[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+){0,2}(:[\w][\w.-]{0,20})?$/,
  ),
  dryRun: fc.boolean(),
  action: fc.constantFrom(...ACTIONS, ...MANIFEST_ACTIONS),
  set: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/),
  manifest: fc.oneof(fc.string({ minLength: 1 }), fc.array(fc.jsonValue(), { maxLength: 3 })),
  prune: fc.boolean(),
  adopt: fc.boolean(),
  deleteCrdsAndNamespaces: fc.boolean(),
  wait: fc.boolean(),
  force: fc.boolean(),
};

/** The fields an action cannot do without. */
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  'apply-manifest': ['set', 'manifest'],
  'get-manifest': ['set'],
  'delete-manifest': ['set'],
};

/** JSON texts whose parsed form JSON.stringify cannot produce: 1e309 parses to Infinity, "__proto__" to an own key. */
const RAW_EVENTS = [
  '{"replicas": 1e309}',
  '{"replicas": -1e309}',
  '{"replicas": -0}',
  '{"replicas": 2.0}',
  '{"__proto__": {"replicas": 3}}',
  '{"constructor": {"prototype": {"polluted": true}}}',
  '{"name": "web", "name": "Web"}',
  '[]',
  '"{}"',
  '0',
];

/** Events as Lambda hands them over: parsed from JSON, so "__proto__" is an ordinary own key. */
const event = fc.oneof(
  fc.constantFrom(...RAW_EVENTS).map((text): unknown => JSON.parse(text)),
  fc
    .oneof(
      fc.jsonValue(),
      fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS, ...NEAR_MISSES, ...HOSTILE_KEYS), fc.string()), oddValue, {
        maxKeys: 6,
      }),
      fc.record(validValue, { requiredKeys: [] }),
      fc
        .tuple(fc.record(validValue, { requiredKeys: [] }), fc.constantFrom(...FIELDS), oddValue)
        .map(([base, key, value]) => ({ ...base, [key]: value })),
    )
    .map((value): unknown => JSON.parse(JSON.stringify(value) ?? 'null')),
);

function keysOf(value: unknown): string[] {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.keys(value) : [];
}

describe('parseEvent on generated events', () => {
  it(`gives a valid request or an InvalidEventError naming the field (${PARSER_RUNS} events)`, () => {
    fc.assert(
      fc.property(event, (generated) => {
        let request;
        try {
          request = parseEvent(generated, 'default');
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidEventError);
          const { field, message } = error instanceof InvalidEventError ? error : { field: '', message: '' };
          expect(message.startsWith(`${field}: `)).toBe(true);
          // A field the event has, or one its action requires that it lacks.
          const action: unknown = keysOf(generated).includes('action') ? Reflect.get(Object(generated), 'action') : '';
          const required = typeof action === 'string' ? (REQUIRED[action] ?? []) : [];
          expect([
            'event',
            ...keysOf(generated).map((key) => (key.length > 80 ? `${key.slice(0, 80)}...` : key)),
            ...required.filter((key) => !keysOf(generated).includes(key)),
          ]).toContain(field);
          return;
        }
        expect(keysOf(generated).every((key) => TAKES[request.action]?.includes(key))).toBe(true);
        const subject = 'set' in request ? request.set : request.name;
        expect(DNS1123_LABEL.test(subject) && subject.length <= 63).toBe(true);
        expect(DNS1123_LABEL.test(request.namespace)).toBe(true);
        if ('replicas' in request) {
          // An apply leaves out what the event leaves out; a create has its defaults.
          const { replicas, image } = request;
          if (replicas === undefined || image === undefined) expect(request.action).toBe('apply');
          if (replicas !== undefined)
            expect(Number.isInteger(replicas) && replicas >= 0 && replicas <= 1000).toBe(true);
          if (image !== undefined) expect(imageReferenceProblem(image)).toBeUndefined();
        }
        if ('dryRun' in request && 'wait' in request) {
          expect(request.dryRun && request.wait).toBe(false);
        }
        for (const key of keysOf(generated)) {
          expect(Reflect.get(request, key)).toBe(Reflect.get(Object(generated), key));
        }
      }),
      { numRuns: PARSER_RUNS },
    );
    // "__proto__" and "constructor" keys were data, never a way into Object.prototype.
    expect(Reflect.get({}, 'polluted')).toBeUndefined();
    expect(Reflect.get({}, 'replicas')).toBeUndefined();
  });
});

describe('the handler on generated events', () => {
  // Only whether a request is sent matters here: the endpoint is a listener of the test's own that counts requests and
  // answers each with a 403, which ends the invocation at its first request.
  const pki = makeTestPki();
  const listener = new CountingTlsListener(pki.server);
  let env: Record<string, string>;

  beforeAll(async () => {
    env = functionEnv(await listener.start(), pki.caData);
    recordSecrets(...IDENTITY_SECRETS);
    resetWarmState();
  });

  afterAll(async () => {
    resetWarmState();
    await listener.stop();
  });

  it(`sends nothing to the cluster for an invalid event (${HANDLER_RUNS} events)`, async () => {
    let invalid = 0;
    await fc.assert(
      fc.asyncProperty(event, async (generated) => {
        const before = listener.requests.length;
        const invocation = await invokeInProcess(generated, env);
        if (invocation.errorType === 'InvalidEventError') {
          invalid += 1;
          expect(listener.requests.length).toBe(before);
        } else {
          expect(listener.requests.length).toBeGreaterThan(before);
        }
      }),
      { numRuns: HANDLER_RUNS },
    );
    expect(invalid).toBeGreaterThan(HANDLER_RUNS / 10);
    expect(invalid).toBeLessThan(HANDLER_RUNS);
  });
});
