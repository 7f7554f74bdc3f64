import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fetchS3Object, signS3Get, type S3Location } from '../../src/aws/s3-object.js';
import type { AwsCredentials } from '../../src/config.js';
import { InvalidManifestError, ManifestFetchError } from '../../src/errors.js';
import { MOTO_S3_REGION, MotoS3, type Credentials } from '../support/moto-s3.js';

// fetchS3Object against moto's S3 with IAM authentication on: every GET must carry a correct SigV4 signature of an
// access key moto issued, and the identity's policies must allow s3:GetObject (s3:GetObjectVersion with a versionId)
// on the object. The function reads as an assumed role (a session token, as Lambda gives it) or as an IAM user; the
// setup is the real AWS CLI's, before authentication is switched on.
const BUCKET = 'manifests';
const MAX_BYTES = 4096;
/** Manifest-like bytes: YAML with non-ASCII text, and bytes that are not UTF-8, which must come back untouched. */
const manifest = (name: string): Buffer =>
  Buffer.concat([
    Buffer.from(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${JSON.stringify(name)}\ndata:\n  k: "ü ✓"\n`),
    Buffer.from([0x00, 0xff, 0xfe, 0x80]),
  ]);
const KEYS = {
  plain: 'app.yaml',
  spacesAndUnicode: 'dir/sub dir/ünïcödé ✓ 漢字.yaml',
  reserved: "odd !'()*+,;=:@&$~_.-[x].yaml",
  dotSegments: 'a//b/./c/../d.yaml',
};
const readPolicy = (...resources: string[]) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: resources }],
});

let moto: MotoS3;
let role: Credentials;
let user: Credentials;
let nobody: Credentials;
let latestOnly: Credentials;
let firstVersion: string;

beforeAll(async () => {
  moto = await MotoS3.start();
  await moto.aws([
    's3api',
    'create-bucket',
    '--bucket',
    BUCKET,
    '--create-bucket-configuration',
    `LocationConstraint=${MOTO_S3_REGION}`,
  ]);
  await moto.aws([
    's3api',
    'put-bucket-versioning',
    '--bucket',
    BUCKET,
    '--versioning-configuration',
    'Status=Enabled',
  ]);
  for (const key of Object.values(KEYS)) {
    await moto.putObject(BUCKET, key, manifest(key));
  }
  await moto.putObject(BUCKET, 'large.yaml', Buffer.alloc(MAX_BYTES + 1, 'x'));
  firstVersion = (await moto.putObject(BUCKET, 'versioned.yaml', 'version: 1\n')) ?? '';
  await moto.putObject(BUCKET, 'versioned.yaml', 'version: 2\n');
  role = await moto.assumeRole(
    'function-role',
    readPolicy(`arn:aws:s3:::${BUCKET}/*`, 'arn:aws:s3:::no-such-bucket/*'),
  );
  user = await moto.createUser('reader', readPolicy(`arn:aws:s3:::${BUCKET}/*`));
  nobody = await moto.createUser('nobody');
  latestOnly = await moto.createUser('latest-only', {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` }],
  });
  await moto.authenticate();
}, 180_000);

afterAll(async () => {
  await moto?.stop();
});

const at = (key: string, versionId?: string): S3Location => ({ bucket: BUCKET, key, versionId });
const fetchAs = (credentials: AwsCredentials, location: S3Location, maxBytes = MAX_BYTES) =>
  fetchS3Object(location, {
    credentials,
    region: MOTO_S3_REGION,
    maxBytes,
    deadline: Date.now() + 20_000,
    endpoint: moto.url,
  });
async function thrownBy(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('it did not throw');
}

describe('moto checks what it should', () => {
  it('refuses a request without a signature', async () => {
    const response = await fetch(`${moto.url}/${BUCKET}/${KEYS.plain}`);
    expect(response.status).toBe(403);
  });

  it('accepts the AWS CLI reading the Unicode key with the same user, the reference for our signature', async () => {
    const answer = await moto.aws(
      ['s3api', 'get-object', '--bucket', BUCKET, '--key', KEYS.spacesAndUnicode, '/dev/null'],
      user,
    );
    expect(answer).toMatchObject({ ContentLength: manifest(KEYS.spacesAndUnicode).length });
  });

  it('refuses a request whose path is not the one signed', async () => {
    const signed = await signS3Get(
      at(KEYS.plain),
      { credentials: role, region: MOTO_S3_REGION, endpoint: moto.url },
      new Date(),
    );
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          hostname: signed.hostname,
          port: signed.port,
          path: `/${BUCKET}/${encodeURIComponent(KEYS.dotSegments).replace(/%2F/g, '/')}`,
          headers: signed.headers,
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer).toMatchObject({ status: 403, body: expect.stringContaining('SignatureDoesNotMatch') });
  });
});

describe('fetchS3Object against moto with IAM authentication', () => {
  it.each(Object.entries(KEYS))(
    'returns the exact bytes of the %s key to the role (a session token)',
    async (_, key) => {
      await expect(fetchAs(role, at(key))).resolves.toEqual(manifest(key));
    },
  );

  it('returns the exact bytes to an IAM user (no session token)', async () => {
    await expect(fetchAs(user, at(KEYS.spacesAndUnicode))).resolves.toEqual(manifest(KEYS.spacesAndUnicode));
  });

  it('returns the version asked for, and the latest without one', async () => {
    await expect(fetchAs(role, at('versioned.yaml', firstVersion))).resolves.toEqual(Buffer.from('version: 1\n'));
    await expect(fetchAs(role, at('versioned.yaml'))).resolves.toEqual(Buffer.from('version: 2\n'));
  });

  // S3 answers 400 for a session token it cannot read, 403 for the others.
  it.each<[string, (good: Credentials) => Credentials, string]>([
    [
      'a wrong secret key',
      (good) => ({ ...good, secretAccessKey: `${good.secretAccessKey}x` }),
      '403 SignatureDoesNotMatch',
    ],
    [
      'an access key moto never issued',
      (good) => ({ ...good, accessKeyId: 'AKIAAAAAAAAAAAAAAAAA' }),
      '403 InvalidAccessKeyId',
    ],
    ['a wrong session token', (good) => ({ ...good, sessionToken: `${good.sessionToken ?? ''}x` }), '400 InvalidToken'],
  ])("is refused with %s, naming S3's code, never the credentials", async (_, spoil, code) => {
    const credentials = spoil(role);
    const error = await thrownBy(fetchAs(credentials, at(KEYS.plain)));
    expect(error).toBeInstanceOf(ManifestFetchError);
    expect(error.message).toMatch(
      new RegExp(
        `^could not read s3://manifests/app.yaml: S3 answered ${code}: .*S3 does not accept the function's credentials`,
      ),
    );
    expect(error.message).not.toContain(credentials.secretAccessKey);
    expect(error.message).not.toContain(credentials.sessionToken ?? '\u0000');
    expect(error.message).not.toMatch(/[0-9a-f]{64}/);
  });

  it('names NoSuchKey for a key that does not exist', async () => {
    const error = await thrownBy(fetchAs(role, at('dir/missing.yaml')));
    expect(error).toBeInstanceOf(ManifestFetchError);
    expect(error.message).toMatch(
      /^could not read s3:\/\/manifests\/dir\/missing\.yaml: S3 answered 404 NoSuchKey: .*Bucket "manifests" has no object with key "dir\/missing\.yaml"; check the URL/,
    );
  });

  it('names NoSuchBucket for a bucket that does not exist', async () => {
    const error = await thrownBy(fetchAs(role, { bucket: 'no-such-bucket', key: 'app.yaml', versionId: undefined }));
    expect(error).toBeInstanceOf(ManifestFetchError);
    expect(error.message).toMatch(
      /S3 answered 404 NoSuchBucket: .*There is no bucket "no-such-bucket"; check the URL\.$/,
    );
  });

  it('names AccessDenied and s3:GetObject for an identity without it', async () => {
    const error = await thrownBy(fetchAs(nobody, at(KEYS.plain)));
    expect(error).toBeInstanceOf(ManifestFetchError);
    expect(error.message).toMatch(
      /^could not read s3:\/\/manifests\/app\.yaml: S3 answered 403 AccessDenied: Access Denied\. The function's role needs s3:GetObject on arn:aws:s3:::manifests\/app\.yaml \(the template's ManifestBucket parameter grants it/,
    );
  });

  it('names s3:GetObjectVersion for a version asked without it', async () => {
    await expect(fetchAs(latestOnly, at('versioned.yaml'))).resolves.toEqual(Buffer.from('version: 2\n'));
    const error = await thrownBy(fetchAs(latestOnly, at('versioned.yaml', firstVersion)));
    expect(error).toBeInstanceOf(ManifestFetchError);
    expect(error.message).toMatch(/S3 answered 403 AccessDenied: .*needs s3:GetObject and s3:GetObjectVersion on/);
  });

  it('refuses an object larger than maxBytes with InvalidManifestError', async () => {
    const error = await thrownBy(fetchAs(role, at('large.yaml')));
    expect(error).toBeInstanceOf(InvalidManifestError);
    expect(error.message).toBe(
      `s3://manifests/large.yaml is ${MAX_BYTES + 1} bytes, more than the ${MAX_BYTES} bytes the function reads of a ` +
        'manifest; split it, or make it smaller',
    );
    await expect(fetchAs(role, at('large.yaml'), MAX_BYTES + 1)).resolves.toHaveLength(MAX_BYTES + 1);
  });
});
