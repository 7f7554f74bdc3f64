import { describe, expect, it } from '@jest/globals';
import { mintEksToken } from '../../../src/aws/token.js';
import { awsCliToken } from '../../support/aws-cli.js';
import { verifyEksToken } from '../../support/eks-token-verifier.js';

const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
// Session tokens carry +, / and =, which the URL must percent-encode.
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+test/token==';
const FROZEN = '2026-01-01 00:00:00';
const FROZEN_DATE = new Date('2026-01-01T00:00:00Z');

const cases = ['us-east-1', 'us-west-2', 'eu-west-1', 'cn-north-1', 'us-gov-west-1', 'eusc-de-east-1'].flatMap(
  (region) => [
    { region, session: 'without', sessionToken: undefined },
    { region, session: 'with', sessionToken: SESSION_TOKEN },
  ],
);

function decode(token: string): URL {
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
}

describe('mintEksToken against the AWS CLI', () => {
  it.each(cases)(
    'is byte-identical to aws eks get-token in $region, $session a session token',
    async ({ region, sessionToken }) => {
      const credentials = sessionToken
        ? { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken }
        : { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
      const [ours, cli] = await Promise.all([
        mintEksToken({ credentials, region, clusterName: 'demo-cluster', signingDate: FROZEN_DATE }),
        awsCliToken({
          clusterName: 'demo-cluster',
          region,
          accessKeyId: ACCESS_KEY_ID,
          secretAccessKey: SECRET_ACCESS_KEY,
          frozenTime: FROZEN,
          ...(sessionToken ? { sessionToken } : {}),
        }),
      ]);

      const [ourUrl, cliUrl] = [decode(ours), decode(cli)];
      expect(ourUrl.host).toBe(cliUrl.host);
      expect(Object.fromEntries(ourUrl.searchParams)).toEqual(Object.fromEntries(cliUrl.searchParams));
      expect(ours).toBe(cli);
    },
  );
});

describe('mintEksToken output', () => {
  const input = {
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SESSION_TOKEN },
    region: 'us-west-2',
    clusterName: 'demo-cluster',
    signingDate: FROZEN_DATE,
  };
  const settings = {
    clusterName: 'demo-cluster',
    partition: 'aws' as const,
    now: FROZEN_DATE.getTime(),
    secretFor: (id: string) => (id === ACCESS_KEY_ID ? SECRET_ACCESS_KEY : undefined),
  };

  it('passes every check of the EKS authenticator', async () => {
    const verdict = verifyEksToken(await mintEksToken(input), settings);
    expect(verdict).toEqual({ ok: true, accessKeyId: ACCESS_KEY_ID, sessionToken: SESSION_TOKEN });
  });

  it('is rejected by a cluster of another name', async () => {
    const verdict = verifyEksToken(await mintEksToken(input), { ...settings, clusterName: 'other-cluster' });
    expect(verdict).toEqual({ ok: false, reason: 'STS: SignatureDoesNotMatch' });
  });

  it('carries no session token parameter when the credentials have none', async () => {
    const { sessionToken: _omitted, ...longTerm } = input.credentials;
    const url = decode(await mintEksToken({ ...input, credentials: longTerm }));
    expect(url.searchParams.has('X-Amz-Security-Token')).toBe(false);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
  });
});
