// What each kind of a set is to the API server: its plural resource name and scope. Found at run time, with no table
// of kinds in the code: each group-version the set uses is discovered once per execution environment (GET /api/v1 or
// /apis/<group>/<version>, an APIResourceList, which every authenticated user may read) and read again when a kind is
// not found there (a CRD applied a moment ago); kinds a CustomResourceDefinition of the set defines take their names
// and scope from it.
import { InvalidManifestError } from '../errors.js';
import { requestJson } from '../kube/client.js';
import { explainRejection } from '../kube/explain.js';
import { send, type Session } from '../kube/session.js';
import { warm, type DiscoveredResource } from '../state.js';
import { groupOf } from './identity.js';
import type { ParsedObject } from './parse.js';

/** What the function needs to know of a kind to read and write its objects. */
export interface ResourceType {
  readonly apiVersion: string;
  readonly group: string;
  readonly kind: string;
  /** The plural resource name of the REST path. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** Served by a CustomResourceDefinition (of the set, or a group outside Kubernetes' own), not by Kubernetes itself. */
  readonly custom: boolean;
}

const CRD_API_VERSION = 'apiextensions.k8s.io/v1';

/** The types the CustomResourceDefinitions of a set define: each served version of each. */
export function typesDefinedBy(objects: readonly ParsedObject[]): ResourceType[] {
  return objects
    .filter((parsed) => parsed.apiVersion === CRD_API_VERSION && parsed.kind === 'CustomResourceDefinition')
    .flatMap(({ object }) => {
      const spec = record(object['spec']);
      const names = record(spec['names']);
      const group = spec['group'];
      const kind = names['kind'];
      const plural = names['plural'];
      const versions = Array.isArray(spec['versions']) ? spec['versions'] : [];
      if (typeof group !== 'string' || typeof kind !== 'string' || typeof plural !== 'string') return [];
      return versions.flatMap((version: unknown): ResourceType[] => {
        const name = record(version)['name'];
        return typeof name === 'string'
          ? [
              {
                apiVersion: `${group}/${name}`,
                group,
                kind,
                plural,
                namespaced: spec['scope'] !== 'Cluster',
                custom: true,
              },
            ]
          : [];
      });
    });
}

/** The resource type of each (apiVersion, kind) the objects use, by `typeKey`. Throws InvalidManifestError naming the
 * first object whose kind the cluster does not serve and no CRD of the set defines. */
export async function resolveTypes(
  session: Session,
  objects: readonly ParsedObject[],
  definedBySet: readonly ResourceType[],
): Promise<Map<string, ResourceType>> {
  const types = new Map<string, ResourceType>(definedBySet.map((type) => [typeKey(type.apiVersion, type.kind), type]));
  for (const { apiVersion, kind, from, name } of objects) {
    const key = typeKey(apiVersion, kind);
    if (types.has(key)) continue;
    const found = await resourceTypeOf(session, apiVersion, kind);
    if (found === undefined) {
      throw new InvalidManifestError(
        `${from} (${kind} "${name}"): the cluster does not serve kind ${kind} of ${apiVersion}, and no ` +
          'CustomResourceDefinition in the set defines it: install its CRD first, or put the CRD in the same set ' +
          '(check the apiVersion too)',
      );
    }
    types.set(key, found);
  }
  return types;
}

/** The resource type of a kind the cluster serves, from discovery; undefined when it does not serve it. */
export async function resourceTypeOf(
  session: Session,
  apiVersion: string,
  kind: string,
): Promise<ResourceType | undefined> {
  const found = await discoverKind(session, apiVersion, kind);
  if (found === undefined) return undefined;
  const group = groupOf(apiVersion);
  // Kubernetes' own groups are the core group, dotless ones (apps, batch, ...) and *.k8s.io: anything else is a CRD's.
  return { apiVersion, group, kind, ...found, custom: group.includes('.') && !group.endsWith('.k8s.io') };
}

/** The key of a resource type: its apiVersion and kind. */
export function typeKey(apiVersion: string, kind: string): string {
  return `${apiVersion}/${kind}`;
}

/** A kind of a group-version, from discovery: cached, and read again once when the cache does not have it. */
async function discoverKind(
  session: Session,
  apiVersion: string,
  kind: string,
): Promise<DiscoveredResource | undefined> {
  const cache = (warm.discovery ??= new Map());
  const cached = cache.get(apiVersion)?.get(kind);
  if (cached !== undefined) return cached;
  const fresh = await readGroupVersion(session, apiVersion);
  cache.set(apiVersion, fresh);
  return fresh.get(kind);
}

async function readGroupVersion(
  session: Session,
  apiVersion: string,
): Promise<ReadonlyMap<string, DiscoveredResource>> {
  const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const purpose = {
    action: 'discovery',
    verb: 'get' as const,
    resource: `the API discovery document ${path}`,
    namespace: '',
    grant: 'observe' as const,
  };
  const settled = await send(session, purpose, (call) =>
    requestJson(call, { method: 'GET', path }, (data) => Array.isArray(data['resources'])),
  );
  if (settled.kind !== 'ok') {
    // A group-version the cluster does not serve at all.
    if (settled.httpStatus === 404) return new Map();
    throw explainRejection(settled, purpose, session);
  }
  const resources = Array.isArray(settled.body['resources']) ? settled.body['resources'] : [];
  const byKind = new Map<string, DiscoveredResource>();
  for (const resource of resources) {
    const { name, kind, namespaced } = record(resource);
    // Subresources (deployments/scale, pods/status) share their parent's kind: only the resource itself counts.
    if (typeof name === 'string' && !name.includes('/') && typeof kind === 'string' && !byKind.has(kind)) {
      byKind.set(kind, { plural: name, namespaced: namespaced === true });
    }
  }
  return byKind;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : {};
}
