// Reads one object from S3 with a single SigV4-signed GET: node:https and the signer the EKS token already uses
// (@smithy/signature-v4, src/aws/token.ts), so the bundle carries no S3 client. The request is signed in the
// Authorization header with the function's own credentials; neither they nor the signature ever reach a message.
import { request as httpsRequest } from 'node:https';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials } from '../config.js';
import { MANAGER, MIN_REQUEST_MS, RETRYABLE_STATUS_CODES } from '../constants.js';
import {
  ConfigurationError,
  describeThrown,
  InvalidEventError,
  InvalidManifestError,
  ManifestFetchError,
} from '../errors.js';
import { backoffDelay, sleep } from '../retry.js';
import { lookUpRegion } from './regions.js';

/** An object in S3, as an `s3://` URL names it. */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | undefined;
}

/** How fetchS3Object reads an object. */
export interface FetchS3ObjectOptions {
  readonly credentials: AwsCredentials;
  /** The region the request is signed for and, without `endpoint`, whose S3 endpoint is asked. */
  readonly region: string;
  /** An object larger than this is not read. */
  readonly maxBytes: number;
  /** Epoch ms: no attempt starts, and none goes on, after it. */
  readonly deadline: number;
  /** AWS_ENDPOINT_URL_S3: the objects are then asked of `<endpoint>/<bucket>/<key>` (path-style). */
  readonly endpoint?: string | undefined;
}

/** A GET to S3, signed and ready to send: what goes on the wire, exactly. */
export interface SignedS3Get {
  readonly protocol: 'https:' | 'http:';
  /** The host to connect to (an IPv6 address without its brackets). */
  readonly hostname: string;
  readonly port: number | undefined;
  /** The URI-encoded path, with `?versionId=...` when there is one. */
  readonly path: string;
  /** host, x-amz-content-sha256, x-amz-date, x-amz-security-token (with a session token) and authorization. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Each attempt gets at most this long (less when the deadline is nearer). */
const ATTEMPT_TIMEOUT_MS = 10_000;
/** Attempts in all: the first, and two retries of an answer that may change (5xx, 429, network). */
const MAX_S3_ATTEMPTS = 3;
/** S3's error documents are small; more than this of one is not read. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** What S3 quotes of its own message, at most. */
const MAX_QUOTED_CHARS = 300;
/** SHA-256 of the empty body: the GET sends none, and says so in x-amz-content-sha256. */
const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** S3's limit on a key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
const S3_URL_PREFIX = 's3://';
const S3_URL_FORM = 'write it as s3://<bucket>/<key>, optionally followed by ?versionId=<version>';
/** S3's rules for bucket names (general purpose buckets): 3 to 63 lowercase letters, digits, dots and hyphens, starting
 * and ending with a letter or digit. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** S3's version ids are URL-safe printable ASCII ("null" for an object written before versioning was enabled). */
const VERSION_ID = /^[\x21-\x7e]+$/;
const VERSION_SUFFIX = /\?versionId=([^?]*)$/;

/** SHA-256 and HMAC-SHA-256 on node:crypto, as in src/aws/token.ts. */
const SHA256 = Hash.bind(null, 'sha256');

/** Parses `s3://bucket/key` (optionally `?versionId=...`); throws InvalidEventError(field, ...) naming what is wrong
 * (only s3:// URLs). The key is taken as written, not percent-decoded, as the AWS CLI and the S3 console's "S3 URI"
 * write it; a `?` belongs to the key unless it starts the `?versionId=` at the end. */
export function parseS3Url(url: string, field: string): S3Location {
  if (!url.startsWith(S3_URL_PREFIX)) {
    throw new InvalidEventError(field, `${quote(url)} is not an s3:// URL; ${S3_URL_FORM}`);
  }
  let rest = url.slice(S3_URL_PREFIX.length);
  let versionId: string | undefined;
  const version = VERSION_SUFFIX.exec(rest);
  if (version) {
    versionId = version[1] ?? '';
    rest = rest.slice(0, version.index);
    if (!VERSION_ID.test(versionId)) {
      throw new InvalidEventError(
        field,
        versionId === ''
          ? `${quote(url)} has an empty versionId; give the object's version, or leave ?versionId= out for its latest`
          : `${quote(versionId)} in ${quote(url)} is not an S3 version id (printable ASCII without spaces)`,
      );
    }
  }
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (bucket === '') {
    throw new InvalidEventError(field, `${quote(url)} names no bucket; ${S3_URL_FORM}`);
  }
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    throw new InvalidEventError(
      field,
      `${quote(bucket)} in ${quote(url)} is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and ` +
        'hyphens, starting and ending with a letter or digit)',
    );
  }
  if (key === '') {
    throw new InvalidEventError(field, `${quote(url)} names no object in bucket "${bucket}"; ${S3_URL_FORM}`);
  }
  if (key.endsWith('/')) {
    throw new InvalidEventError(field, `${quote(url)} ends with "/": it names a folder, not an object; ${S3_URL_FORM}`);
  }
  if (!key.isWellFormed()) {
    throw new InvalidEventError(field, `the key in ${quote(url)} is not valid Unicode`);
  }
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new InvalidEventError(field, `the key in ${quote(url)} is longer than S3's ${MAX_KEY_BYTES} bytes`);
  }
  return { bucket, key, versionId };
}

/** GETs the object with one SigV4-signed request; returns its bytes. Throws ManifestFetchError (403, 404, network, ...)
 * with S3's own Code and Message, and InvalidManifestError when it is larger than maxBytes. An answer that may change
 * (5xx, 429, a network failure) is asked again, twice at most, within the deadline; a bucket in another region (S3
 * names it in x-amz-bucket-region) is asked once more, signed for that region. Throws ConfigurationError when
 * `endpoint` is not an http(s) URL. */
export async function fetchS3Object(location: S3Location, options: FetchS3ObjectOptions): Promise<Buffer> {
  const { credentials, maxBytes, deadline, endpoint } = options;
  let region = options.region;
  let regionFollowed = false;
  let last: Failure | undefined;
  let attempts = 0;
  while (attempts < MAX_S3_ATTEMPTS) {
    const timeoutMs = Math.floor(Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now()));
    if (timeoutMs < MIN_REQUEST_MS) {
      break;
    }
    attempts += 1;
    const signed = await signS3Get(location, { credentials, region, endpoint }, new Date());
    const outcome = await getOnce(signed, timeoutMs, maxBytes);
    if (outcome.kind === 'ok') {
      return outcome.body;
    }
    if (outcome.kind === 'too-large') {
      throw new InvalidManifestError(
        `${describeLocation(location)} is ${outcome.size === undefined ? 'more than' : `${outcome.size} bytes, more than`} ` +
          `the ${maxBytes} bytes the function reads of a manifest; split it, or make it smaller`,
      );
    }
    last = { ...outcome, host: hostOf(signed), region };
    if (outcome.kind === 'rejected' && !regionFollowed && isWrongRegion(outcome, region)) {
      // The bucket lives elsewhere: sign again for its region (and, without an endpoint, ask that region's S3).
      regionFollowed = true;
      region = outcome.bucketRegion ?? region;
      continue;
    }
    if (!mayChange(outcome)) {
      break;
    }
    const delay = backoffDelay(attempts, Math.random());
    if (Date.now() + delay + MIN_REQUEST_MS > deadline) {
      break;
    }
    await sleep(delay);
  }
  throw explainFailure(location, last, attempts, options, [credentials.secretAccessKey, credentials.sessionToken]);
}

/** The signed GET of an object: path-style at `endpoint` when there is one, else at the region's S3 endpoint,
 * virtual-hosted (`<bucket>.s3.<region>.<dns suffix>`) unless the bucket's name holds a dot (which a wildcard TLS
 * certificate does not cover), then path-style. Each segment of the key is URI-encoded once, as S3 wants it (S3 does
 * not double-encode); the payload hash is that of the empty body. Pure: `signingDate` is a value. Exported for the
 * tests, which compare it with botocore's signer. */
export async function signS3Get(
  location: S3Location,
  { credentials, region, endpoint }: Pick<FetchS3ObjectOptions, 'credentials' | 'region' | 'endpoint'>,
  signingDate: Date,
): Promise<SignedS3Get> {
  const target = targetOf(location, region, endpoint);
  const signer = new SignatureV4({ service: 's3', region, credentials, sha256: SHA256, uriEscapePath: false });
  const query: Record<string, string> = location.versionId === undefined ? {} : { versionId: location.versionId };
  const signed = await signer.sign(
    {
      method: 'GET',
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port === undefined ? {} : { port: target.port }),
      path: target.path,
      query,
      headers: { host: target.host, 'x-amz-content-sha256': EMPTY_BODY_SHA256 },
    },
    { signingDate },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    headers[name.toLowerCase()] = value;
  }
  return {
    protocol: target.protocol,
    hostname: target.connectHostname,
    port: target.port,
    path: location.versionId === undefined ? target.path : `${target.path}?versionId=${escapeUri(location.versionId)}`,
    headers,
  };
}

interface Target {
  readonly protocol: 'https:' | 'http:';
  /** The hostname as it is signed (an IPv6 address in brackets) and the one to connect to (without). */
  readonly hostname: string;
  readonly connectHostname: string;
  readonly port: number | undefined;
  /** The Host header: the hostname, and the port when it is not the protocol's. */
  readonly host: string;
  readonly path: string;
}

function targetOf({ bucket, key }: S3Location, region: string, endpoint: string | undefined): Target {
  const encodedKey = key.split('/').map(escapeUri).join('/');
  if (endpoint !== undefined) {
    const url = parseEndpoint(endpoint);
    const protocol = url.protocol === 'http:' ? 'http:' : 'https:';
    const basePath = url.pathname.replace(/\/+$/, '');
    return {
      protocol,
      hostname: url.hostname,
      connectHostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? undefined : Number(url.port),
      host: url.host,
      path: `${basePath}/${bucket}/${encodedKey}`,
    };
  }
  const info = lookUpRegion(region);
  if (info === undefined) {
    throw new ManifestFetchError(
      `there is no S3 endpoint for region "${region}" in the AWS SDK's partition table, so ` +
        `${describeLocation({ bucket, key, versionId: undefined })} cannot be read; set AWS_ENDPOINT_URL_S3`,
    );
  }
  // The partition's DNS suffix (amazonaws.com, amazonaws.com.cn, ...), as the regional STS host carries it.
  const suffix = info.stsHost.slice(`sts.${region}.`.length);
  const hostname = bucket.includes('.') ? `s3.${region}.${suffix}` : `${bucket}.s3.${region}.${suffix}`;
  return {
    protocol: 'https:',
    hostname,
    connectHostname: hostname,
    port: undefined,
    host: hostname,
    path: bucket.includes('.') ? `/${bucket}/${encodedKey}` : `/${encodedKey}`,
  };
}

function parseEndpoint(endpoint: string): URL {
  const problem = (what: string): ConfigurationError =>
    new ConfigurationError(
      `${quote(endpoint)} ${what}; set it to the S3 endpoint's http(s) URL, such as http://127.0.0.1:5000, or unset ` +
        "it to use the region's S3 endpoint",
      { variable: 'AWS_ENDPOINT_URL_S3' },
    );
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw problem('is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw problem('is not an http or https URL');
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw problem('has a user, a query or a fragment');
  }
  return url;
}

/** RFC 3986 escaping of everything but the unreserved characters, as SigV4 canonicalises (and S3 wants) a path
 * segment or a query value. */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

type Outcome =
  | { readonly kind: 'ok'; readonly body: Buffer }
  | { readonly kind: 'too-large'; readonly size: number | undefined }
  | Rejected
  | Unreachable;

/** S3 answered with an error: its HTTP status, and the Code and Message of its XML error document. */
interface Rejected {
  readonly kind: 'rejected';
  readonly status: number;
  readonly code: string | undefined;
  readonly message: string | undefined;
  /** x-amz-bucket-region: where the bucket is, which S3 tells when it is asked in the wrong region. */
  readonly bucketRegion: string | undefined;
}

/** No complete answer: Node's error code (or ETIMEDOUT) and what happened. */
interface Unreachable {
  readonly kind: 'unreachable';
  readonly code: string;
  readonly problem: string;
}

/** The last failure, with the host asked and the region the request was signed for. */
type Failure = (Rejected | Unreachable) & { readonly host: string; readonly region: string };

/** One GET: the body of a 2xx answer (at most maxBytes, else too-large at once, by Content-Length or while
 * reading), or what went wrong. Never rejects. */
function getOnce(signed: SignedS3Get, timeoutMs: number, maxBytes: number): Promise<Outcome> {
  // node:http only for an http: endpoint (moto, a local S3), and never as an ES module import: see
  // src/lambda/cfn-response.ts (its ES module facade loads Node's internal undici).
  const send = signed.protocol === 'https:' ? httpsRequest : process.getBuiltinModule('node:http').request;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome): void => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    const unreachable = (error: unknown): void => {
      const { name, code, message } = describeThrown(error);
      settle(
        name === 'AbortError' || name === 'TimeoutError'
          ? { kind: 'unreachable', code: 'ETIMEDOUT', problem: `no complete answer within ${timeoutMs} ms` }
          : { kind: 'unreachable', code: code ?? name, problem: message },
      );
    };
    const req = send(
      {
        protocol: signed.protocol,
        hostname: signed.hostname,
        ...(signed.port === undefined ? {} : { port: signed.port }),
        path: signed.path,
        method: 'GET',
        headers: { ...signed.headers, 'user-agent': MANAGER },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        const limit = ok ? maxBytes : MAX_ERROR_BODY_BYTES;
        const declared = Number(res.headers['content-length']);
        if (ok && Number.isSafeInteger(declared) && declared > maxBytes) {
          settle({ kind: 'too-large', size: declared });
          req.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = (): void => {
          const body = Buffer.concat(chunks);
          const bucketRegion = res.headers['x-amz-bucket-region'];
          settle(
            ok
              ? { kind: 'ok', body }
              : {
                  kind: 'rejected',
                  status,
                  ...parseS3Error(body),
                  bucketRegion: typeof bucketRegion === 'string' && bucketRegion !== '' ? bucketRegion : undefined,
                },
          );
        };
        res.on('data', (chunk: Buffer) => {
          if (size + chunk.length > limit) {
            if (ok) {
              settle({ kind: 'too-large', size: undefined });
            } else {
              // An error document this long is not S3's; what was read is enough to tell.
              chunks.push(chunk.subarray(0, limit - size));
              finish();
            }
            req.destroy();
            return;
          }
          size += chunk.length;
          chunks.push(chunk);
        });
        res.on('error', unreachable);
        res.on('end', () => {
          if (!res.complete) {
            settle({
              kind: 'unreachable',
              code: 'ERR_INCOMPLETE_RESPONSE',
              problem: 'the connection closed before the whole answer arrived',
            });
            return;
          }
          finish();
        });
      },
    );
    req.on('error', unreachable);
    req.end();
  });
}

/** Code and Message of S3's `<Error>` document; undefined for a body that is not one (a proxy's page, HEAD). */
function parseS3Error(body: Buffer): { code: string | undefined; message: string | undefined } {
  const text = body.toString('utf8');
  if (!text.includes('<Error>')) {
    return { code: undefined, message: undefined };
  }
  const element = (name: string): string | undefined => {
    const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(text);
    return match?.[1] === undefined ? undefined : decodeXml(match[1]).trim() || undefined;
  };
  return { code: element('Code'), message: element('Message') };
}

function decodeXml(text: string): string {
  const named: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (entity, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return named[name] ?? entity;
  });
}

/** S3 answered from a region that is not the bucket's, and said which is. */
function isWrongRegion(answer: Rejected, region: string): boolean {
  const wrongRegionCodes = ['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException'];
  return (
    answer.bucketRegion !== undefined &&
    answer.bucketRegion !== region &&
    (answer.status === 301 || (answer.code !== undefined && wrongRegionCodes.includes(answer.code)))
  );
}

/** Whether asking again may get another answer: S3 busy or failing, throttling, or the network. A host that does not
 * resolve or a certificate that is not trusted does not get better. */
function mayChange(answer: Rejected | Unreachable): boolean {
  if (answer.kind === 'rejected') {
    return RETRYABLE_STATUS_CODES.has(answer.status) || answer.status >= 500;
  }
  return answer.code !== 'ENOTFOUND' && !/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(answer.code);
}

function explainFailure(
  location: S3Location,
  failure: Failure | undefined,
  attempts: number,
  options: FetchS3ObjectOptions,
  secrets: readonly (string | undefined)[],
): ManifestFetchError {
  const where = describeLocation(location);
  if (failure === undefined) {
    return new ManifestFetchError(
      `no time was left to read ${where} before the invocation's deadline; give the function a longer timeout`,
    );
  }
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  if (failure.kind === 'unreachable') {
    return new ManifestFetchError(
      `could not read ${where}: S3 at ${failure.host} could not be reached (${failure.code}: ` +
        `${redact(failure.problem, secrets)})${tries}. Check the function's route to S3: a function in a VPC needs ` +
        "an S3 gateway endpoint or a NAT gateway, and egress to S3 on 443 (the template's S3PrefixListId parameter)" +
        (options.endpoint === undefined ? '.' : `; AWS_ENDPOINT_URL_S3 sends it to ${failure.host}.`),
    );
  }
  const said =
    `S3 answered ${failure.status} ${failure.code ?? '(no error code)'}` +
    (failure.message === undefined ? '' : `: ${redact(failure.message.replace(/\.$/, ''), secrets)}`);
  return new ManifestFetchError(`could not read ${where}: ${said}${tries}. ${advice(location, failure)}`);
}

/** What to do about S3's answer. */
function advice({ bucket, key, versionId }: S3Location, failure: Rejected & { region: string }): string {
  const partition = lookUpRegion(failure.region)?.partition ?? 'aws';
  switch (failure.code) {
    case 'NoSuchKey':
      return (
        `Bucket "${bucket}" has no object with key "${key}"; check the URL (keys are case-sensitive, and an s3:// ` +
        'URL holds the key as it is, not URL-encoded).'
      );
    case 'NoSuchBucket':
      return `There is no bucket "${bucket}"; check the URL.`;
    case 'NoSuchVersion':
      return `Object "${key}" in bucket "${bucket}" has no version "${versionId ?? ''}"; check the versionId.`;
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
    case 'InvalidToken':
    case 'ExpiredToken':
    case 'TokenRefreshRequired':
      return (
        "S3 does not accept the function's credentials: Lambda gives the function its execution role's " +
        '(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN); when you run the function yourself, ' +
        'export valid credentials of one identity.'
      );
    case 'RequestTimeTooSkewed':
      return "The clock of the machine the function runs on is more than 15 minutes away from S3's; correct it.";
    case 'PermanentRedirect':
    case 'AuthorizationHeaderMalformed':
      return (
        `Bucket "${bucket}" is not in ${failure.region}` +
        (failure.bucketRegion === undefined ? '' : ` but in ${failure.bucketRegion}`) +
        '; the function reads it from its own region, so copy the manifest to a bucket there.'
      );
    case 'InvalidObjectState':
      return 'The object is archived (Glacier or an archive tier); restore it, or copy it to a readable storage class.';
  }
  if (failure.status === 403) {
    return (
      `The function's role needs s3:GetObject${versionId === undefined ? '' : ' and s3:GetObjectVersion'} on ` +
      `arn:${partition}:s3:::${bucket}/${key} (the template's ManifestBucket parameter grants it on that bucket), and ` +
      "for an object encrypted with SSE-KMS, kms:Decrypt on the object's KMS key. S3 also answers 403 for an object " +
      'that does not exist when the role may not s3:ListBucket the bucket, so check the URL too.'
    );
  }
  if (failure.status === 404) {
    return 'Check the URL.';
  }
  return mayChange(failure) ? 'S3 may be busy or failing; invoke again.' : 'Check the URL and the object.';
}

/** The object as an s3:// URL, for messages. */
function describeLocation({ bucket, key, versionId }: S3Location): string {
  return `s3://${bucket}/${key}${versionId === undefined ? '' : `?versionId=${versionId}`}`;
}

/** The host (and port) a signed GET goes to. */
function hostOf(signed: SignedS3Get): string {
  return signed.headers['host'] ?? signed.hostname;
}

/** A value quoted for a message, cut to 200 characters. */
function quote(value: string): string {
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}...` : value);
}

/** S3's own text, at most MAX_QUOTED_CHARS, with any credential or signature it might echo removed. */
function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let clean = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 8) {
      clean = clean.split(secret).join('[redacted]');
    }
  }
  // A SigV4 signature (or any other SHA-256 in hex) is as good as the request it signs, for a while.
  clean = clean.replace(/\b[0-9a-f]{64}\b/g, '[redacted]');
  return clean.length > MAX_QUOTED_CHARS ? `${clean.slice(0, MAX_QUOTED_CHARS)}...` : clean;
}
