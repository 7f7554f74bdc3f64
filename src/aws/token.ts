import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials } from '../config.js';
import { CLUSTER_ID_HEADER, TOKEN_PREFIX, TOKEN_PRESIGN_EXPIRES_SECONDS } from '../constants.js';
import { lookUpRegion } from './regions.js';

/** What a token is minted from. `signingDate` is a value, not a clock read, so a token is reproducible. */
export interface TokenInput {
  readonly credentials: AwsCredentials;
  readonly region: string;
  readonly clusterName: string;
  readonly signingDate: Date;
}

/** The AWS CLI's parameter order. The server does not care, but in this order our token is byte-identical to
 * `aws eks get-token`, which makes the comparison in the tests exact. */
const QUERY_ORDER = [
  'Action',
  'Version',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Security-Token',
  'X-Amz-Signature',
] as const;
const ACCEPTED: ReadonlySet<string> = new Set(QUERY_ORDER);

/** SHA-256 and HMAC-SHA-256 on node:crypto, as the AWS SDK's own clients configure the signer. */
const SHA256 = Hash.bind(null, 'sha256');

/** Mints an EKS bearer token: `k8s-aws-v1.` + unpadded base64url of a presigned STS GetCallerIdentity URL with
 * `x-k8s-aws-id` signed, for the regional STS host of the AWS SDK's partition table (sts.us-east-1.amazonaws.com,
 * sts.cn-north-1.amazonaws.com.cn, sts.eusc-de-east-1.amazonaws.eu). Pure: the same input gives the same token.
 * Throws for a region the table does not list (the configuration is checked first) or if the signer misbehaves. */
export async function mintEksToken({ credentials, region, clusterName, signingDate }: TokenInput): Promise<string> {
  const hostname = lookUpRegion(region)?.stsHost;
  if (hostname === undefined) {
    throw new Error(`no STS endpoint for "${region}": it is not in the AWS SDK's partition table`);
  }
  const signer = new SignatureV4({ service: 'sts', region, credentials, sha256: SHA256, uriEscapePath: true });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_ID_HEADER]: clusterName },
    },
    { expiresIn: TOKEN_PRESIGN_EXPIRES_SECONDS, signingDate },
  );
  const presignedQuery = presigned.query ?? {};
  const unexpected = Object.keys(presignedQuery).filter((key) => !ACCEPTED.has(key));
  if (unexpected.length > 0) {
    // EKS rejects any parameter outside its list; fail here rather than mint a token that cannot work.
    throw new Error(`the SigV4 signer added query parameters EKS does not accept: ${unexpected.join(', ')}`);
  }
  const query = QUERY_ORDER.flatMap((key) => {
    const value = presignedQuery[key];
    return typeof value === 'string' ? [`${key}=${escapeUri(value)}`] : [];
  }).join('&');
  return TOKEN_PREFIX + Buffer.from(`https://${hostname}/?${query}`, 'utf8').toString('base64url');
}

/** RFC 3986 escaping, as SigV4 canonicalises query values. */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
