import {
  APPLYSET_PART_OF_LABEL,
  CONTAINER_NAME,
  CONTAINER_PORT,
  MANAGED_BY_LABEL,
  MANAGER,
  SET_ANNOTATION,
} from '../constants.js';
import { SetConflictError } from '../errors.js';
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

/** Throws SetConflictError when the Deployment belongs to a set (its ApplySet part-of label): the Deployment actions
 * leave a set's members to their set, so that an apply never strips the fields the set manages and a delete never
 * removes a member. `doing` names what was refused. */
export function refuseSetMember(deployment: V1Deployment | undefined, doing: string): void {
  const partOf = deployment?.metadata?.labels?.[APPLYSET_PART_OF_LABEL];
  if (partOf === undefined || deployment === undefined) return;
  const set = deployment.metadata?.annotations?.[SET_ANNOTATION];
  throw new SetConflictError(
    `deployment ${deployment.metadata?.namespace ?? ''}/${deployment.metadata?.name ?? ''} belongs to ` +
      `${set === undefined ? 'a set' : `set ${set}`} (${APPLYSET_PART_OF_LABEL}: ${partOf}): the function will not ` +
      `${doing} it with the Deployment actions, and changed nothing. Change it through its set (action ` +
      '"apply-manifest"), or take it out of the set first.',
  );
}
