import type { ClusterEndpoint, FunctionConfig } from '../config.js';
import { decodeCaData, parseEndpoint } from '../config.js';
import { ClusterUnreachableError, ConfigurationError, describeThrown } from '../errors.js';
import { warm } from '../state.js';
import type { DescribedCluster } from './describe-cluster.js';

/** DescribeCluster gets this long, at most, including the SDK's own retries. */
const DESCRIBE_TIMEOUT_MS = 10_000;

/** Returns the API server endpoint and CA: from the configuration when it has them, else from EKS DescribeCluster,
 * asked once per execution environment (a failure is not cached). Throws ConfigurationError when the cluster does not
 * exist or the role may not describe it, ClusterUnreachableError when EKS cannot be reached or the cluster has no
 * endpoint yet. */
export async function resolveCluster(config: FunctionConfig, deadline: number): Promise<ClusterEndpoint> {
  if (config.cluster) {
    return config.cluster;
  }
  warm.cluster ??= discover(config.clusterName, config.region, deadline).then((described) =>
    toClusterEndpoint(config.clusterName, described),
  );
  try {
    return await warm.cluster;
  } catch (error) {
    delete warm.cluster;
    throw error;
  }
}

/** Drops the cached DescribeCluster answer and asks again: the cluster may have been recreated with a new endpoint or
 * CA since. Throws as resolveCluster does. */
export function rediscoverCluster(config: FunctionConfig, deadline: number): Promise<ClusterEndpoint> {
  delete warm.cluster;
  return resolveCluster(config, deadline);
}

/** Asks EKS DescribeCluster, loading the SDK (a file of its own in the bundle) only now. */
async function discover(clusterName: string, region: string, deadline: number): Promise<DescribedCluster> {
  const { describeCluster } = await import('./describe-cluster.js');
  try {
    return await describeCluster(
      clusterName,
      region,
      Math.max(1, Math.min(DESCRIBE_TIMEOUT_MS, deadline - Date.now())),
    );
  } catch (error) {
    throw describeFailure(clusterName, region, error);
  }
}

function toClusterEndpoint(clusterName: string, { status, endpoint, caData }: DescribedCluster): ClusterEndpoint {
  if (!endpoint || !caData) {
    throw new ClusterUnreachableError(
      `EKS cluster "${clusterName}" has no API endpoint yet (status ${status ?? 'unknown'}); invoke again once ` +
        '"aws eks describe-cluster" shows it ACTIVE.',
    );
  }
  try {
    return {
      endpoint: parseEndpoint(endpoint, 'DescribeCluster endpoint'),
      caPem: decodeCaData(caData, 'DescribeCluster certificateAuthority.data'),
    };
  } catch (error) {
    throw new ConfigurationError(
      `DescribeCluster for "${clusterName}" returned an endpoint or CA the function cannot use ` +
        `(${describeThrown(error).message}); set CLUSTER_ENDPOINT and CLUSTER_CA_DATA instead.`,
      { cause: error },
    );
  }
}

function describeFailure(clusterName: string, region: string, error: unknown): Error {
  const { name } = describeThrown(error);
  const detail = awsMessage(error);
  if (name === 'ResourceNotFoundException') {
    return new ConfigurationError(
      `there is no EKS cluster named "${clusterName}" in ${region} (DescribeCluster: ${detail}); check the cluster ` +
        "name and that the function runs in the cluster's region.",
      { variable: 'CLUSTER_NAME', cause: error },
    );
  }
  if (/AccessDenied|UnrecognizedClient|InvalidSignature|SignatureDoesNotMatch|ExpiredToken|Forbidden/i.test(name)) {
    return new ConfigurationError(
      `the function's role may not call eks:DescribeCluster on "${clusterName}" (${name}: ${detail}); grant it on the ` +
        "cluster's ARN (template.yml does), or set CLUSTER_ENDPOINT and CLUSTER_CA_DATA so the call is not needed.",
      { cause: error },
    );
  }
  return new ClusterUnreachableError(
    `could not describe EKS cluster "${clusterName}" in ${region} (${name}: ${detail}); if the function ` +
      'runs in a VPC, set CLUSTER_ENDPOINT and CLUSTER_CA_DATA (deploy.sh does): its security group allows 443 to ' +
      'the cluster (and S3) only, so DescribeCluster cannot be reached from there.',
    { cause: error },
  );
}

/** The first sentence of an AWS error message, at most 200 characters. A signature error goes on to quote the
 * canonical request the service expected, which holds the X-Amz-Security-Token: that must never reach an error
 * message or a log. */
function awsMessage(error: unknown): string {
  const { message } = describeThrown(error);
  const first = message.split(/\n|(?<=\.) (?=The Canonical String|The String-to-Sign)/)[0] ?? '';
  return first.length > 200 ? `${first.slice(0, 200)}...` : first;
}
