// The Kubernetes object types the function reads and sends: @kubernetes/client-node's generated models, as types
// only. Pure modules (src/status/) take them from here, not from the client that speaks HTTP.
export type { V1Deployment } from '@kubernetes/client-node/dist/gen/models/V1Deployment.js';
export type { V1Pod } from '@kubernetes/client-node/dist/gen/models/V1Pod.js';
export type { V1PodList } from '@kubernetes/client-node/dist/gen/models/V1PodList.js';
export type { V1ReplicaSet } from '@kubernetes/client-node/dist/gen/models/V1ReplicaSet.js';
