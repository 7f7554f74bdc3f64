// Built as its own file (dist/describe-cluster.mjs) and imported only when the function has to discover its cluster:
// parsing the AWS SDK costs about half of the handler's import time, which a function configured with
// CLUSTER_ENDPOINT should not pay. It imports nothing else from src/, so the two files share no code.
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';

/** The raw answer of DescribeCluster that the function uses. */
export interface DescribedCluster {
  readonly status: string | undefined;
  readonly endpoint: string | undefined;
  readonly caData: string | undefined;
}

/** Calls EKS DescribeCluster with the AWS SDK, which honours AWS_ENDPOINT_URL_EKS and the other standard settings;
 * gives up after `timeoutMs` (SDK retries included). Throws the SDK's error. */
export async function describeCluster(
  clusterName: string,
  region: string,
  timeoutMs: number,
): Promise<DescribedCluster> {
  const client = new EKSClient({ region, maxAttempts: 3 });
  try {
    const { cluster } = await client.send(new DescribeClusterCommand({ name: clusterName }), {
      abortSignal: AbortSignal.timeout(timeoutMs),
    });
    return { status: cluster?.status, endpoint: cluster?.endpoint, caData: cluster?.certificateAuthority?.data };
  } finally {
    client.destroy();
  }
}
