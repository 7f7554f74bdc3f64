// Where a set's manifest comes from: the event itself, or an object in S3 read with the function's role and checked
// against the SHA-256 the event gives, before anything is parsed.
import { createHash } from 'node:crypto';
import { fetchS3Object } from '../aws/s3-object.js';
import { InvalidManifestError } from '../errors.js';
import type { Session } from '../kube/session.js';
import type { InlineManifest, ManifestSource } from './request.js';

/** The largest manifest read from S3. */
export const MAX_S3_MANIFEST_BYTES = 5 * 1024 * 1024;

/** The manifest's text or objects: as given, or read from S3. Throws ManifestFetchError when the object cannot be
 * read, InvalidManifestError when it is too large, not UTF-8 text, or not the bytes its SHA-256 names. */
export async function resolveManifest(
  source: ManifestSource,
  session: Session,
  s3Endpoint: string | undefined,
): Promise<InlineManifest> {
  if (typeof source === 'string' || Array.isArray(source)) return source;
  if (!('s3' in source)) return source;
  const bytes = await fetchS3Object(source.s3, {
    credentials: session.credentials,
    region: session.region,
    maxBytes: MAX_S3_MANIFEST_BYTES,
    deadline: session.deadline,
    endpoint: s3Endpoint,
  });
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== source.sha256) {
    throw new InvalidManifestError(
      `${source.url} is not the manifest its SHA-256 names: its bytes hash to ${actual}, not ${source.sha256}. ` +
        'Nothing was applied. Give the SHA-256 of the object as uploaded (sha256sum <file>), or upload the file ' +
        'that hash belongs to; an object overwritten since is read as it is now (pin a version with ?versionId=).',
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidManifestError(`${source.url} is not UTF-8 text: a manifest is YAML or JSON`);
  }
}
