// Legacy discovery (/api, /apis, /api/v1, /apis/apps/v1), /version and the OpenAPI v3 index and group documents,
// for the resources and verbs the stand-in serves. kubectl asks for aggregated discovery first and, offered plain
// JSON, falls back to these (client-go discovery/aggregated_discovery.go); it reads the OpenAPI v3 PATCH operation of
// a kind to learn that the server validates fields itself (kubectl pkg/cmd/util QueryParamVerifierV3).
import type { JsonObject } from './json.js';

const SERVER_VERSION = 'v1.32.5-eks-5d4a308';

export const VERSION: JsonObject = {
  major: '1',
  minor: '32',
  gitVersion: SERVER_VERSION,
  gitCommit: '5d4a3088c9b5dd2c5a0b3b3d6d6c4a0e7e2b9a4c',
  gitTreeState: 'clean',
  buildDate: '2025-05-20T20:27:11Z',
  goVersion: 'go1.23.8',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export const API_VERSIONS: JsonObject = {
  kind: 'APIVersions',
  versions: ['v1'],
  serverAddressByClientCIDRs: [
    { clientCIDR: '0.0.0.0/0', serverAddress: 'ip-172-16-47-153.us-west-2.compute.internal:443' },
  ],
};

export const API_GROUP_LIST: JsonObject = {
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [
    {
      name: 'apps',
      versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
    },
  ],
};

const READ = ['get', 'list', 'watch'];

export const CORE_V1_RESOURCES: JsonObject = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    {
      name: 'pods',
      singularName: 'pod',
      namespaced: true,
      kind: 'Pod',
      verbs: READ,
      shortNames: ['po'],
      categories: ['all'],
      storageVersionHash: 'xPOwRZ+Yhw8=',
    },
  ],
};

export const APPS_V1_RESOURCES: JsonObject = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'apps/v1',
  resources: [
    {
      name: 'deployments',
      singularName: 'deployment',
      namespaced: true,
      kind: 'Deployment',
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'watch'],
      shortNames: ['deploy'],
      categories: ['all'],
      storageVersionHash: '8aSe+NMegvE=',
    },
    {
      name: 'replicasets',
      singularName: 'replicaset',
      namespaced: true,
      kind: 'ReplicaSet',
      verbs: READ,
      shortNames: ['rs'],
      categories: ['all'],
      storageVersionHash: 'P1RzHs8/mWQ=',
    },
  ],
};

const GROUP_HASH: Readonly<Record<string, string>> = {
  'apis/apps/v1': '6E7A7E2B3A1C4D5F',
  'api/v1': '9C1B2A3D4E5F6071',
};

export const OPENAPI_V3_INDEX: JsonObject = {
  paths: Object.fromEntries(
    Object.entries(GROUP_HASH).map(([path, hash]) => [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` }]),
  ),
};

const queryParameter = (name: string, description: string): JsonObject => ({
  name,
  in: 'query',
  description,
  schema: { type: 'string', uniqueItems: true },
});

function patchOperation(group: string, kind: string, operationId: string): JsonObject {
  return {
    tags: [group === '' ? 'core_v1' : `${group}_v1`],
    description: `partially update the specified ${kind}`,
    operationId,
    parameters: [
      queryParameter('dryRun', 'When present, indicates that modifications should not be persisted.'),
      queryParameter(
        'fieldManager',
        'fieldManager is a name associated with the actor or entity that is making these changes.',
      ),
      queryParameter(
        'fieldValidation',
        'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.',
      ),
      {
        name: 'force',
        in: 'query',
        description: 'Force is going to "force" Apply requests.',
        schema: { type: 'boolean', uniqueItems: true },
      },
    ],
    responses: { '200': { description: 'OK' }, '201': { description: 'Created' } },
    'x-kubernetes-action': 'patch',
    'x-kubernetes-group-version-kind': { group, kind, version: 'v1' },
  };
}

/** The OpenAPI v3 document of a group version (its PATCH operations), or undefined for an unknown one. */
export function openApiV3Document(path: string): JsonObject | undefined {
  const info = { title: 'Kubernetes', version: SERVER_VERSION };
  if (path === 'apis/apps/v1') {
    return {
      openapi: '3.0.0',
      info,
      paths: {
        '/apis/apps/v1/namespaces/{namespace}/deployments/{name}': {
          patch: patchOperation('apps', 'Deployment', 'patchAppsV1NamespacedDeployment'),
        },
      },
      components: { schemas: {} },
    };
  }
  if (path === 'api/v1') {
    return { openapi: '3.0.0', info, paths: {}, components: { schemas: {} } };
  }
  return undefined;
}
