// What a request is for, and the invocation it belongs to: the types the session (./session.ts) and the error
// messages (./explain.ts) share.
import type { AwsCredentials, ClusterEndpoint } from '../config.js';

/** The RBAC grants of permissions.yml, each a Role selected by its `lambda-eks/grant` label. */
export type Grant = 'create' | 'apply' | 'observe' | 'delete';

/** The grants of a set: made for it by npm run grants from its manifests. */
export interface SetGrants {
  readonly set: string;
  /** The set's namespace (where its record lives). */
  readonly setNamespace: string;
}

/** What a request is for: the words of its error messages, and the grant whose verbs it needs. */
export interface Purpose {
  /** The action the request serves, as the messages name it. */
  readonly action: string;
  readonly verb: 'create' | 'get' | 'list' | 'patch' | 'delete';
  /** The resource (plural), with its group for anything outside the core group: `deployments.apps`, `pods`. */
  readonly resource: string;
  /** Empty for a cluster-scoped object. */
  readonly namespace: string;
  readonly name?: string;
  readonly grant: Grant | SetGrants;
}

/** An invocation's requests: the cluster, the identity, the deadline, and counters for the log. */
export interface Session {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** May be replaced once by `rediscover` when the cached DescribeCluster answer no longer matches the cluster. */
  cluster: ClusterEndpoint;
  /** Epoch ms by which the function must have answered (Lambda's deadline minus the reserve). */
  readonly deadline: number;
  readonly startedAt: number;
  /** Requests sent so far in this invocation. */
  requests: number;
  /** How many pods one list request asks for. */
  readonly listPageSize: number;
  /** Describes the cluster anew, for a cluster found by DescribeCluster; undefined for a configured one. */
  readonly rediscover: (() => Promise<ClusterEndpoint>) | undefined;
}
