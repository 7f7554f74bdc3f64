// Discovery through a cluster admin's kubeconfig, for npm run grants (src/cli/grants.ts): the resource name and scope
// of a kind, read with @kubernetes/client-node's KubeConfig, which handles every kubeconfig an admin may have (an EKS
// exec plugin such as `aws eks get-token`, client certificates, tokens). Not part of the Lambda function.
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';

/** A kind as the cluster serves it. */
export interface ServedKind {
  readonly plural: string;
  readonly namespaced: boolean;
}

/** KubernetesObjectApi's discovery (protected there), cached per group-version. */
class KindLookup extends KubernetesObjectApi {
  lookup(apiVersion: string, kind: string) {
    return this.resource(apiVersion, kind);
  }
}

/** Looks up kinds in the cluster of a kubeconfig: `kubeconfig` or, without it, KUBECONFIG or ~/.kube/config. */
export function adminDiscovery(kubeconfig: string | undefined): {
  readonly context: string;
  readonly kindOf: (apiVersion: string, kind: string) => Promise<ServedKind | undefined>;
} {
  const config = new KubeConfig();
  if (kubeconfig === undefined) config.loadFromDefault();
  else config.loadFromFile(kubeconfig);
  const api = config.makeApiClient(KindLookup);
  return {
    context: config.getCurrentContext(),
    kindOf: async (apiVersion, kind) => {
      try {
        const found = await api.lookup(apiVersion, kind);
        if (found === undefined) return undefined;
        // The API server lists a resource before its subresources (deployments, then deployments/status).
        return { plural: found.name.split('/')[0] ?? found.name, namespaced: found.namespaced };
      } catch (error) {
        // A group-version the cluster does not serve.
        if (error instanceof ApiException && error.code === 404) return undefined;
        throw error;
      }
    },
  };
}
