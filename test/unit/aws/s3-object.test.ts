import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fetchS3Object, parseS3Url, signS3Get, type S3Location } from '../../../src/aws/s3-object.js';
import {
  ConfigurationError,
  InvalidEventError,
  InvalidManifestError,
  ManifestFetchError,
} from '../../../src/errors.js';
import { requirePythonModules, requireTool } from '../../support/tools.js';

const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+test/token==';
const SIGNING_DATE = new Date('2026-01-01T00:00:00Z');
const AMZ_DATE = '20260101T000000Z';
/** SHA-256 of the empty body, which a GET signs as its payload. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('parseS3Url', () => {
  it.each<[string, S3Location]>([
    ['s3://manifests/app.yaml', { bucket: 'manifests', key: 'app.yaml', versionId: undefined }],
    [
      's3://my.bucket-1/dir/sub dir/ünï ✓.yaml',
      { bucket: 'my.bucket-1', key: 'dir/sub dir/ünï ✓.yaml', versionId: undefined },
    ],
    [
      's3://manifests/app.yaml?versionId=3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo',
      {
        bucket: 'manifests',
        key: 'app.yaml',
        versionId: '3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo',
      },
    ],
    ['s3://manifests/app.yaml?versionId=null', { bucket: 'manifests', key: 'app.yaml', versionId: 'null' }],
    // A "?" belongs to the key unless it starts the ?versionId= at the end; percent-escapes are kept as written.
    ['s3://manifests/what?.yaml', { bucket: 'manifests', key: 'what?.yaml', versionId: undefined }],
    ['s3://manifests/a%20b.yaml', { bucket: 'manifests', key: 'a%20b.yaml', versionId: undefined }],
    ['s3://manifests//lead/../x', { bucket: 'manifests', key: '/lead/../x', versionId: undefined }],
  ])('parses %s', (url, expected) => {
    expect(parseS3Url(url, 'manifestUrl')).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    [
      'not s3://',
      'https://manifests.s3.amazonaws.com/app.yaml',
      /is not an s3:\/\/ URL; write it as s3:\/\/<bucket>\/<key>/,
    ],
    ['not s3:// (upper case)', 'S3://manifests/app.yaml', /is not an s3:\/\/ URL/],
    ['a bare key', 'app.yaml', /is not an s3:\/\/ URL/],
    ['no key', 's3://manifests', /names no object in bucket "manifests"/],
    ['an empty key', 's3://manifests/', /names no object in bucket "manifests"/],
    ['a folder', 's3://manifests/dir/', /it names a folder, not an object/],
    ['an empty bucket', 's3:///app.yaml', /names no bucket/],
    ['nothing at all', 's3://', /names no bucket/],
    ['an upper-case bucket', 's3://Manifests/app.yaml', /"Manifests" in .* is not an S3 bucket name/],
    ['a too-short bucket', 's3://ab/app.yaml', /"ab" in .* is not an S3 bucket name/],
    ['a bucket with ..', 's3://my..bucket/app.yaml', /is not an S3 bucket name/],
    ['an IP address as bucket', 's3://192.168.0.1/app.yaml', /is not an S3 bucket name/],
    [
      'an access point ARN',
      's3://arn:aws:s3:us-east-1:123456789012:accesspoint/ap/app.yaml',
      /is not an S3 bucket name/,
    ],
    ['an empty versionId', 's3://manifests/app.yaml?versionId=', /has an empty versionId/],
    ['a versionId with a space', 's3://manifests/app.yaml?versionId=a b', /is not an S3 version id/],
    ['a key over 1024 bytes', `s3://manifests/${'é'.repeat(513)}`, /longer than S3's 1024 bytes/],
    ['a lone surrogate in the key', 's3://manifests/\ud800.yaml', /is not valid Unicode/],
  ])('refuses %s, naming the field', (_, url, message) => {
    let thrown: unknown;
    try {
      parseS3Url(url, 'manifestUrl');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidEventError);
    expect(thrown).toMatchObject({ field: 'manifestUrl', message: expect.stringMatching(/^manifestUrl: /) });
    expect((thrown as Error).message).toMatch(message);
  });
});

/** A signing case: the object, where it is asked (the URL up to the key, as the rules of signS3Get place it), and
 * with which credentials. */
interface SigningCase {
  readonly name: string;
  readonly location: S3Location;
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly sessionToken: string | undefined;
  /** The URL before the encoded key: virtual-hosted, or path-style with the bucket. */
  readonly urlPrefix: string;
}

const SIGNING_CASES: readonly SigningCase[] = [
  {
    name: 'virtual-hosted, a plain key',
    location: { bucket: 'manifests', key: 'app.yaml', versionId: undefined },
    region: 'us-west-2',
    endpoint: undefined,
    sessionToken: undefined,
    urlPrefix: 'https://manifests.s3.us-west-2.amazonaws.com/',
  },
  {
    name: 'virtual-hosted, a session token, a key with spaces, Unicode and reserved characters, a versionId',
    location: {
      bucket: 'manifests',
      key: "dir/sub dir/ünï ✓ !'()*+,;=:@&$~_.-x.yaml",
      versionId: '3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo',
    },
    region: 'eu-central-1',
    endpoint: undefined,
    sessionToken: SESSION_TOKEN,
    urlPrefix: 'https://manifests.s3.eu-central-1.amazonaws.com/',
  },
  {
    name: 'path-style for a bucket with dots',
    location: { bucket: 'my.manifests', key: 'a//b/./c/../d.yaml', versionId: undefined },
    region: 'eu-west-1',
    endpoint: undefined,
    sessionToken: SESSION_TOKEN,
    urlPrefix: 'https://s3.eu-west-1.amazonaws.com/my.manifests/',
  },
  {
    name: "the China partition's DNS suffix",
    location: { bucket: 'manifests', key: 'app.yaml', versionId: 'null' },
    region: 'cn-north-1',
    endpoint: undefined,
    sessionToken: undefined,
    urlPrefix: 'https://manifests.s3.cn-north-1.amazonaws.com.cn/',
  },
  {
    name: 'path-style at AWS_ENDPOINT_URL_S3, with its port',
    location: { bucket: 'manifests', key: 'with space.yaml', versionId: undefined },
    region: 'us-west-2',
    endpoint: 'http://127.0.0.1:9000',
    sessionToken: SESSION_TOKEN,
    urlPrefix: 'http://127.0.0.1:9000/manifests/',
  },
  {
    name: 'path-style at an endpoint with a base path and the default port',
    location: { bucket: 'manifests', key: 'app.yaml', versionId: undefined },
    region: 'us-east-1',
    endpoint: 'https://s3proxy.example.com:443/base/',
    sessionToken: undefined,
    urlPrefix: 'https://s3proxy.example.com/base/manifests/',
  },
  {
    name: 'path-style at an IPv6 endpoint',
    location: { bucket: 'manifests', key: 'app.yaml', versionId: undefined },
    region: 'us-east-1',
    endpoint: 'http://[::1]:9000',
    sessionToken: undefined,
    urlPrefix: 'http://[::1]:9000/manifests/',
  },
];

/** botocore's S3 signer (S3SigV4Auth, as the AWS CLI signs S3 requests), given each case's URL up to the key: the key
 * encoded as botocore's REST serializer puts S3's {Key+} in a path, the versionId as a query parameter, the headers
 * x-amz-date, x-amz-content-sha256 (the empty body's) and x-amz-security-token; returns the URL and Authorization. */
const BOTOCORE_SIGNER = `
import json, sys
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence

answers = []
for case in json.load(sys.stdin):
    url = case["urlPrefix"] + percent_encode(case["key"], safe="/~")
    params = {"versionId": case["versionId"]} if case["versionId"] is not None else {}
    headers = {"X-Amz-Date": case["amzDate"], "X-Amz-Content-SHA256": case["payloadHash"]}
    if case["sessionToken"] is not None:
        headers["X-Amz-Security-Token"] = case["sessionToken"]
    request = AWSRequest(method="GET", url=url, params=params, headers=headers)
    request.context["timestamp"] = case["amzDate"]
    credentials = Credentials(case["accessKeyId"], case["secretAccessKey"], case["sessionToken"])
    auth = S3SigV4Auth(credentials, "s3", case["region"])
    signature = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    auth._inject_signature_to_request(request, signature)
    query = "?" + percent_encode_sequence(params) if params else ""
    answers.append({"url": url + query, "authorization": request.headers["Authorization"]})
print(json.dumps(answers))
`;

function botocoreSignatures(cases: readonly SigningCase[]): { url: string; authorization: string }[] {
  const python = requireTool('python3');
  requirePythonModules('botocore');
  const input = cases.map((signingCase) => ({
    urlPrefix: signingCase.urlPrefix,
    key: signingCase.location.key,
    versionId: signingCase.location.versionId ?? null,
    region: signingCase.region,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    sessionToken: signingCase.sessionToken ?? null,
    amzDate: AMZ_DATE,
    payloadHash: EMPTY_SHA256,
  }));
  const output = execFileSync(python, ['-c', BOTOCORE_SIGNER], { input: JSON.stringify(input), encoding: 'utf8' });
  return JSON.parse(output) as { url: string; authorization: string }[];
}

describe('signS3Get against botocore', () => {
  const expected = botocoreSignatures(SIGNING_CASES);

  it.each(SIGNING_CASES.map((signingCase, index) => ({ ...signingCase, index })))(
    'signs as botocore does: $name',
    async ({ location, region, endpoint, sessionToken, index }) => {
      const credentials =
        sessionToken === undefined
          ? { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }
          : { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken };

      const signed = await signS3Get(location, { credentials, region, endpoint }, SIGNING_DATE);

      const host = signed.hostname.includes(':') ? `[${signed.hostname}]` : signed.hostname;
      const url = `${signed.protocol}//${host}${signed.port === undefined ? '' : `:${signed.port}`}${signed.path}`;
      expect(url).toBe(expected[index]?.url);
      expect(signed.headers['authorization']).toBe(expected[index]?.authorization);
      expect(signed.headers).toMatchObject({
        'x-amz-date': AMZ_DATE,
        'x-amz-content-sha256': EMPTY_SHA256,
        ...(sessionToken === undefined ? {} : { 'x-amz-security-token': sessionToken }),
      });
      if (sessionToken === undefined) {
        expect(signed.headers).not.toHaveProperty('x-amz-security-token');
      }
    },
  );

  it('refuses an endpoint that is not an http(s) URL, naming AWS_ENDPOINT_URL_S3', async () => {
    const location = { bucket: 'manifests', key: 'app.yaml', versionId: undefined };
    const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
    for (const endpoint of ['localhost:9000', 'ftp://127.0.0.1', 'http://user:pass@127.0.0.1:9000']) {
      await expect(signS3Get(location, { credentials, region: 'us-west-2', endpoint }, SIGNING_DATE)).rejects.toThrow(
        ConfigurationError,
      );
      await expect(
        signS3Get(location, { credentials, region: 'us-west-2', endpoint }, SIGNING_DATE),
      ).rejects.toMatchObject({ variable: 'AWS_ENDPOINT_URL_S3' });
    }
  });
});

/** A local stand-in for S3: each request is answered by the next handler (the last one repeats). */
class FakeS3 {
  readonly requests: IncomingMessage[] = [];
  private handlers: ((req: IncomingMessage, res: ServerResponse) => void)[] = [];
  private readonly server: Server = createServer((req, res) => {
    this.requests.push(req);
    const handler = this.handlers.length > 1 ? this.handlers.shift() : this.handlers[0];
    if (handler === undefined) {
      res.writeHead(500).end();
      return;
    }
    handler(req, res);
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  answer(...handlers: ((req: IncomingMessage, res: ServerResponse) => void)[]): void {
    this.handlers = handlers;
    this.requests.length = 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function s3Error(status: number, code: string, message: string, extra = '', headers: Record<string, string> = {}) {
  return (_: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(status, { 'content-type': 'application/xml', ...headers });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}` +
        '<RequestId>4442587FB7D0A2F9</RequestId></Error>',
    );
  };
}

function body(content: Buffer | string, chunked = false) {
  return (_: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, chunked ? {} : { 'content-length': Buffer.byteLength(content) });
    res.end(content);
  };
}

describe('fetchS3Object against a local stand-in for S3', () => {
  const fake = new FakeS3();
  const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SESSION_TOKEN };
  const location: S3Location = { bucket: 'manifests', key: 'dir/app.yaml', versionId: undefined };
  const fetchIt = (options: { maxBytes?: number; deadlineMs?: number; endpoint?: string } = {}) =>
    fetchS3Object(location, {
      credentials,
      region: 'us-west-2',
      maxBytes: options.maxBytes ?? 1024,
      deadline: Date.now() + (options.deadlineMs ?? 10_000),
      endpoint: options.endpoint ?? fake.url,
    });
  const thrownBy = async (promise: Promise<unknown>): Promise<Error> => {
    try {
      await promise;
    } catch (error) {
      return error as Error;
    }
    throw new Error('it did not throw');
  };
  const expectNoSecrets = (message: string): void => {
    expect(message).not.toContain(SECRET_ACCESS_KEY);
    expect(message).not.toContain(SESSION_TOKEN);
    expect(message).not.toMatch(/[0-9a-f]{64}/);
  };

  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  it('returns the bytes of one signed GET, path-style at the endpoint', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 0xc3, 0xbc]);
    fake.answer(body(bytes));
    await expect(fetchIt()).resolves.toEqual(bytes);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'GET',
      url: '/manifests/dir/app.yaml',
      headers: expect.objectContaining({
        host: new URL(fake.url).host,
        'x-amz-security-token': SESSION_TOKEN,
        'x-amz-content-sha256': EMPTY_SHA256,
        authorization: expect.stringMatching(
          /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/us-west-2\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
        ),
      }),
    });
  });

  it('reads an object of exactly maxBytes, and refuses one byte more by Content-Length, before its body', async () => {
    fake.answer(body('x'.repeat(1024)));
    await expect(fetchIt()).resolves.toHaveLength(1024);
    fake.answer(body('x'.repeat(1025)));
    const error = await thrownBy(fetchIt());
    expect(error).toBeInstanceOf(InvalidManifestError);
    expect(error.message).toBe(
      's3://manifests/dir/app.yaml is 1025 bytes, more than the 1024 bytes the function reads of a manifest; split ' +
        'it, or make it smaller',
    );
    expect(fake.requests).toHaveLength(1);
  });

  it('stops reading a body without Content-Length once it passes maxBytes', async () => {
    fake.answer((_, res) => {
      res.writeHead(200);
      res.write('x'.repeat(1000));
      // The rest would never come: the function must not wait for it.
      setTimeout(() => res.write('x'.repeat(100)), 10);
    });
    const error = await thrownBy(fetchIt({ deadlineMs: 5000 }));
    expect(error).toBeInstanceOf(InvalidManifestError);
    expect(error.message).toMatch(/is more than the 1024 bytes the function reads/);
  });

  it('asks again after a 503, and returns the object', async () => {
    fake.answer(s3Error(503, 'SlowDown', 'Please reduce your request rate.'), body('ok'));
    await expect(fetchIt()).resolves.toEqual(Buffer.from('ok'));
    expect(fake.requests).toHaveLength(2);
  });

  it('gives up after three attempts at a failing S3, with its Code and Message', async () => {
    fake.answer(s3Error(500, 'InternalError', 'We encountered an internal error. Please try again.'));
    const error = await thrownBy(fetchIt());
    expect(error).toBeInstanceOf(ManifestFetchError);
    expect(error.message).toBe(
      'could not read s3://manifests/dir/app.yaml: S3 answered 500 InternalError: We encountered an internal error. ' +
        'Please try again (after 3 attempts). S3 may be busy or failing; invoke again.',
    );
    expect(fake.requests).toHaveLength(3);
  });

  it('does not ask again after a 403, and says what the role needs, never quoting a credential', async () => {
    // S3's SignatureDoesNotMatch document quotes the canonical request, which holds the session token.
    const echo =
      `<AWSAccessKeyId>${ACCESS_KEY_ID}</AWSAccessKeyId><CanonicalRequest>GET\n/x\n\nx-amz-security-token:` +
      `${SESSION_TOKEN}</CanonicalRequest><SignatureProvided>${'a'.repeat(64)}</SignatureProvided>`;
    fake.answer(s3Error(403, 'AccessDenied', 'Access Denied', echo));
    const denied = await thrownBy(fetchIt());
    expect(denied).toBeInstanceOf(ManifestFetchError);
    expect(denied.message).toBe(
      "could not read s3://manifests/dir/app.yaml: S3 answered 403 AccessDenied: Access Denied. The function's role " +
        "needs s3:GetObject on arn:aws:s3:::manifests/dir/app.yaml (the template's ManifestBucket parameter grants it " +
        "on that bucket), and for an object encrypted with SSE-KMS, kms:Decrypt on the object's KMS key. S3 also " +
        'answers 403 for an object that does not exist when the role may not s3:ListBucket the bucket, so check the ' +
        'URL too.',
    );
    expect(fake.requests).toHaveLength(1);

    fake.answer(
      s3Error(
        403,
        'SignatureDoesNotMatch',
        `The request signature we calculated does not match the signature you provided. ${SESSION_TOKEN} ` +
          `${SECRET_ACCESS_KEY} Signature=${'b'.repeat(64)}`,
        echo,
      ),
    );
    const refused = await thrownBy(fetchIt());
    expect(refused.message).toMatch(/S3 answered 403 SignatureDoesNotMatch: The request signature we calculated/);
    expect(refused.message).toMatch(/S3 does not accept the function's credentials/);
    expectNoSecrets(refused.message);
  });

  it('names NoSuchKey and NoSuchBucket with what to check', async () => {
    fake.answer(s3Error(404, 'NoSuchKey', 'The specified key does not exist.'));
    const missing = await thrownBy(fetchIt());
    expect(missing).toBeInstanceOf(ManifestFetchError);
    expect(missing.message).toBe(
      'could not read s3://manifests/dir/app.yaml: S3 answered 404 NoSuchKey: The specified key does not exist. ' +
        'Bucket "manifests" has no object with key "dir/app.yaml"; check the URL (keys are case-sensitive, and an ' +
        's3:// URL holds the key as it is, not URL-encoded).',
    );
    fake.answer(s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist'));
    expect((await thrownBy(fetchIt())).message).toMatch(
      /S3 answered 404 NoSuchBucket: The specified bucket does not exist\. There is no bucket "manifests"; check the URL\.$/,
    );
    expect(fake.requests).toHaveLength(1);
  });

  it('signs again for the region S3 names when the bucket is elsewhere', async () => {
    fake.answer(
      s3Error(
        301,
        'PermanentRedirect',
        'The bucket you are attempting to access must be addressed using the specified endpoint.',
        '',
        {
          'x-amz-bucket-region': 'eu-west-1',
        },
      ),
      body('moved'),
    );
    await expect(fetchIt()).resolves.toEqual(Buffer.from('moved'));
    expect(
      fake.requests.map((request) => /\/\d{8}\/([a-z0-9-]+)\/s3\//.exec(request.headers.authorization ?? '')?.[1]),
    ).toEqual(['us-west-2', 'eu-west-1']);
  });

  it('reports a network failure with the route to check, after asking again', async () => {
    const closed = new FakeS3();
    await closed.start();
    const endpoint = closed.url;
    await closed.stop();
    const error = await thrownBy(fetchIt({ endpoint }));
    expect(error).toBeInstanceOf(ManifestFetchError);
    expect(error.message).toMatch(
      new RegExp(
        `^could not read s3://manifests/dir/app.yaml: S3 at ${new URL(endpoint).host} could not be reached ` +
          "\\(ECONNREFUSED: .*\\) \\(after 3 attempts\\)\\. Check the function's route to S3: a function in a VPC needs",
      ),
    );
  });

  it('gives up at the deadline when S3 does not answer', async () => {
    fake.answer(() => {
      // Never answers.
    });
    const started = Date.now();
    const error = await thrownBy(fetchIt({ deadlineMs: 600 }));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(error).toBeInstanceOf(ManifestFetchError);
    expect(error.message).toMatch(/could not be reached \(ETIMEDOUT: no complete answer within \d+ ms\)/);
  });

  it('starts nothing when the deadline has passed', async () => {
    fake.answer(body('never asked'));
    const error = await thrownBy(fetchIt({ deadlineMs: -1 }));
    expect(error).toBeInstanceOf(ManifestFetchError);
    expect(error.message).toMatch(/^no time was left to read s3:\/\/manifests\/dir\/app.yaml/);
    expect(fake.requests).toHaveLength(0);
  });
});
