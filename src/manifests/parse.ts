// A manifest into the objects it holds, checked for what needs no cluster: each an object with apiVersion, kind and
// metadata.name, no generateName, a v1 List flattened. Objects are kept exactly as written (nothing dropped or
// renamed): they are sent as they are.
import { InvalidManifestError } from '../errors.js';
import { warm, type ParsedDocument } from '../state.js';
import type { InlineManifest } from './request.js';

/** A Kubernetes object as the manifest has it. */
export type ManifestObject = Readonly<Record<string, unknown>>;

/** An object of the manifest, with where it came from, for messages. */
export interface ParsedObject {
  /** "document 3", or "document 3, item 2" for an item of a List. */
  readonly from: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** metadata.namespace, when the object names one. */
  readonly namespace: string | undefined;
  readonly object: ManifestObject;
}

/** The objects of a manifest, in order. Throws InvalidManifestError naming the document (and its kind and name, when
 * known) for the first that is not one. */
export async function parseManifest(source: InlineManifest): Promise<ParsedObject[]> {
  const documents: { from: string; value: unknown }[] = [];
  if (typeof source === 'string') {
    for (const [index, document] of (await yamlDocuments(source)).entries()) {
      const from = `document ${index + 1}`;
      if ('error' in document) {
        throw new InvalidManifestError(`${from} is not valid YAML or JSON: ${document.error}`);
      }
      // An empty document (a "---" too many) is nothing, as kubectl reads it.
      if (document.value !== null && document.value !== undefined) documents.push({ from, value: document.value });
    }
  } else {
    documents.push(...source.map((value, index) => ({ from: `item ${index + 1}`, value })));
  }
  const objects = documents.flatMap(({ from, value }) => flatten(from, value));
  if (objects.length === 0) {
    throw new InvalidManifestError('the manifest holds no object: give at least one');
  }
  return objects.map(({ from, value }) => checked(from, value));
}

/** The YAML documents of `text`: the last manifest's are kept, since a set is mostly applied again as it was (the
 * parse is the function's largest CPU cost of an unchanged apply). The values are never changed once parsed. */
async function yamlDocuments(text: string): Promise<readonly ParsedDocument[]> {
  if (warm.manifest?.text === text) return warm.manifest.documents;
  const { parseYamlDocuments } = await import('./manifest-yaml.js');
  const documents = parseYamlDocuments(text);
  warm.manifest = { text, documents };
  return documents;
}

/** A v1 List's items, each an object of its own (kubectl flattens them the same way). */
function flatten(from: string, value: unknown): { from: string; value: unknown }[] {
  if (!isObject(value) || value['apiVersion'] !== 'v1' || value['kind'] !== 'List') {
    return [{ from, value }];
  }
  const items = value['items'];
  if (!Array.isArray(items)) {
    throw new InvalidManifestError(`${from} is a v1 List without an items array`);
  }
  return items.map((item: unknown, index) => ({ from: `${from}, item ${index + 1}`, value: item }));
}

function checked(from: string, value: unknown): ParsedObject {
  if (!isObject(value)) {
    throw new InvalidManifestError(
      `${from} is not a Kubernetes object (a YAML or JSON mapping with apiVersion, kind and metadata), but ${kindOf(value)}`,
    );
  }
  const { apiVersion, kind } = value;
  const metadata = value['metadata'];
  const name = isObject(metadata) ? metadata['name'] : undefined;
  const about = [
    typeof kind === 'string' && kind !== '' ? kind : undefined,
    typeof name === 'string' && name !== '' ? `"${name}"` : undefined,
  ]
    .filter(Boolean)
    .join(' ');
  const where = about === '' ? from : `${from} (${about})`;
  if (typeof apiVersion !== 'string' || !/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion)) {
    throw new InvalidManifestError(`${where} has no valid apiVersion (such as v1 or apps/v1)`);
  }
  if (typeof kind !== 'string' || !/^[A-Za-z][A-Za-z0-9]*$/.test(kind)) {
    throw new InvalidManifestError(`${where} has no valid kind (such as ConfigMap)`);
  }
  if (!isObject(metadata)) {
    throw new InvalidManifestError(`${where} has no metadata: give it metadata.name`);
  }
  if (metadata['generateName'] !== undefined) {
    throw new InvalidManifestError(
      `${where} uses metadata.generateName: a set's objects need fixed names, to be applied again, pruned and deleted; ` +
        'give it metadata.name instead',
    );
  }
  if (typeof name !== 'string' || name === '') {
    throw new InvalidManifestError(`${where} has no metadata.name`);
  }
  const namespace = metadata['namespace'];
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace === '')) {
    throw new InvalidManifestError(`${where} has a metadata.namespace that is not a name`);
  }
  return { from, apiVersion, kind, name, namespace, object: value };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
