import { beforeAll, describe, expect, it } from '@jest/globals';
import { mintEksToken } from '../../../src/aws/token.js';
import { verifyEksToken, type VerifierSettings } from '../../support/eks-token-verifier.js';

// Mutations that aws-iam-authenticator's Verify (pkg/token/token.go) rejects: a correct verifier rejects each, and
// accepts the unmutated token.
const SIGNED_AT = new Date('2026-03-01T12:00:00Z');
const settings: VerifierSettings = {
  clusterName: 'prod',
  partition: 'aws',
  now: SIGNED_AT.getTime() + 60_000,
  secretFor: (id) => (id === 'AKIDRULES' ? 'secret-for-rules' : undefined),
};

const encode = (raw: string): string => `k8s-aws-v1.${Buffer.from(raw).toString('base64url')}`;
const swap = (from: string | RegExp, to: string) => (_token: string, url: string) => encode(url.replace(from, to));
const same = (token: string): string => token;

// Every row has three cells: jest 30 hangs on an it.each table whose rows differ in length.
type Mutation = [string, (token: string, url: string) => string, Partial<VerifierSettings>];
const mutations: Mutation[] = [
  ['padded base64', (token) => `${token}${'='.repeat((4 - ((token.length - 11) % 4)) % 4 || 2)}`, {}],
  [
    'the standard base64 alphabet',
    (_token, url) => `k8s-aws-v1.${Buffer.from(url).toString('base64').replace(/=+$/, '')}`,
    {},
  ],
  ['a raw ";" in the query', swap('host%3Bx-k8s-aws-id', 'host;x-k8s-aws-id'), {}],
  ['SignedHeaders=host only', swap('host%3Bx-k8s-aws-id', 'host'), {}],
  ['no X-Amz-Expires', swap('&X-Amz-Expires=60', ''), {}],
  ['X-Amz-Expires=901', swap('X-Amz-Expires=60', 'X-Amz-Expires=901'), {}],
  ['an extra parameter', (_token, url) => encode(`${url}&X-Amz-User-Agent=aws-cli`), {}],
  [
    'a duplicate parameter',
    swap('?Action=GetCallerIdentity', '?Action=GetCallerIdentity&action=GetCallerIdentity'),
    {},
  ],
  ['an empty path', swap('.amazonaws.com/?', '.amazonaws.com?'), {}],
  ['http', swap('https://', 'http://'), {}],
  ['4097 characters', (token) => `${token}${'A'.repeat(4097 - token.length)}`, {}],
  ['a date 15 minutes and 1 second old', same, { now: SIGNED_AT.getTime() + 15 * 60_000 + 1000 }],
  ['another cluster name', same, { clusterName: 'staging' }],
  ['a wrong signature', (_token, url) => encode(url.replace(/.$/, (last) => (last === '0' ? '1' : '0'))), {}],
  ['a host outside the partition', same, { partition: 'aws-cn' }],
];

let token = '';
let url = '';

beforeAll(async () => {
  token = await mintEksToken({
    credentials: { accessKeyId: 'AKIDRULES', secretAccessKey: 'secret-for-rules', sessionToken: 'session/token+=' },
    region: 'ap-southeast-1', // puts the URL's "?" where base64 writes it as "/": the alphabet matters
    clusterName: 'prod',
    signingDate: SIGNED_AT,
  });
  url = Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8');
});

describe('the EKS authenticator rules', () => {
  it('accept the minted token as it is', () => {
    expect(verifyEksToken(token, settings).ok).toBe(true);
  });

  it('accept it up to the last second of its 15 minutes', () => {
    expect(verifyEksToken(token, { ...settings, now: SIGNED_AT.getTime() + 15 * 60_000 }).ok).toBe(true);
  });

  it.each(mutations)('reject a token with %s', (_label, mutate, override) => {
    const mutated = mutate(token, url);
    // Each row changes the token or the server's settings, never neither.
    expect(mutated !== token || Object.keys(override).length > 0).toBe(true);
    expect(verifyEksToken(mutated, { ...settings, ...override })).toMatchObject({ ok: false });
  });
});
