import { describe, expect, it } from '@jest/globals';
import { InvalidManifestError } from '../../../src/errors.js';
import { parseManifest, type ParsedObject } from '../../../src/manifests/parse.js';

// parseManifest's own checks, those that need no cluster (a kind the cluster does not serve, a namespace on a
// cluster-scoped kind, two objects of one identity and the set's own namespace as a member need discovery: planSet
// checks them). That the values are read as kubectl reads them is tested against kubectl itself, in
// test/e2e/manifest-yaml.e2e.test.ts.

const configMap = (name: string, extra = ''): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}`;

/** The error parseManifest rejects `source` with; fails the test when it is not an InvalidManifestError. */
async function refusal(source: string | readonly unknown[]): Promise<InvalidManifestError> {
  const error = await parseManifest(source).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof InvalidManifestError)) {
    throw new Error(`expected an InvalidManifestError, got ${String(error)}`);
  }
  expect(error.name).toBe('InvalidManifestError');
  return error;
}

const origins = (objects: readonly ParsedObject[]): string[] => objects.map(({ from, name }) => `${from}: ${name}`);

describe('parseManifest', () => {
  describe('refuses an object it cannot apply, naming the document, its kind and its name', () => {
    it.each([
      [
        'no apiVersion',
        `${configMap('a')}---\nkind: ConfigMap\nmetadata: {name: b}\n`,
        'document 2 (ConfigMap "b") has no valid apiVersion (such as v1 or apps/v1)',
      ],
      [
        'an apiVersion that is not one',
        'apiVersion: apps/v1/extra\nkind: Deployment\nmetadata: {name: web}\n',
        'document 1 (Deployment "web") has no valid apiVersion (such as v1 or apps/v1)',
      ],
      ['no kind', 'apiVersion: v1\nmetadata: {name: b}\n', 'document 1 ("b") has no valid kind (such as ConfigMap)'],
      ['a kind that is not a name', 'apiVersion: v1\nkind: Config Map\nmetadata: {name: b}\n', 'no valid kind'],
      [
        'no metadata',
        'apiVersion: v1\nkind: ConfigMap\n',
        'document 1 (ConfigMap) has no metadata: give it metadata.name',
      ],
      [
        'no metadata.name',
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {app: web}}\n',
        'document 1 (ConfigMap) has no metadata.name',
      ],
      ['an empty metadata.name', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ""}\n', 'has no metadata.name'],
      [
        'a name that is not text',
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 0644}\n',
        'document 1 (ConfigMap) has no metadata.name',
      ],
      [
        'metadata.generateName',
        `${configMap('a')}---\napiVersion: batch/v1\nkind: Job\nmetadata: {generateName: migrate-}\n`,
        "document 2 (Job) uses metadata.generateName: a set's objects need fixed names",
      ],
      [
        'a namespace that is not a name',
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: 7}\n',
        'document 1 (ConfigMap "a") has a metadata.namespace that is not a name',
      ],
    ])('refuses %s', async (_label, manifest, message) => {
      const error = await refusal(manifest);

      expect(error.message).toContain(message);
    });

    it.each([
      ['a string', 'just text\n', 'document 1 is not a Kubernetes object', 'but a string'],
      ['a list', '- apiVersion: v1\n  kind: ConfigMap\n', 'document 1 is not a Kubernetes object', 'but a list'],
      ['a number', `${configMap('a')}---\n42\n`, 'document 2 is not a Kubernetes object', 'but a number'],
    ])('refuses a document that is %s rather than an object', async (_label, manifest, from, what) => {
      const error = await refusal(manifest);

      expect(error.message).toContain(from);
      expect(error.message).toContain(what);
    });

    it('names the item of an array manifest when the array holds something that is not an object', async () => {
      const error = await refusal([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }, 'text']);

      expect(error.message).toMatch(/^item 2 is not a Kubernetes object .* but a string$/);
    });
  });

  describe('v1 Lists', () => {
    it('flattens a v1 List into its items, each named "document N, item M"', async () => {
      const list = `apiVersion: v1\nkind: List\nitems:\n- ${configMap('b').replace(/\n(?!$)/g, '\n  ')}- ${configMap('c').replace(/\n(?!$)/g, '\n  ')}`;

      const objects = await parseManifest(`${configMap('a')}---\n${list}`);

      expect(origins(objects)).toEqual(['document 1: a', 'document 2, item 1: b', 'document 2, item 2: c']);
      expect(objects[1]?.object).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } });
    });

    it('names the item of a List when that item is not an object it can apply', async () => {
      const error = await refusal(
        '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},' +
          ' {"apiVersion": "v1", "kind": "Secret", "metadata": {"generateName": "s-"}}]}',
      );

      expect(error.message).toMatch(/^document 1, item 2 \(Secret\) uses metadata\.generateName/);
    });

    it('refuses a v1 List without an items array', async () => {
      const error = await refusal('apiVersion: v1\nkind: List\nitems: {a: 1}\n');

      expect(error.message).toBe('document 1 is a v1 List without an items array');
    });

    it('keeps a List of another group as the object it is', async () => {
      const objects = await parseManifest('apiVersion: example.com/v1\nkind: List\nmetadata: {name: l}\nitems: [1]\n');

      expect(origins(objects)).toEqual(['document 1: l']);
    });
  });

  describe('documents', () => {
    it('skips empty documents and comments but keeps counting them when naming a document', async () => {
      const manifest = `# a header\n---\n${configMap('a')}---\n---\n# nothing here\n---\n${configMap('b')}---\napiVersion: v1\n`;

      const error = await refusal(manifest);

      expect(error.message).toMatch(/^document 5 has no valid kind/);
      expect(origins(await parseManifest(manifest.slice(0, manifest.lastIndexOf('---'))))).toEqual([
        'document 1: a',
        'document 4: b',
      ]);
    });

    it('reads an array of objects, each named "item N"', async () => {
      const objects = await parseManifest([
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
        { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }] },
      ]);

      expect(origins(objects)).toEqual(['item 1: a', 'item 2, item 1: s']);
      expect(objects.map(({ kind }) => kind)).toEqual(['ConfigMap', 'Secret']);
    });

    it('reads a stream of JSON objects, one document each, as kubectl does', async () => {
      const objects = await parseManifest(
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}\n' +
          '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}{"apiVersion": "v1", "kind": "ConfigMap", ' +
          '"metadata": {"name": "c"}}',
      );

      expect(origins(objects)).toEqual(['document 1: a', 'document 2: b', 'document 3: c']);
    });

    it.each([
      ['an empty string', ''],
      ['only comments and separators', '# nothing\n---\n---\n# still nothing\n'],
      ['only null documents', '~\n---\nnull\n'],
      ['an empty List', 'apiVersion: v1\nkind: List\nitems: []\n'],
      ['an empty array', []],
    ])('refuses a manifest with no object: %s', async (_label, source) => {
      const error = await refusal(source);

      expect(error.message).toBe('the manifest holds no object: give at least one');
    });

    it.each([
      ['a mapping inside a plain value', `${configMap('a')}---\n${configMap('b', 'data:\n  k: a: b\n')}`, 2, 11],
      ['a tab as indentation', `${configMap('a', 'data:\n\tk: v\n')}`, 1, 6],
      ['a separator followed by content', `${configMap('a')}--- {kind: ConfigMap}\n`, 2, 5],
      ['a JSON stream broken after two objects', '{"kind": "A"}\n{"kind": "B"}\n{"kind": C}\n', 3, 3],
    ])('refuses a document that does not parse, naming it and its line: %s', async (_label, manifest, from, line) => {
      const error = await refusal(manifest);

      expect(error.message).toMatch(new RegExp(`^document ${from} is not valid YAML or JSON: .*\\bline ${line}\\b`));
    });
  });

  describe('refuses what kubectl would send otherwise, or not at all', () => {
    it.each([
      ['a key given twice', configMap('a', 'data:\n  k: one\n  k: two\n'), 'the key k is given twice', 7],
      [
        'yes and true as keys of one mapping',
        configMap('a', 'data:\n  yes: one\n  true: two\n'),
        'the key true is given twice in one mapping (written yes and true: YAML 1.1 reads both as true)',
        7,
      ],
      [
        '1 and "1" as keys of one mapping',
        configMap('a', 'data:\n  1: one\n  "1": two\n'),
        'the key 1 is given twice',
        7,
      ],
      ['.inf', configMap('a', 'data:\n  k: [1, .inf]\n'), '.inf is not a number JSON can carry', 6],
      ['.nan', configMap('a', 'data:\n  k: .NaN\n'), '.NaN is not a number JSON can carry', 6],
      [
        'an integer beyond 2^53 that a JavaScript number rounds',
        configMap('a', 'data:\n  k: 9007199254740993\n'),
        'the integer 9007199254740993 cannot be sent exactly',
        6,
      ],
      ['a null key', configMap('a', 'data:\n  ~: v\n'), 'the key ~ is null', 6],
      ['a list as a key', configMap('a', 'data:\n  ? [a, b]\n  : v\n'), 'a mapping or a list is used as a key', 6],
      ['an alias of no anchor', configMap('a', 'data:\n  k: *nowhere\n'), "unknown anchor 'nowhere' referenced", 6],
      ['a tag its value does not fit', configMap('a', 'data:\n  k: !!int twelve\n'), 'cannot decode !!str', 6],
      ['a merge of a scalar', configMap('a', 'data:\n  <<: 1\n'), 'a merge key (<<) needs a mapping', 6],
    ])('refuses %s, naming the line', async (_label, manifest, message, line) => {
      const error = await refusal(manifest);

      expect(error.message).toContain(message);
      expect(error.message).toMatch(new RegExp(`\\(line ${line}\\)$`));
    });

    it('refuses a YAML alias bomb ("billion laughs") without expanding it', async () => {
      const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
      for (const [index, name] of [...'bcdefghi'].entries()) {
        const previous = String.fromCharCode('a'.charCodeAt(0) + index);
        levels.push(`${name}: &${name} [${Array.from({ length: 10 }, () => `*${previous}`).join(', ')}]`);
      }
      const bomb = configMap('bomb', `data:\n${levels.map((level) => `  ${level}\n`).join('')}`);

      const error = await refusal(bomb);

      expect(error.message).toContain(
        'document 1 is not valid YAML or JSON: the document expands its aliases too much',
      );
    });

    it('expands aliases that a real manifest uses, within the limit go-yaml sets', async () => {
      const containers = Array.from({ length: 200 }, (_, index) => `  - {name: c${index}, env: *env}`).join('\n');
      const manifest =
        'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n' +
        `  volumes: &env [{name: A, value: "1"}, {name: B, value: "2"}]\n  containers:\n${containers.replace(/^ {2}/gm, '    ')}\n`;

      const [pod] = await parseManifest(manifest);

      expect(pod?.object).toMatchObject({
        spec: {
          containers: expect.arrayContaining([
            {
              name: 'c199',
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
            },
          ]),
        },
      });
    });
  });

  it('keeps each object exactly as written, with its identity beside it', async () => {
    const objects = await parseManifest(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: team-a\n  annotations: {note: "0644"}\n' +
        'spec:\n  replicas: 2\n  futureField: {enabled: on}\n',
    );

    expect(objects).toEqual([
      {
        from: 'document 1',
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'web',
        namespace: 'team-a',
        object: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'web', namespace: 'team-a', annotations: { note: '0644' } },
          spec: { replicas: 2, futureField: { enabled: true } },
        },
      },
    ]);
  });
});
