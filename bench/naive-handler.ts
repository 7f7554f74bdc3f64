// The baseline: what most examples do. A fresh token, KubeConfig and API client on every invocation, the package
// index imported whole, the token in user.token. It mints with the same function as ours, so the comparison is about
// the client, the connection and the bundle, not the token. It does each action the way its users would write it.
import { AppsV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import type { Context } from 'aws-lambda';
import { mintEksToken } from '../src/aws/token.js';

interface NaiveEvent {
  action?: 'create' | 'apply' | 'get' | 'delete';
  name?: string;
  replicas?: number;
}

export async function handler(event: NaiveEvent | null, _context: Context): Promise<{ status: string; name: string }> {
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
  const namespace = process.env['NAMESPACE'] ?? 'default';
  const labels = { app: name, 'app.kubernetes.io/managed-by': 'lambda-eks' };
  const body: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas: event?.replicas ?? 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'nginx', image: 'nginx:1.30.0', ports: [{ containerPort: 80 }] }] },
      },
    },
  };
  const action = event?.action ?? 'create';
  if (action === 'get') {
    await api.readNamespacedDeployment({ name, namespace });
    return { status: 'found', name };
  }
  if (action === 'delete') {
    await api.readNamespacedDeployment({ name, namespace });
    await api.deleteNamespacedDeployment({ name, namespace });
    return { status: 'deleted', name };
  }
  if (action === 'apply') {
    await api.readNamespacedDeployment({ name, namespace }).catch(() => undefined);
    await api.patchNamespacedDeployment(
      { name, namespace, body, fieldManager: 'lambda-eks', force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    return { status: 'applied', name };
  }
  await api.createNamespacedDeployment({ namespace, body });
  return { status: 'created', name };
}
