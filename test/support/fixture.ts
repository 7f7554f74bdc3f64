// The test bed most end-to-end tests share: a PKI, a stand-in API server for cluster "demo" and the environment a
// Lambda function for it would have.
import { KubeApiStandIn, type Identity, type RbacRule, type StandInOptions, type Verb } from './kube-apiserver.js';
import { makeTestPki, type TestPki } from './pki.js';
import { recordSecrets } from './run-record.js';

export const CLUSTER_NAME = 'demo';
export const ACCESS_KEY_ID = 'ASIAE2ETESTKEY000001';
export const SECRET_ACCESS_KEY = 'e2e/Secret+Access/Key0000000000000000000';
export const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjE2e2e//////////wEaCXVzLXdlc3QtMiJGMEQCIFakeSessionToken+AAAA==';
export const ROLE_USER = 'arn:aws:sts::111122223333:assumed-role/lambda-eks-DeployerFunctionRole/lambda-eks';
export const GROUP = 'lambda-deployers';

/** The function's role as STS and the cluster's access entry know it. */
export const FUNCTION_IDENTITY: Identity = {
  secretAccessKey: SECRET_ACCESS_KEY,
  sessionToken: SESSION_TOKEN,
  username: ROLE_USER,
  groups: [GROUP],
};

export interface TestBed {
  readonly pki: TestPki;
  readonly server: KubeApiStandIn;
  readonly env: Record<string, string>;
}

/** What the function's group may do in a namespace it deploys to: everything it needs to create, apply, read,
 * delete and watch the rollout of a Deployment (as the RBAC of template.yaml grants it). */
export const FUNCTION_RIGHTS: readonly { apiGroup: string; resource: string; verbs: readonly Verb[] }[] = [
  { apiGroup: 'apps', resource: 'deployments', verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'] },
  { apiGroup: 'apps', resource: 'replicasets', verbs: ['get', 'list', 'watch'] },
  { apiGroup: '', resource: 'pods', verbs: ['get', 'list', 'watch'] },
];

/** The function's rights as RoleBindings in `namespace`. */
export function functionGrants(namespace: string): RbacRule[] {
  return FUNCTION_RIGHTS.map((right) => ({ subject: { kind: 'Group', name: GROUP }, namespace, ...right }));
}

/** Starts a stand-in for "demo" whose RBAC lets the function's group do all it needs in default and team-a;
 * namespace "locked" exists without any grant; "missing" does not exist, but is granted (as a ClusterRoleBinding
 * would grant it), so that the request gets as far as the namespace check. Controllers do not run unless
 * `overrides.cluster` turns them on. */
export async function startTestBed(overrides: Partial<StandInOptions> = {}, pki = makeTestPki()): Promise<TestBed> {
  const server = new KubeApiStandIn({
    tls: pki.server,
    clusterName: CLUSTER_NAME,
    identities: { [ACCESS_KEY_ID]: FUNCTION_IDENTITY },
    namespaces: ['default', 'team-a', 'locked'],
    rbac: [...functionGrants('default'), ...functionGrants('team-a'), ...functionGrants('missing')],
    ...overrides,
  });
  const url = await server.start();
  recordSecrets(SECRET_ACCESS_KEY, SESSION_TOKEN);
  return { pki, server, env: functionEnv(url, pki.caData) };
}

/** The environment of a function configured with an endpoint and CA. */
export function functionEnv(endpoint: string, caData: string): Record<string, string> {
  return {
    CLUSTER_NAME,
    CLUSTER_ENDPOINT: endpoint,
    CLUSTER_CA_DATA: caData,
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN: SESSION_TOKEN,
  };
}

/** Every secret a log line or an error must never contain: the credentials and every token the server saw. */
export function secretsSeenBy(...servers: KubeApiStandIn[]): string[] {
  const tokens = servers.flatMap((server) =>
    server.requests.flatMap((request) =>
      request.authorization ? [request.authorization.replace(/^Bearer /, '')] : [],
    ),
  );
  return [SECRET_ACCESS_KEY, SESSION_TOKEN, ...new Set(tokens)];
}
