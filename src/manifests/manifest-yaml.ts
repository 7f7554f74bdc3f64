// YAML and JSON as kubectl reads them. kubectl cuts a stream into documents (apimachinery util/yaml: a JSON stream
// when it starts with "{", else YAMLReader at lines beginning with "---"), turns each YAML document into JSON with
// sigs.k8s.io/yaml, that is go-yaml v2 (YAML 1.1) into interface{}, and decodes the JSON into an object with int64 and
// float64 numbers. The yaml package only parses here (its failsafe schema leaves every scalar text); the values are
// resolved by a port of go-yaml v2's rules (go.yaml.in/yaml/v2 resolve.go, decode.go) and sigs.k8s.io/yaml's keys:
// YAML 1.1 booleans (y, yes, on, off, ...), Go integers (0644, 0o644, 0x1F, 0b101, underscores), no base-60 numbers,
// timestamps kept as written, merge keys applied in order (so a later "<<" overrides a key set before it), aliases
// limited as go-yaml limits them. Where kubectl would send something else or nothing, the document is refused instead:
// .inf and .nan (kubectl fails on them too), an integer a JavaScript number cannot hold exactly (kubectl keeps int64),
// and a key given twice in one mapping, also as yes and true (kubectl keeps one silently, sometimes at random).
// Bundled as a file of its own (dist/manifest-yaml.mjs), loaded only when a manifest is parsed, so that the Deployment
// actions do not pay for the parser at import.
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, visit, type Alias, type YAMLMap } from 'yaml';

/** One YAML document of a manifest: its value as JSON, or the parser's complaint. */
export type YamlDocument = { readonly value: unknown } | { readonly error: string };

/** Each document of `text`, in order (an empty document is null). Throws nothing: a document that cannot be read is an
 * `error`, with the line it is on. */
export function parseYamlDocuments(text: string): YamlDocument[] {
  return /^\s*\{/.test(text) ? jsonStream(text) : yamlStream(text, 1);
}

const TAG = 'tag:yaml.org,2002:';
const STR = `${TAG}str`;
const INT = `${TAG}int`;
const FLOAT = `${TAG}float`;
const BOOL = `${TAG}bool`;
const NULL = `${TAG}null`;
const TIMESTAMP = `${TAG}timestamp`;
const BINARY = `${TAG}binary`;
const MERGE = `${TAG}merge`;
/** The tags go-yaml resolves; a scalar of any other tag (but !!binary) is its text. */
const RESOLVABLE = new Set(['', STR, INT, FLOAT, BOOL, NULL, TIMESTAMP]);
/** go-yaml's table of plain scalars that are not numbers. */
const KNOWN = new Map<string, Resolved>([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map(bool(true)),
  ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map(bool(false)),
  ...['', '~', 'null', 'Null', 'NULL'].map((text): [string, Resolved] => [text, { tag: NULL, value: null }]),
  ...['.nan', '.NaN', '.NAN'].map(float(Number.NaN)),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map(float(Infinity)),
  ...['-.inf', '-.Inf', '-.INF'].map(float(-Infinity)),
]);
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** Go's strconv.ParseFloat of a text that starts with "." (underscores only between digits). */
const DOT_FLOAT = /^\.[0-9](_?[0-9])*([eE][-+]?[0-9](_?[0-9])*)?$/;
/** Go's strconv.ParseInt with base 0. */
const GO_INT = /^([-+]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

type Resolved =
  | { readonly tag: string; readonly value: string | boolean | null }
  | { readonly tag: string; readonly value: number; readonly integer?: bigint; readonly unsigned?: boolean };

function bool(value: boolean): (text: string) => [string, Resolved] {
  return (text) => [text, { tag: BOOL, value }];
}

function float(value: number): (text: string) => [string, Resolved] {
  return (text) => [text, { tag: FLOAT, value }];
}

/** A document that cannot be read: the message, and where in the document's text. */
class DocumentError extends Error {
  override readonly name = 'DocumentError';
  constructor(
    message: string,
    readonly offset: number | undefined,
  ) {
    super(message);
  }
}

/** kubectl's JSON stream: values one after another; if the first or second does not parse, the rest (from the line
 * after the last value read) is YAML; after two, the stream is broken. */
function jsonStream(text: string): YamlDocument[] {
  const documents: YamlDocument[] = [];
  let offset = 0;
  let line = 1;
  for (;;) {
    const space = /^[ \t\r\n]*/.exec(text.slice(offset))?.[0] ?? '';
    const start = offset + space.length;
    const startLine = line + newlines(space);
    if (start === text.length) return documents;
    const end = jsonValueEnd(text, start);
    const segment = text.slice(start, end);
    const problem = end === undefined ? 'it ends before the value does' : jsonProblem(segment);
    if (problem === undefined) {
      documents.push(readDocument(segment, startLine, true));
      offset = start + segment.length;
      line = startLine + newlines(segment);
      continue;
    }
    if (documents.length > 1) {
      return [...documents, { error: `the JSON stream breaks at line ${startLine}: ${problem}` }];
    }
    const eaten = /^[^\S\n]*\n?/.exec(text.slice(offset))?.[0] ?? '';
    return [...documents, ...yamlStream(text.slice(offset + eaten.length), line + newlines(eaten))];
  }
}

/** Where the JSON value that starts at `start` ends: its closing bracket, or the end of a top-level scalar. */
function jsonValueEnd(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let index = start; index < text.length; index += 1) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index += 1;
      else if (char === '"') inString = false;
      if (!inString && depth === 0) return index + 1;
    } else if (char === '"') {
      inString = true;
    } else if (char === '{' || char === '[') {
      depth += 1;
    } else if (char === '}' || char === ']') {
      depth -= 1;
      if (depth <= 0) return index + 1;
    } else if (depth === 0 && /[\s,:]/.test(char ?? '')) {
      return index;
    }
  }
  return depth === 0 && !inString ? text.length : undefined;
}

function jsonProblem(segment: string): string | undefined {
  try {
    JSON.parse(segment);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** kubectl's YAMLReader: a line that begins with "---" separates documents, and only a comment may follow the dashes.
 * kubectl skips what reads as null; here it keeps its place, so that document N is the one after the (N-1)th
 * separator, but for what comes before the first separator when it holds nothing but comments. */
function yamlStream(text: string, firstLine: number): YamlDocument[] {
  const documents: YamlDocument[] = [];
  let piece = '';
  let pieceLine = firstLine;
  let line = firstLine;
  let first = true;
  const close = (): void => {
    if (!first || !piece.split('\n').every((row) => /^\s*(#.*)?$/.test(row))) {
      documents.push(readDocument(piece, pieceLine, false));
    }
    first = false;
    piece = '';
    pieceLine = line + 1;
  };
  for (const row of text.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
    if (row.startsWith('---')) {
      const after = row.slice(3).trim();
      close();
      if (after !== '' && !after.startsWith('#')) {
        const separator = row.trim();
        return [
          ...documents,
          { error: `"${separator}" on line ${line} is not a document separator: only a comment may follow ---` },
        ];
      }
    } else {
      piece += row;
    }
    line += 1;
  }
  close();
  return documents;
}

/** One document's value, as go-yaml and sigs.k8s.io/yaml make it (only the first YAML document of the text counts,
 * as go-yaml's Unmarshal reads only that). `firstLine` is the text's line in the manifest, for messages. */
function readDocument(text: string, firstLine: number, json: boolean): YamlDocument {
  const lineOf = (offset: number | undefined): string =>
    offset === undefined ? '' : ` (line ${firstLine + newlines(text.slice(0, offset))})`;
  const [document] = parseAllDocuments(text, {
    version: '1.1',
    schema: 'failsafe',
    merge: false,
    uniqueKeys: false,
    prettyErrors: false,
  });
  if (document === undefined) return { value: null };
  const [first] = document.errors;
  if (first !== undefined) return { error: `${first.message}${lineOf(first.pos[0])}` };
  const targets = new Map<Alias, unknown>();
  const anchors = new Map<string, unknown>();
  // go-yaml's parser binds an alias to the last node anchored with that name before it.
  visit(document, {
    Node: (_key, node) => {
      if (isAlias(node)) targets.set(node, anchors.get(node.source));
      else if (node.anchor !== undefined) anchors.set(node.anchor, node);
    },
  });
  try {
    return { value: new Decoder(targets, json).value(document.contents) };
  } catch (error) {
    if (error instanceof DocumentError) return { error: `${error.message}${lineOf(error.offset)}` };
    // Such as a stack overflow in a document nested too deeply.
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** go-yaml v2's decoder into interface{}, then sigs.k8s.io/yaml's conversion to JSON. */
class Decoder {
  private readonly expanding = new Set<Alias>();
  private decodeCount = 0;
  private aliasCount = 0;

  constructor(
    private readonly targets: ReadonlyMap<Alias, unknown>,
    private readonly json: boolean,
  ) {}

  value(node: unknown): unknown {
    this.count(node);
    if (isAlias(node)) return this.expand(node, (target) => this.value(target));
    if (isMap(node)) {
      const entries = new Map<string, unknown>();
      this.fill(node, entries);
      return Object.fromEntries(entries);
    }
    if (isSeq(node)) return node.items.map((item) => this.value(item));
    const resolved = this.scalar(node);
    if (typeof resolved.value === 'number' && !Number.isFinite(resolved.value)) {
      throw new DocumentError(
        `${sourceOf(node)} is not a number JSON can carry (kubectl refuses it too): quote it if it is text`,
        offsetOf(node),
      );
    }
    if ('integer' in resolved && resolved.integer !== undefined && !resolved.unsigned) {
      if (BigInt(resolved.value) !== resolved.integer) {
        throw new DocumentError(
          `the integer ${sourceOf(node)} cannot be sent exactly (kubectl would send it as written; a JavaScript number ` +
            'holds integers up to 2^53): quote it if it is text',
          offsetOf(node),
        );
      }
    }
    if (this.json && isScalar(node) && node.type === 'PLAIN' && resolved.tag === STR) {
      throw new DocumentError(`the number ${sourceOf(node)} is out of range (kubectl refuses it too)`, offsetOf(node));
    }
    // kubectl reads the JSON of -0.0 back as the integer 0.
    return Object.is(resolved.value, -0) ? 0 : resolved.value;
  }

  /** go-yaml's mapping: pairs in order, each merge ("<<") setting its keys over what is already there. */
  private fill(map: YAMLMap, entries: Map<string, unknown>): void {
    const written = new Map<string, string>();
    for (const { key, value } of map.items) {
      if (
        isScalar(key) &&
        sourceOf(key) === '<<' &&
        ((key.type === 'PLAIN' && key.tag === undefined) || key.tag === MERGE)
      ) {
        this.merge(value, entries);
        continue;
      }
      const name = this.key(key);
      const earlier = written.get(name);
      if (earlier !== undefined) throw new DocumentError(duplicateKey(name, earlier, sourceOf(key)), offsetOf(key));
      written.set(name, sourceOf(key));
      entries.set(name, this.value(value));
    }
  }

  /** go-yaml's merge: a mapping, an alias of one, or a sequence of them, the earlier ones taking precedence. */
  private merge(node: unknown, entries: Map<string, unknown>): void {
    const into = (source: unknown): void => {
      this.count(source);
      if (isAlias(source)) this.expand(source, into);
      else if (isMap(source)) this.fill(source, entries);
    };
    const mapping = (source: unknown): boolean => isMap(isAlias(source) ? this.targets.get(source) : source);
    if (isSeq(node) && node.items.every(mapping)) {
      [...node.items].reverse().forEach(into);
    } else if (mapping(node)) {
      into(node);
    } else {
      throw new DocumentError('a merge key (<<) needs a mapping or a list of mappings as its value', offsetOf(node));
    }
  }

  /** A key as sigs.k8s.io/yaml writes it in JSON: a string, an integer, a float (as float32), a boolean. */
  private key(node: unknown): string {
    this.count(node);
    if (isAlias(node)) return this.expand(node, (target) => this.key(target));
    if (isMap(node) || isSeq(node)) {
      throw new DocumentError('a mapping or a list is used as a key: JSON keys are text', offsetOf(node));
    }
    const resolved = this.scalar(node);
    const { value } = resolved;
    if (value === null) {
      throw new DocumentError(`the key ${sourceOf(node) || '(empty)'} is null: quote it if it is text`, offsetOf(node));
    }
    if ('unsigned' in resolved && resolved.unsigned) {
      throw new DocumentError(`the key ${sourceOf(node)} is too large for kubectl: quote it`, offsetOf(node));
    }
    if ('integer' in resolved && resolved.integer !== undefined) return resolved.integer.toString();
    return typeof value === 'number' ? float32Text(value) : String(value);
  }

  /** go-yaml's resolve of a scalar with its tag. */
  private scalar(node: unknown): Resolved {
    const text = sourceOf(node);
    const tag = isScalar(node) ? (node.tag ?? '') : '';
    if (isScalar(node) && tag === '' && node.type !== 'PLAIN') return { tag: STR, value: text };
    if (tag === BINARY) {
      const base64 = text.replace(/[\r\n]/g, '');
      if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
        throw new DocumentError('!!binary value contains invalid base64 data', offsetOf(node));
      }
      return { tag: STR, value: Buffer.from(base64, 'base64').toString('utf8') };
    }
    if (!RESOLVABLE.has(tag)) return { tag: STR, value: text };
    const resolved = tag === STR ? { tag: STR, value: text } : resolvePlain(text);
    if (tag === '' || tag === STR || tag === resolved.tag || tag === TIMESTAMP) return resolved;
    if (tag === FLOAT && resolved.tag === INT && typeof resolved.value === 'number') {
      return { tag: FLOAT, value: resolved.value };
    }
    throw new DocumentError(`cannot decode !!${short(resolved.tag)} \`${text}\` as a !!${short(tag)}`, offsetOf(node));
  }

  private expand<T>(alias: Alias, use: (target: unknown) => T): T {
    const target = this.targets.get(alias);
    if (target === undefined) {
      throw new DocumentError(`unknown anchor '${alias.source}' referenced`, offsetOf(alias));
    }
    if (this.expanding.has(alias)) {
      throw new DocumentError(`anchor '${alias.source}' value contains itself`, offsetOf(alias));
    }
    this.expanding.add(alias);
    try {
      return use(target);
    } finally {
      this.expanding.delete(alias);
    }
  }

  /** go-yaml's limit on alias expansion ("billion laughs"): past 1,000 nodes, at most 99% of them from aliases (less
   * in very large documents). */
  private count(node: unknown): void {
    this.decodeCount += 1;
    if (this.expanding.size > 0) this.aliasCount += 1;
    const ratio =
      this.decodeCount <= 400_000
        ? 0.99
        : this.decodeCount >= 4_000_000
          ? 0.1
          : 0.99 - (0.89 * (this.decodeCount - 400_000)) / 3_600_000;
    if (this.aliasCount > 100 && this.decodeCount > 1000 && this.aliasCount / this.decodeCount > ratio) {
      throw new DocumentError(
        'the document expands its aliases too much (kubectl refuses it too): write the values out',
        offsetOf(node),
      );
    }
  }
}

/** go-yaml v2's resolve of an untagged plain scalar. Timestamps need no rule: go-yaml keeps them as written, and
 * nothing that looks like one is a number. */
function resolvePlain(text: string): Resolved {
  const known = KNOWN.get(text);
  if (known !== undefined) return known;
  const first = text[0] ?? '';
  if (first === '.' && DOT_FLOAT.test(text)) {
    const value = Number(text.replace(/_/g, ''));
    if (Number.isFinite(value)) return { tag: FLOAT, value };
  }
  if (/[-+0-9]/.test(first)) {
    const plain = text.replace(/_/g, '');
    const match = GO_INT.exec(plain);
    if (match !== null) {
      const [, sign = '', digits = ''] = match;
      // BigInt reads 0x, 0o and 0b (lower case only); Go's 0644 is 0o644.
      const magnitude = BigInt(/^0[0-7]/.test(digits) ? `0o${digits.slice(1)}` : digits.toLowerCase());
      const integer = sign === '-' ? -magnitude : magnitude;
      if (integer >= INT64_MIN && integer <= INT64_MAX) return { tag: INT, value: Number(integer), integer };
      // kubectl keeps an unsigned 64-bit integer only until it reads the JSON: then it is a float64, as here.
      if (sign === '' && integer <= UINT64_MAX) return { tag: INT, value: Number(integer), integer, unsigned: true };
    }
    if (YAML_STYLE_FLOAT.test(plain)) {
      const value = Number(plain);
      if (Number.isFinite(value)) return { tag: FLOAT, value };
    }
  }
  return { tag: STR, value: text };
}

/** strconv.FormatFloat(value, 'g', -1, 32), with go-yaml's names for infinity and NaN. */
function float32Text(value: number): string {
  const single = Math.fround(value);
  if (Number.isNaN(single)) return '.nan';
  if (!Number.isFinite(single)) return single > 0 ? '.inf' : '-.inf';
  if (single === 0) return Object.is(single, -0) ? '-0' : '0';
  let precision = 1;
  while (Math.fround(Number(single.toPrecision(precision))) !== single) precision += 1;
  const [mantissa = '', exponent = '0'] = single.toExponential(precision - 1).split('e');
  const power = Number(exponent);
  if (power < -4 || power >= 6) {
    return `${mantissa}e${power < 0 ? '-' : '+'}${String(Math.abs(power)).padStart(2, '0')}`;
  }
  return String(Number(single.toPrecision(precision)));
}

function duplicateKey(name: string, before: string, now: string): string {
  const spelled = before === now ? '' : ` (written ${before} and ${now}: YAML 1.1 reads both as ${name})`;
  return `the key ${name} is given twice in one mapping${spelled}; kubectl would keep one of them silently: give it once`;
}

function sourceOf(node: unknown): string {
  if (!isScalar(node)) return '';
  return typeof node.source === 'string' ? node.source : String(node.value);
}

function offsetOf(node: unknown): number | undefined {
  return isScalar(node) || isAlias(node) || isMap(node) || isSeq(node) ? node.range?.[0] : undefined;
}

function short(tag: string): string {
  return tag.startsWith(TAG) ? tag.slice(TAG.length) : tag;
}

function newlines(text: string): number {
  return text.match(/\n/g)?.length ?? 0;
}
