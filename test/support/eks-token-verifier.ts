// An EKS token verifier written from the authenticator's rules (kubernetes-sigs/aws-iam-authenticator,
// pkg/token/token.go, Verify), independent of src/: it parses the token as the server does and recomputes the SigV4
// signature with node:crypto, as STS would.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-eusc';

export interface VerifierSettings {
  /** The server's own cluster name: what it puts in x-k8s-aws-id when it replays the URL to STS. */
  readonly clusterName: string;
  readonly partition: Partition;
  /** Epoch ms. */
  readonly now: number;
  /** The secret key for an access key id, as STS knows it; undefined for an unknown key. */
  readonly secretFor: (accessKeyId: string) => string | undefined;
}

export type Verdict =
  | { readonly ok: true; readonly accessKeyId: string; readonly sessionToken: string | undefined }
  | { readonly ok: false; readonly reason: string };

const ALLOWED_PARAMS = [
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-signedheaders',
  'x-amz-security-token',
  'x-amz-signature',
];

const HOSTS: Record<Partition, RegExp> = {
  aws: /^sts(\.(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d)?\.amazonaws\.com$/,
  'aws-cn': /^sts\.cn-[a-z]+-\d\.amazonaws\.com\.cn$/,
  'aws-us-gov': /^sts\.us-gov-[a-z]+-\d\.amazonaws\.com$/,
  'aws-eusc': /^sts\.eusc-de-[a-z]+-\d\.amazonaws\.eu$/,
};

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

/** Applies the authenticator's checks in its order, then the signature check STS makes. */
export function verifyEksToken(token: string, settings: VerifierSettings): Verdict {
  const fail = (reason: string): Verdict => ({ ok: false, reason });
  if (token.length > 4096) return fail('token is longer than 4096 characters');
  if (!token.startsWith('k8s-aws-v1.')) return fail('token has no k8s-aws-v1. prefix');
  const encoded = token.slice('k8s-aws-v1.'.length);
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return fail('token is not unpadded base64url');
  const rawUrl = Buffer.from(encoded, 'base64url').toString('utf8');
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return fail('token does not decode to a URL');
  }
  if (url.protocol !== 'https:') return fail('URL scheme is not https');
  if (!HOSTS[settings.partition].test(url.host))
    return fail(`host ${url.host} is not an STS host of ${settings.partition}`);
  const afterScheme = rawUrl.slice('https://'.length);
  const hostEnd = afterScheme.search(/[/?#]/);
  const rawPath = hostEnd < 0 || afterScheme[hostEnd] !== '/' ? '' : afterScheme.slice(hostEnd).split(/[?#]/)[0];
  if (rawPath !== '/') return fail(`path is "${rawPath}", not "/"`);
  const rawQuery = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1) : '';
  if (rawQuery.includes(';')) return fail('query contains a raw ";"');
  const params = new Map<string, { name: string; value: string }>();
  for (const pair of rawQuery.split('&')) {
    const eq = pair.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      value = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
    } catch {
      return fail('query does not parse');
    }
    const lower = name.toLowerCase();
    if (params.has(lower)) return fail(`parameter ${name} appears twice`);
    if (!ALLOWED_PARAMS.includes(lower)) return fail(`parameter ${name} is not allowed`);
    params.set(lower, { name, value });
  }
  const get = (name: string): string | undefined => params.get(name)?.value;
  if (get('action') !== 'GetCallerIdentity') return fail('Action is not GetCallerIdentity');
  const signedHeaders = (get('x-amz-signedheaders') ?? '').split(';');
  if (!signedHeaders.includes('x-k8s-aws-id')) return fail('x-k8s-aws-id is not a signed header');
  const expires = get('x-amz-expires');
  if (expires === undefined || !/^\d+$/.test(expires) || Number(expires) > 900)
    return fail('X-Amz-Expires missing or out of 0..900');
  const date = get('x-amz-date');
  const match = date === undefined ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!match) return fail('X-Amz-Date missing or malformed');
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match.slice(1).map(Number);
  const signedAt = Date.UTC(year, month - 1, day, hour, minute, second);
  if (settings.now - signedAt > 15 * 60 * 1000) return fail('token expired: X-Amz-Date is more than 15 minutes old');
  return checkSignature(url.host, params, signedHeaders, settings);
}

/** STS's side: recompute the signature over the URL with only the headers the server sends (x-k8s-aws-id = its own
 * cluster name, and host). */
function checkSignature(
  host: string,
  params: Map<string, { name: string; value: string }>,
  signedHeaders: string[],
  settings: VerifierSettings,
): Verdict {
  const fail = (reason: string): Verdict => ({ ok: false, reason });
  const credential = params.get('x-amz-credential')?.value.split('/') ?? [];
  const [accessKeyId, day, region, service, terminator] = credential;
  if (!accessKeyId || !day || !region || service !== 'sts' || terminator !== 'aws4_request')
    return fail('bad X-Amz-Credential');
  const secret = settings.secretFor(accessKeyId);
  if (secret === undefined) return fail('STS: the access key id is unknown');
  const headerValues: Record<string, string> = { host, 'x-k8s-aws-id': settings.clusterName };
  if (signedHeaders.some((name) => !(name in headerValues)))
    return fail('STS: a signed header is not sent by the server');
  const canonicalQuery = [...params.values()]
    .filter(({ name }) => name !== 'X-Amz-Signature')
    .map(({ name, value }) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headerValues[name]}\n`).join('');
  const canonicalRequest = ['GET', '/', canonicalQuery, canonicalHeaders, signedHeaders.join(';'), EMPTY_SHA256].join(
    '\n',
  );
  const amzDate = params.get('x-amz-date')?.value ?? '';
  const scope = `${day}/${region}/sts/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(day).digest();
  for (const part of [region, 'sts', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'));
  const given = Buffer.from(params.get('x-amz-signature')?.value ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return fail('STS: SignatureDoesNotMatch');
  }
  return { ok: true, accessKeyId, sessionToken: params.get('x-amz-security-token')?.value };
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
