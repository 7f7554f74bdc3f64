import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { InvalidManifestError } from '../../src/errors.js';
import { parseManifest } from '../../src/manifests/parse.js';
import { uniqueName, useCluster } from '../support/cluster.js';
import { at } from '../support/json.js';
import { restPath } from '../support/kube-admin.js';

// Golden tests of the manifest parser: kubectl of the server's version is the oracle. `kubectl create --dry-run=client
// -o json -f <file>` reads the file as kubectl apply reads it (the resource builder's stream visitor: sigs.k8s.io/yaml
// over go-yaml v2, or a JSON stream), maps each kind with the server's discovery (hence the real control plane) and
// prints each object as it would send it, adding the namespace of --namespace to namespaced ones. Arbitrary YAML goes
// into the spec of a custom resource whose CRD keeps unknown fields.

const scope = useCluster();
const group = `${uniqueName('golden')}.lambda-eks.test`;
const gizmos = restPath('apiextensions.k8s.io/v1', 'customresourcedefinitions', undefined, `gizmos.${group}`);
const files = mkdtempSync(join(tmpdir(), 'lambda-eks-manifest-yaml-'));
let fileCount = 0;

beforeAll(async () => {
  await scope.admin.create(restPath('apiextensions.k8s.io/v1', 'customresourcedefinitions'), {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `gizmos.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind: 'Gizmo', plural: 'gizmos', singular: 'gizmo', listKind: 'GizmoList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  });
  for (let waited = 0; !(await established()); waited += 50) {
    if (waited > 10_000) throw new Error(`CRD gizmos.${group} not Established within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(async () => {
  await scope.admin.delete(gizmos);
  rmSync(files, { recursive: true, force: true });
});

async function established(): Promise<boolean> {
  const conditions = at(await scope.admin.get(gizmos), 'status', 'conditions');
  return (
    Array.isArray(conditions) &&
    conditions.some((condition) => at(condition, 'type') === 'Established' && at(condition, 'status') === 'True')
  );
}

interface KubectlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The objects kubectl printed, the namespace it adds from --namespace taken out again. */
  readonly objects: unknown[];
}

/** `kubectl create <mode> -o json -f <manifest as a file>`, in the test's namespace. */
async function kubectl(manifest: string, mode: '--dry-run=client' | '--dry-run=server'): Promise<KubectlRun> {
  fileCount += 1;
  const file = join(files, `manifest-${fileCount}.yaml`);
  writeFileSync(file, manifest);
  const namespace = scope.ns('default');
  const args = ['--kubeconfig', scope.info.kubeconfig, '--cache-dir', join(files, 'cache'), '--namespace', namespace];
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(scope.info.kubectl, [...args, 'create', mode, '-o', 'json', '-f', file], (error, out, err) => {
      resolve({ code: typeof error?.code === 'number' ? error.code : error ? 1 : 0, stdout: out, stderr: err });
    });
  });
  // kubectl prints one indented JSON object after another; only their closing braces start a line.
  const objects = stdout
    .split(/^\}$/m)
    .filter((text) => text.trim() !== '')
    .map((text): unknown => JSON.parse(`${text}}`))
    .map((object) => withoutNamespace(object, namespace));
  return { code, stdout, stderr, objects };
}

function withoutNamespace(object: unknown, namespace: string): unknown {
  const metadata = at(object, 'metadata');
  if (typeof metadata === 'object' && metadata !== null && at(metadata, 'namespace') === namespace) {
    Reflect.deleteProperty(metadata, 'namespace');
  }
  return object;
}

async function parsedObjects(manifest: string): Promise<unknown[]> {
  return (await parseManifest(manifest)).map(({ object }) => object);
}

async function refusal(manifest: string): Promise<InvalidManifestError> {
  const error = await parseManifest(manifest).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof InvalidManifestError))
    throw new Error(`expected an InvalidManifestError, got ${String(error)}`);
  return error;
}

/** A Gizmo (the file's custom resource, which keeps any spec) with `spec`, given as indented YAML lines. */
const gizmo = (spec: string, name = 'g'): string =>
  `apiVersion: ${group}/v1\nkind: Gizmo\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^\n/, '')}`;
const configMap = (rest: string, name = 'cm'): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${rest.replace(/^\n/, '')}`;

/** Each row: what it exercises, the manifest, and a part of the first object as kubectl reads it (to show the case). */
const GOLDEN: readonly (readonly [string, string, Record<string, unknown>])[] = [
  [
    'YAML 1.1 booleans as values and as keys',
    gizmo(`
  values: [yes, no, on, off, y, n, Y, N, Yes, NO, On, OFF, true, False, TRUE, tRUE, yEs, oN]
  keys: [{yes: 1}, {no: 2}, {on: 3}, {off: 4}, {y: 5}, {n: 6}, {True: 7}, {Off: 8}]
`) +
      `\n---\n${configMap(`
data:
  on: "the key on"
  "yes": "a quoted key"
`)}\n---\napiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  paused: yes
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, tty: on, stdin: y, volumeMounts: [{name: v, mountPath: /v, readOnly: Yes}]}]
      volumes: [{name: v, secret: {secretName: s, optional: No}}]
`,
    {
      spec: {
        values: [
          true,
          false,
          true,
          false,
          true,
          false,
          true,
          false,
          true,
          false,
          true,
          false,
          true,
          false,
          true,
          'tRUE',
          'yEs',
          'oN',
        ],
        keys: [
          { true: 1 },
          { false: 2 },
          { true: 3 },
          { false: 4 },
          { true: 5 },
          { false: 6 },
          { true: 7 },
          { false: 8 },
        ],
      },
    },
  ],
  [
    'octal (0644 and 0o644), hex, binary and underscores',
    gizmo(`
  ints: [0644, 0o644, 0O644, -0644, 00, 0, -0, 0x1F, 0X1f, -0x1f, +0x10, 0x_1f, 0b101, 0B101, -0b11, 0b1_0, 1_000, 01_7]
  not: [08, 09, 0o8, 1__2, 12_, _12, 0x, 0b, 0o, 0x1FFFFFFFFFFFFFFFF, 1_0.5]
  big: [9007199254740992, 1152921504606846976, 18446744073709551615, 0xFFFFFFFFFFFFFFFF, -9223372036854775808]
`) +
      `\n---\napiVersion: apps/v1
kind: Deployment
metadata:
  name: files
spec:
  replicas: 0x2
  selector: {matchLabels: {app: files}}
  template:
    metadata: {labels: {app: files}}
    spec:
      containers: [{name: c, image: nginx}]
      volumes:
      - name: config
        configMap: {name: config, defaultMode: 0644, items: [{key: k, path: p, mode: 0o400}]}
      - name: secret
        secret: {secretName: s, defaultMode: 0600}
`,
    { spec: { ints: [420, 420, 420, -420, 0, 0, 0, 31, 31, -31, 16, 31, 5, 5, -3, 2, 1000, 15] } },
  ],
  [
    'base-60 look-alikes and timestamps (text)',
    gizmo(`
  clock: [190:20:30, 1:30, -1:30, 190:20:30.15, 12:00, 1:2:3:4]
  times: [2001-12-14t21:59:43.10-05:00, 2001-12-14, 2001-12-14 21:59:43.10 -5, 2001-12-15T02:59:43.1Z, 2001-12-14 21:59:43.10]
  2001-12-14: a timestamp as a key
`) + `\n---\n${configMap('data: {time: 12:30, date: 2024-01-31}')}`,
    {
      spec: {
        clock: ['190:20:30', '1:30', '-1:30', '190:20:30.15', '12:00', '1:2:3:4'],
        times: [
          '2001-12-14t21:59:43.10-05:00',
          '2001-12-14',
          '2001-12-14 21:59:43.10 -5',
          '2001-12-15T02:59:43.1Z',
          '2001-12-14 21:59:43.10',
        ],
        '2001-12-14': 'a timestamp as a key',
      },
    },
  ],
  [
    'floats such as 1.0 and 1e3, and look-alikes',
    gizmo(`
  floats: [1.0, 1e3, 1E3, 1.5e-3, -1.0, +1.0, .5, 5., 3., 1.e3, 1_000.5, 1e+3, 6.8523015e+5, 685.230_15e+03, 0.0, -0.0, .5_0, 1e-400]
  text: [0x1p3, ._5, .5e_3, -1e400, .1e400, 1e400, .Inf_, 1e, e3]
`),
    {
      spec: {
        floats: [1, 1000, 1000, 0.0015, -1, 1, 0.5, 5, 3, 1000, 1000.5, 1000, 685230.15, 685230.15, 0, 0, 0.5, 0],
        text: ['0x1p3', '._5', '.5e_3', '-1e400', '.1e400', '1e400', '.Inf_', '1e', 'e3'],
      },
    },
  ],
  [
    'integers, floats and other scalars as keys',
    gizmo(`
  1.5: a
  3.14159265358979: b
  1e6: c
  -0.0: d
  0x10: e
  .inf: f
  123456789: g
  0.00001: h
  0644: i
  !!float 2: j
  ~tilde: k
`),
    { spec: { '1.5': 'a', '3.1415927': 'b', '1e+06': 'c', '16': 'e', '.inf': 'f', '1e-05': 'h', '420': 'i' } },
  ],
  [
    '~ and null',
    gizmo(`
  values: [~, null, Null, NULL, nUll, '', ""]
  empty:
  tilde: ~
`),
    { spec: { values: [null, null, null, null, 'nUll', '', ''], empty: null, tilde: null } },
  ],
  [
    'merge keys (<<), anchors and aliases',
    gizmo(`
  base: &base {x: 1, z: 2}
  other: &other {z: 3, w: 4}
  before: {<<: *base, x: 9}
  after: {x: 9, <<: *base}
  list: {<<: [*base, *other], extra: 0}
  two: {<<: {x: 1}, <<: {x: 2}}
  quoted: {"<<": {x: 1}}
  tagged: {!!merge <<: *other}
  inline: {<<: {x: 5}}
  seq: &seq [a, b]
  again: *seq
  text: &text hello
  echo: *text
`),
    { spec: { before: { x: 9, z: 2 }, after: { x: 1, z: 2 }, list: { x: 1, z: 2, w: 4, extra: 0 } } },
  ],
  [
    'quoted text that looks like a number, a boolean or null',
    gizmo(`
  values: ["0644", '0644', "yes", 'no', "true", "1.0", "~", "null", '1e3', "0x1f", "190:20:30", "2001-12-14", '.inf']
  "yes": a quoted key
  '0x10': another
`) +
      `\n---\napiVersion: v1
kind: ConfigMap
metadata:
  name: quoted
  annotations: {replicas: "3", enabled: "true", mode: "0644"}
  labels: {public: "yes"}
data:
  enabled: "on"
`,
    {
      spec: {
        values: [
          '0644',
          '0644',
          'yes',
          'no',
          'true',
          '1.0',
          '~',
          'null',
          '1e3',
          '0x1f',
          '190:20:30',
          '2001-12-14',
          '.inf',
        ],
        yes: 'a quoted key',
        '0x10': 'another',
      },
    },
  ],
  [
    'tags',
    gizmo(`
  binary: !!binary aGVsbG8=
  int: !!int "12"
  float: !!float 1
  str: !!str 12
  timestamp: !!timestamp 2001-12-14
  nothing: !!null ""
  bool: !!bool "yes"
  custom: !custom 12
  nonSpecific: ! 12
`),
    {
      spec: {
        binary: 'hello',
        int: 12,
        float: 1,
        str: '12',
        nothing: null,
        bool: true,
        custom: '12',
        nonSpecific: '12',
      },
    },
  ],
  [
    'block scalars (| and >) and folded flow text',
    gizmo(`
  literal: |
    line 1
      indented
    line 3
  strip: |-
    no trailing newline
  keep: |+
    kept

  folded: >
    folded
    text

    paragraph
  indicator: |2
      two extra
  plain: multi
    line plain
  double: "a\\tb\\n\\u00e9\\x41 \\
    continued"
  single: 'it''s'
`),
    {
      spec: {
        literal: 'line 1\n  indented\nline 3\n',
        strip: 'no trailing newline',
        folded: 'folded text\nparagraph\n',
      },
    },
  ],
  [
    'unicode',
    gizmo(`
  text: "héllo wörld — ✓ 日本語 😀"
  ключ: значение
  emoji😀: x
  escapes: "\\u263A \\U0001F600 \\N \\_ \\L \\P"
`) + `\n---\n${configMap('data: {greeting: "grüß dich 👋"}')}`,
    { spec: { text: 'héllo wörld — ✓ 日本語 😀', ключ: 'значение' } },
  ],
  [
    'a multi-document stream with empty documents, comments and an end marker',
    `# a header comment\n---\n---\n${configMap('data: {a: "1"}', 'm1')}\n--- # a comment after the separator\n` +
      `# only a comment\n---\n${configMap('', 'm2')}...\n---\n${configMap('', 'm3')}\n---\n`,
    { metadata: { name: 'm1' } },
  ],
  [
    'a v1 List, in YAML',
    `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: l1}\n` +
      `- apiVersion: v1\n  kind: Namespace\n  metadata: {name: ${uniqueName('golden-list')}}\n`,
    { metadata: { name: 'l1' } },
  ],
  [
    'JSON, one object with escapes, -0, 1.0 and 1e3',
    JSON.stringify({ apiVersion: `${group}/v1`, kind: 'Gizmo', metadata: { name: 'j' } }).replace(
      /\}$/,
      ', "spec": {"text": "\\u00e9\\ud83d\\ude00\\/", "yes": "yes", "n": -0, "f": 1.0, "e": 1e3, "none": null, "big": 123456789012345678901234567890}}',
    ),
    { spec: { text: 'é😀/', yes: 'yes', n: 0, f: 1, e: 1000, none: null } },
  ],
  [
    'a JSON stream: objects one after another, and a v1 List',
    `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j1"}}\n` +
      `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j2"}}{"apiVersion": "v1", "kind": "List", ` +
      `"items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j3"}}]}`,
    { metadata: { name: 'j1' } },
  ],
  [
    'JSON then YAML, and JSON that only YAML reads (0644)',
    `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j1"}}\n---\n${configMap('data: {a: b}', 'y1')}` +
      `\n---\n{"apiVersion": "${group}/v1", "kind": "Gizmo", "metadata": {"name": "j2"}, "spec": {"mode": 0644}}`,
    { metadata: { name: 'j1' } },
  ],
];

describe('parseManifest against kubectl', () => {
  it.each(GOLDEN)('reads %s as kubectl does', async (_label, manifest, sample) => {
    const [parsed, printed] = await Promise.all([parsedObjects(manifest), kubectl(manifest, '--dry-run=client')]);

    expect(printed).toMatchObject({ code: 0, stderr: '' });
    expect(parsed).toStrictEqual(printed.objects);
    expect(parsed[0]).toMatchObject(sample);
  });

  it.each([
    ['.inf', configMap('data:\n  k: [1, .inf]\n'), /json: unsupported value: \+Inf/, /\.inf is not a number JSON/],
    ['.nan', configMap('data:\n  k: .NaN\n'), /json: unsupported value: NaN/, /\.NaN is not a number JSON/],
    ['a null key', configMap('data:\n  ~: v\n'), /unsupported map key of type: %!s\(<nil>\)/, /the key ~ is null/],
    ['a list as a key', configMap('data:\n  ? [a, b]\n  : v\n'), /invalid map key/, /a list is used as a key/],
    [
      'a tag the value does not fit',
      configMap('data:\n  k: !!int twelve\n'),
      /cannot decode !!str `twelve` as a !!int/,
      /cannot decode !!str `twelve` as a !!int/,
    ],
    [
      'an alias of no anchor',
      configMap('data:\n  k: *nowhere\n'),
      /unknown anchor 'nowhere' referenced/,
      /unknown anchor 'nowhere' referenced/,
    ],
    [
      'an anchor that contains itself',
      configMap('data:\n  k: &a [*a]\n'),
      /anchor 'a' value contains itself/,
      /anchor 'a' value contains itself/,
    ],
    [
      'a merge of a scalar',
      configMap('data:\n  <<: 1\n'),
      /map merge requires map or sequence of maps/,
      /a merge key \(<<\) needs a mapping/,
    ],
    [
      '!!binary that is not base64',
      configMap('data:\n  k: !!binary "aGk=="\n'),
      /!!binary value contains invalid base64 data/,
      /!!binary value contains invalid base64 data/,
    ],
    ['an alias bomb', aliasBomb(), /document contains excessive aliasing/, /expands its aliases too much/],
    [
      'content after a separator',
      `${configMap('')}--- {kind: ConfigMap}\n`,
      /invalid Yaml document separator/,
      /is not a document separator/,
    ],
    [
      'a JSON number out of range',
      `{"apiVersion": "${group}/v1", "kind": "Gizmo", "metadata": {"name": "n"}, "spec": {"x": 1E400}}`,
      /cannot unmarshal number 1E400/,
      /1E400 is out of range/,
    ],
    [
      'a JSON stream broken after two objects',
      '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}\n{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}\n{"kind": C}\n',
      /invalid character 'C'/,
      /the JSON stream breaks at line 3/,
    ],
  ])('refuses %s, as kubectl does', async (_label, manifest, kubectlSays, functionSays) => {
    const [error, printed] = await Promise.all([refusal(manifest), kubectl(manifest, '--dry-run=client')]);

    expect(printed.code).not.toBe(0);
    expect(printed.stderr).toMatch(kubectlSays);
    expect(error.message).toMatch(/^document \d+ is not valid YAML or JSON: /);
    expect(error.message).toMatch(functionSays);
  });
});

describe('where the function refuses what kubectl reads', () => {
  it('refuses a key given twice, which kubectl reads as its last value', async () => {
    const manifest = configMap('data:\n  k: one\n  k: two\n');

    const [error, printed] = await Promise.all([refusal(manifest), kubectl(manifest, '--dry-run=client')]);

    expect(printed.objects).toEqual([expect.objectContaining({ data: { k: 'two' } })]);
    expect(error.message).toMatch(/the key k is given twice in one mapping.*\(line 7\)$/);
  });

  it('refuses yes and true as keys of one mapping, which kubectl reads as one key', async () => {
    const manifest = configMap('data:\n  yes: one\n  true: two\n');

    const [error, printed] = await Promise.all([refusal(manifest), kubectl(manifest, '--dry-run=client')]);

    expect(printed.objects).toEqual([expect.objectContaining({ data: { true: 'two' } })]);
    expect(error.message).toContain('the key true is given twice in one mapping (written yes and true');
  });

  it('refuses 1 and "1" as keys of one mapping, of which kubectl keeps either', async () => {
    const manifest = configMap('data:\n  1: one\n  "1": two\n');

    const [error, printed] = await Promise.all([refusal(manifest), kubectl(manifest, '--dry-run=client')]);

    expect(printed.objects).toEqual([expect.objectContaining({ data: { '1': expect.stringMatching(/^(one|two)$/) } })]);
    expect(error.message).toContain('the key 1 is given twice in one mapping');
  });

  it('refuses an integer a JavaScript number would round, which kubectl sends exactly', async () => {
    const manifest = gizmo('  big: 9007199254740993\n');

    const [error, printed] = await Promise.all([refusal(manifest), kubectl(manifest, '--dry-run=client')]);

    expect(printed.stdout).toContain('"big": 9007199254740993');
    expect(error.message).toContain('the integer 9007199254740993 cannot be sent exactly');
  });
});

describe('values the server refuses', () => {
  it.each([
    ['a boolean (yes) in ConfigMap data', configMap('data: {enabled: yes}')],
    ['an octal number (0644) in ConfigMap data', configMap('data: {mode: 0644}')],
    ['a float in ConfigMap data', configMap('data: {ratio: 1.5}')],
    ['a number in annotations', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, annotations: {replicas: 3}}\n'],
    ['a boolean label value', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, labels: {public: on}}\n'],
  ])('sends %s as the JSON type kubectl sends', async (_label, manifest) => {
    const [object] = await parsedObjects(manifest);

    const answer = await scope.admin.send('POST', `${restPath('v1', 'configmaps', scope.ns('default'))}?dryRun=All`, {
      body: object,
    });
    const printed = await kubectl(manifest, '--dry-run=server');

    // The server names the JSON type it was given; kubectl, refusing the document itself or passing on the server's
    // refusal, names the same.
    expect(answer.status).toBe(400);
    const [reason] =
      /json: cannot unmarshal \w+ into Go struct field \S+ of type \w+/.exec(String(at(answer.body, 'message'))) ?? [];
    expect(reason).toBeDefined();
    expect(printed.code).not.toBe(0);
    expect(printed.stderr).toContain(reason);
  });
});

describe('objects sent exactly as written', () => {
  it('keeps a field the @kubernetes/client-node models do not know, as kubectl does', async () => {
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: future
spec:
  selector: {matchLabels: {app: future}}
  template:
    metadata: {labels: {app: future}}
    spec:
      containers: [{name: c, image: nginx}]
      futureField: {enabled: on, mode: 0644}
`;

    const [parsed, printed] = await Promise.all([parsedObjects(manifest), kubectl(manifest, '--dry-run=client')]);

    // The models drop it: what client-node's KubernetesObjectApi would send has no such field.
    const [deployment] = parsed;
    expect(
      at(ObjectSerializer.serialize(deployment, 'V1Deployment', ''), 'spec', 'template', 'spec'),
    ).not.toHaveProperty('futureField');
    expect(at(deployment, 'spec', 'template', 'spec', 'futureField')).toEqual({ enabled: true, mode: 420 });
    expect(parsed).toStrictEqual(printed.objects);
  });

  it("keeps a CRD's x-kubernetes-* keys, which the server stores", async () => {
    const name = uniqueName('widgets');
    const manifest = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${name}.${group}
spec:
  group: ${group}
  scope: Namespaced
  names: {kind: Widget, plural: ${name}, singular: widget}
  versions:
  - name: v1
    served: yes
    storage: yes
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: self.replicas >= 0
              message: replicas cannot be negative
            properties:
              replicas: {type: integer}
              port: {x-kubernetes-int-or-string: true}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties: {name: {type: string}}
              labels:
                type: object
                x-kubernetes-map-type: atomic
                additionalProperties: {type: string}
              template:
                type: object
                x-kubernetes-embedded-resource: true
                x-kubernetes-preserve-unknown-fields: true
`;

    const [parsed, printed] = await Promise.all([parsedObjects(manifest), kubectl(manifest, '--dry-run=client')]);
    const [definition] = parsed;
    const answer = await scope.admin.send(
      'POST',
      `${restPath('apiextensions.k8s.io/v1', 'customresourcedefinitions')}?dryRun=All`,
      { body: definition },
    );

    const schema = at(definition, 'spec', 'versions', 0, 'schema', 'openAPIV3Schema', 'properties', 'spec');
    expect(schema).toMatchObject({
      'x-kubernetes-validations': [{ rule: 'self.replicas >= 0', message: 'replicas cannot be negative' }],
      properties: {
        port: { 'x-kubernetes-int-or-string': true },
        ports: { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
        labels: { 'x-kubernetes-map-type': 'atomic' },
        template: { 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
      },
    });
    expect(parsed).toStrictEqual(printed.objects);
    // client-node's models would drop them (kubernetes-client/javascript#2962); the server keeps every one.
    expect(
      at(ObjectSerializer.serialize(definition, 'V1CustomResourceDefinition', ''), 'spec', 'versions', 0, 'schema'),
    ).not.toEqual(at(definition, 'spec', 'versions', 0, 'schema'));
    expect(answer.status).toBe(201);
    expect(at(answer.body, 'spec', 'versions', 0, 'schema', 'openAPIV3Schema', 'properties', 'spec')).toEqual(schema);
  });
});

/** A "billion laughs": nine levels of ten aliases each. */
function aliasBomb(): string {
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (const [index, name] of [...'bcdefghi'].entries()) {
    const previous = String.fromCharCode('a'.charCodeAt(0) + index);
    levels.push(`${name}: &${name} [${Array.from({ length: 10 }, () => `*${previous}`).join(', ')}]`);
  }
  return configMap(`data:\n${levels.map((level) => `  ${level}\n`).join('')}`, 'bomb');
}
