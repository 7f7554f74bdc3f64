// What an invocation may ask of a set of objects: the manifest actions, their fields and their rules, with every
// default applied. The Lambda edge (src/lambda/) reads events and custom resource properties into these.
import { InvalidEventError } from '../errors.js';
import { parseS3Url, type S3Location } from '../aws/s3-object.js';
import { describe, readFlag, readLabel, type FieldSyntax } from '../fields.js';

export const MANIFEST_ACTIONS = ['apply-manifest', 'get-manifest', 'delete-manifest'] as const;
export type ManifestAction = (typeof MANIFEST_ACTIONS)[number];

/** A manifest given in the event: one string (YAML, one or more documents, or JSON), or an array of objects. */
export type InlineManifest = string | readonly unknown[];

/** A manifest in S3, read with the function's role, and the SHA-256 (hex) its bytes must have. */
export interface S3Manifest {
  readonly s3: S3Location;
  readonly url: string;
  readonly sha256: string;
}

/** The manifest as the event gives it: inline, or where to read it. */
export type ManifestSource = InlineManifest | S3Manifest;

interface SetTarget {
  /** The set's name: a DNS-1123 label. */
  readonly set: string;
  /** Where the set's record lives, and the namespace of namespaced objects that name none. */
  readonly namespace: string;
}

/** What one invocation asks of a set, with every default applied. */
export type ManifestRequest =
  | (SetTarget & {
      readonly action: 'apply-manifest';
      readonly manifest: ManifestSource;
      readonly dryRun: boolean;
      readonly force: boolean;
      /** Delete the members the new manifest no longer has. */
      readonly prune: boolean;
      /** Take over objects that exist but belong to no set. */
      readonly adopt: boolean;
      /** Return once every object is ready (current, or its readiness cannot be observed). */
      readonly wait: boolean;
      readonly deleteCrdsAndNamespaces: boolean;
    })
  | (SetTarget & { readonly action: 'get-manifest' })
  | (SetTarget & {
      readonly action: 'delete-manifest';
      readonly dryRun: boolean;
      readonly deleteCrdsAndNamespaces: boolean;
    });

/** The fields each manifest action takes. */
export const MANIFEST_FIELDS: Readonly<Record<ManifestAction, readonly string[]>> = {
  'apply-manifest': [
    'action',
    'set',
    'namespace',
    'manifest',
    'manifestUrl',
    'manifestSha256',
    'dryRun',
    'force',
    'prune',
    'adopt',
    'wait',
    'deleteCrdsAndNamespaces',
  ],
  'get-manifest': ['action', 'set', 'namespace'],
  'delete-manifest': ['action', 'set', 'namespace', 'dryRun', 'deleteCrdsAndNamespaces'],
};

/** Reads, checks and defaults the fields of a manifest action. `get` returns a field's value, `named` its name as the
 * user wrote it. Throws InvalidEventError naming the field. */
export function buildManifestRequest(
  action: ManifestAction,
  get: (field: string) => unknown,
  named: (field: string) => string,
  syntax: FieldSyntax,
  defaultNamespace: string,
): ManifestRequest {
  const set = get('set');
  if (set === undefined) {
    throw new InvalidEventError(
      named('set'),
      `is required for action "${action}": the name of the set (a DNS-1123 label)`,
    );
  }
  const target = {
    set: readLabel(set, named('set'), ''),
    namespace: readLabel(get('namespace'), named('namespace'), defaultNamespace),
  };
  if (action === 'get-manifest') {
    return { action, ...target };
  }
  const deleteCrdsAndNamespaces = readFlag(get('deleteCrdsAndNamespaces'), named('deleteCrdsAndNamespaces'), syntax);
  const dryRun = readFlag(get('dryRun'), named('dryRun'), syntax);
  if (action === 'delete-manifest') {
    return { action, ...target, dryRun, deleteCrdsAndNamespaces };
  }
  const prune = get('prune');
  return {
    action,
    ...target,
    manifest: readManifest(get, named),
    dryRun,
    force: readFlag(get('force'), named('force'), syntax),
    prune: prune === undefined ? true : readFlag(prune, named('prune'), syntax),
    adopt: readFlag(get('adopt'), named('adopt'), syntax),
    wait: readWait(get('wait'), named, dryRun, syntax),
    deleteCrdsAndNamespaces,
  };
}

function readManifest(get: (field: string) => unknown, named: (field: string) => string): ManifestSource {
  const [value, url, sha256] = [get('manifest'), get('manifestUrl'), get('manifestSha256')];
  const field = named('manifest');
  if (url !== undefined || sha256 !== undefined) {
    if (value !== undefined) {
      throw new InvalidEventError(field, `cannot be given with ${named('manifestUrl')}: give the manifest one way`);
    }
    return readS3Manifest(url, sha256, named);
  }
  if (value === undefined) {
    throw new InvalidEventError(
      field,
      `is required for action "apply-manifest": YAML or JSON text, or an array of objects (or ${named('manifestUrl')} ` +
        `and ${named('manifestSha256')} for a manifest in S3)`,
    );
  }
  if (typeof value === 'string') {
    if (value.trim() === '') {
      throw new InvalidEventError(field, 'is empty: give at least one object (YAML or JSON)');
    }
    return value;
  }
  if (Array.isArray(value)) {
    return value;
  }
  throw new InvalidEventError(
    field,
    `must be YAML or JSON text, or an array of objects, not ${describe(value)}; one object goes in an array`,
  );
}

function readS3Manifest(url: unknown, sha256: unknown, named: (field: string) => string): S3Manifest {
  if (typeof url !== 'string') {
    throw new InvalidEventError(
      named('manifestUrl'),
      url === undefined
        ? `is required with ${named('manifestSha256')}: the s3://bucket/key of the manifest`
        : `must be an s3://bucket/key URL, not ${describe(url)}`,
    );
  }
  if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)) {
    throw new InvalidEventError(
      named('manifestSha256'),
      `${sha256 === undefined ? 'is required' : 'must be 64 hex digits'} with ${named('manifestUrl')}: the SHA-256 of ` +
        "the object's bytes (sha256sum <file>, or openssl dgst -sha256), which the function checks before it applies " +
        'anything and which makes CloudFormation send an Update when the content changes',
    );
  }
  return { s3: parseS3Url(url, named('manifestUrl')), url, sha256: sha256.toLowerCase() };
}

function readWait(value: unknown, named: (field: string) => string, dryRun: boolean, syntax: FieldSyntax): boolean {
  const wait = readFlag(value, named('wait'), syntax);
  if (wait && dryRun) {
    throw new InvalidEventError(
      named('wait'),
      `cannot be combined with ${named('dryRun')}: a dry run changes nothing, so there is nothing to wait for`,
    );
  }
  return wait;
}
