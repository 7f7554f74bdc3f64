// The baseline: what most examples do. A fresh token, KubeConfig and API client on every invocation, the package
// index imported whole, the token in user.token. It mints with the same function as ours, so the comparison is about
// the client, the connection and the bundle, not the token.
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Context } from 'aws-lambda';
import { mintEksToken } from '../src/aws/token.js';

export async function handler(
  event: { name?: string } | null,
  _context: Context,
): Promise<{ status: string; name: string }> {
  const name = event?.name ?? 'nginx-deployment';
  const token = await mintEksToken({
    credentials: {
      accessKeyId: process.env['AWS_ACCESS_KEY_ID'] ?? '',
      secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] ?? '',
      sessionToken: process.env['AWS_SESSION_TOKEN'] ?? '',
    },
    region: process.env['AWS_REGION'] ?? '',
    clusterName: process.env['CLUSTER_NAME'] ?? '',
    signingDate: new Date(),
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser(
    {
      name: 'cluster',
      server: process.env['CLUSTER_ENDPOINT'] ?? '',
      caData: process.env['CLUSTER_CA_DATA'] ?? '',
      skipTLSVerify: false,
    },
    { name: 'lambda', token },
  );
  const api = kubeConfig.makeApiClient(AppsV1Api);
  const labels = { app: name };
  await api.createNamespacedDeployment({
    namespace: 'default',
    body: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'nginx', image: 'nginx:1.30.0', ports: [{ containerPort: 80 }] }] },
        },
      },
    },
  });
  return { status: 'created', name };
}
