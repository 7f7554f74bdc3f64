import { CONTAINER_NAME, CONTAINER_PORT, MANAGED_BY_LABEL, MANAGER } from '../constants.js';
import type { V1Deployment } from '../kube/client.js';
import type { DeploymentSpec } from './request.js';

/** Builds the apps/v1 Deployment for a spec: `replicas` pods (no replicas field when undefined) of one container
 * serving port 80, selected by the standard `app.kubernetes.io` labels. It is both the body of a create and the
 * configuration a server-side apply owns: exactly these fields, nothing the server defaults. Pure. */
export function buildDeployment({ name, namespace, replicas, image, annotations }: DeploymentSpec): V1Deployment {
  const selector = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': name };
  const labels = { ...selector, [MANAGED_BY_LABEL]: MANAGER };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels, ...(annotations ? { annotations: { ...annotations } } : {}) },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: CONTAINER_NAME,
              image,
              ports: [{ name: 'http', containerPort: CONTAINER_PORT, protocol: 'TCP' }],
            },
          ],
        },
      },
    },
  };
}
