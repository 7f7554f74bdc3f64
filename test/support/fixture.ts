// The test identities of the local cluster: the function's IAM role as STS knows it (test credentials), and what the
// cluster's access entry maps it to; and the environment a function for that cluster has.
import type { Identity } from './control-plane/token-webhook.js';

export const CLUSTER_NAME = 'demo';
export const REGION = 'us-west-2';
export const ACCESS_KEY_ID = 'ASIAE2ETESTKEY000001';
export const SECRET_ACCESS_KEY = 'e2e/Secret+Access/Key0000000000000000000';
export const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjE2e2e//////////wEaCXVzLXdlc3QtMiJGMEQCIFakeSessionToken+AAAA==';
export const ROLE_ARN = 'arn:aws:sts::111122223333:assumed-role/lambda-eks-DeployerFunctionRole/lambda-eks';
/** The user name of an EKS access entry for an assumed role: the session's ARN. */
export const ROLE_USER = ROLE_ARN;
/** The group permissions.yml binds, and template.yml's access entry maps the role to. */
export const GROUP = 'lambda-deployers';

/** The function's role as STS and the cluster's access entry know it. */
export const FUNCTION_IDENTITY: Identity = {
  accessKeyId: ACCESS_KEY_ID,
  secretAccessKey: SECRET_ACCESS_KEY,
  sessionToken: SESSION_TOKEN,
  arn: ROLE_ARN,
  username: ROLE_USER,
  groups: [GROUP],
};

/** The same role after Lambda rotated its credentials: another key, the same user. */
export const ROTATED_IDENTITY: Identity = {
  ...FUNCTION_IDENTITY,
  accessKeyId: 'ASIAE2ETESTKEY000002',
  secretAccessKey: 'rotated/Secret+Access/Key00000000000000',
  sessionToken: 'IQoJb3JpZ2luX2VjRotatedSessionToken+BBBB==',
};

/** Another function's role in the same group, for the tests that make its token reviews fail (refuseTokenReviews):
 * no other test uses it, so that those failures hit nobody else. */
export const SPARE_IDENTITY: Identity = {
  accessKeyId: 'ASIAE2ETESTKEY000003',
  secretAccessKey: 'spare/Secret+Access/Key0000000000000000',
  sessionToken: 'IQoJb3JpZ2luX2VjSpareSessionToken+CCCC==',
  arn: 'arn:aws:sts::111122223333:assumed-role/lambda-eks-spare-DeployerFunctionRole/lambda-eks-spare',
  username: 'arn:aws:sts::111122223333:assumed-role/lambda-eks-spare-DeployerFunctionRole/lambda-eks-spare',
  groups: [GROUP],
};

/** Another function's role in a group of its own: the tests that grant rights cluster-wide (a ClusterRoleBinding)
 * grant them to this group, so that no other test's function gets them meanwhile. */
export const WIDE_GROUP = 'lambda-eks-test-cluster-wide';
export const WIDE_IDENTITY: Identity = {
  accessKeyId: 'ASIAE2ETESTKEY000004',
  secretAccessKey: 'wide/Secret+Access/Key00000000000000000',
  sessionToken: 'IQoJb3JpZ2luX2VjWideSessionToken+DDDD==',
  arn: 'arn:aws:sts::111122223333:assumed-role/lambda-eks-wide-DeployerFunctionRole/lambda-eks-wide',
  username: 'arn:aws:sts::111122223333:assumed-role/lambda-eks-wide-DeployerFunctionRole/lambda-eks-wide',
  groups: [WIDE_GROUP],
};

/** A function's role whose group the set tests bind to cluster-admin (any kind, anywhere), as CDK's provider is bound:
 * a group of its own, so that no other test's function has those rights. Least-privilege grants for sets are tested
 * with SET_GRANTS_IDENTITY. */
export const SETS_GROUP = 'lambda-eks-test-sets';
export const SETS_IDENTITY: Identity = {
  accessKeyId: 'ASIAE2ETESTKEY000005',
  secretAccessKey: 'sets/Secret+Access/Key00000000000000000',
  sessionToken: 'IQoJb3JpZ2luX2VjSetsSessionToken+EEEE==',
  arn: 'arn:aws:sts::111122223333:assumed-role/lambda-eks-sets-DeployerFunctionRole/lambda-eks-sets',
  username: 'arn:aws:sts::111122223333:assumed-role/lambda-eks-sets-DeployerFunctionRole/lambda-eks-sets',
  groups: [SETS_GROUP],
};

/** A function's role in a group of its own, for the tests of the grants npm run grants makes: they bind rights
 * cluster-wide (for namespaces a set creates), which no other test's function may get. */
export const SET_GRANTS_GROUP = 'lambda-eks-test-set-grants';
export const SET_GRANTS_IDENTITY: Identity = {
  accessKeyId: 'ASIAE2ETESTKEY000006',
  secretAccessKey: 'grants/Secret+Access/Key000000000000000',
  sessionToken: 'IQoJb3JpZ2luX2VjGrantsSessionToken+FFFF==',
  arn: 'arn:aws:sts::111122223333:assumed-role/lambda-eks-grants-DeployerFunctionRole/lambda-eks-grants',
  username: 'arn:aws:sts::111122223333:assumed-role/lambda-eks-grants-DeployerFunctionRole/lambda-eks-grants',
  groups: [SET_GRANTS_GROUP],
};
/** Every identity the local cluster's token webhook knows. */
export const IDENTITIES: readonly Identity[] = [
  FUNCTION_IDENTITY,
  ROTATED_IDENTITY,
  SPARE_IDENTITY,
  WIDE_IDENTITY,
  SETS_IDENTITY,
  SET_GRANTS_IDENTITY,
];

/** Every secret of the test identities: none may appear in what the function writes or returns. */
export const IDENTITY_SECRETS: readonly string[] = IDENTITIES.flatMap((identity) => [
  identity.secretAccessKey,
  identity.sessionToken ?? '',
]);

/** The environment of a function for the local cluster, configured with its endpoint and CA. */
export function functionEnv(
  endpoint: string,
  caData: string,
  identity: Identity = FUNCTION_IDENTITY,
): Record<string, string> {
  return {
    CLUSTER_NAME,
    CLUSTER_ENDPOINT: endpoint,
    CLUSTER_CA_DATA: caData,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: identity.accessKeyId,
    AWS_SECRET_ACCESS_KEY: identity.secretAccessKey,
    AWS_SESSION_TOKEN: identity.sessionToken ?? '',
  };
}
