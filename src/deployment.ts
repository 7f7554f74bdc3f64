import { CONTAINER_PORT, MANAGER } from './constants.js';
import type { DeploymentRequest } from './event.js';
import type { V1Deployment } from './kube.js';

/** Builds the apps/v1 Deployment for a request: `replicas` pods of one container serving port 80, selected by the
 * standard `app.kubernetes.io` labels. Pure. */
export function buildDeployment({ name, namespace, replicas, image }: DeploymentRequest): V1Deployment {
  const selector = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': name };
  const labels = { ...selector, 'app.kubernetes.io/managed-by': MANAGER };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            { name: 'nginx', image, ports: [{ name: 'http', containerPort: CONTAINER_PORT, protocol: 'TCP' }] },
          ],
        },
      },
    },
  };
}
