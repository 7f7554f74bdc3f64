// Custom::KubernetesManifest: a set of objects of any kind (src/manifests/) declared in a CloudFormation stack. The
// set's record names the stack resource that owns it, and only that one changes it: a set of another stack resource is
// never applied over, pruned or deleted (two stacks with one SetName cannot touch each other's objects). Create applies
// the set; Update applies the new one and prunes, or, for a new SetName or Namespace, places a new set that takes over
// the objects of the old one (CloudFormation then deletes the old id, which removes only what the old set still owns);
// Delete deletes the set. Outputs read values back from the cluster as attributes.
import { createHash } from 'node:crypto';
import type { FunctionConfig } from '../config.js';
import { CLUSTER_NAME_PATTERN, DNS1123_LABEL, MANAGER } from '../constants.js';
import {
  ConfigurationError,
  describeThrown,
  InvalidEventError,
  InvalidManifestError,
  RolloutTimeoutError,
} from '../errors.js';
import { truncate } from '../fields.js';
import { elapsedMs, type Session } from '../kube/session.js';
import { log } from '../log.js';
import { applyManifest } from '../manifests/apply.js';
import { deleteManifest } from '../manifests/delete.js';
import { resourceTypeOf } from '../manifests/discovery.js';
import { groupOf } from '../manifests/identity.js';
import { parseJsonPath, readJsonPath, type PathStep } from '../manifests/json-path.js';
import { readObject, type SetContext } from '../manifests/objects.js';
import { applySetId, describeOwner, readRecord } from '../manifests/record.js';
import { buildManifestRequest, type ManifestRequest } from '../manifests/request.js';
import type { SetResult } from '../manifests/result.js';
import { resolveManifest } from '../manifests/source.js';
import { sleep } from '../retry.js';
import { MAX_RESPONSE_BYTES } from './cfn-response.js';
import { ownerOf, type CustomResourceRequest, type Handler, type RequestType } from './resource-request.js';

/** The properties of a Custom::KubernetesManifest, and the event field each maps to. Outputs is its own. */
const PROPERTIES: Readonly<Record<string, string>> = {
  Manifest: 'manifest',
  ManifestUrl: 'manifestUrl',
  ManifestSha256: 'manifestSha256',
  Namespace: 'namespace',
  SetName: 'set',
  Wait: 'wait',
  Force: 'force',
  Prune: 'prune',
  Adopt: 'adopt',
  DeleteCrdsAndNamespaces: 'deleteCrdsAndNamespaces',
};
const PROPERTY_OF: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(PROPERTIES).map(([property, field]) => [field, property]),
);
const OTHER_PROPERTIES: ReadonlySet<string> = new Set(['ServiceToken', 'ServiceTimeout', 'Outputs']);
/** The attributes every answer has; an output may not take their names. */
const DATA_KEYS = ['SetName', 'SetId', 'Objects', 'Created', 'Configured', 'Unchanged', 'Pruned'] as const;
/** An Update carries the old and the new properties, and both must fit in the 256 KB of an asynchronous invocation's
 * event (CloudFormation invokes the function so): an inline manifest may take at most this much. */
export const MAX_INLINE_MANIFEST_BYTES = 100_000;
const OUTPUT_POLL_MS = 1000;
const MIN_POLL_BUDGET_MS = 1000;

/** One value read back from the cluster: the object, and kubectl's JSONPath into it. */
interface OutputSpec {
  readonly name: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly objectName: string;
  readonly namespace: string;
  readonly steps: readonly PathStep[];
}

/** What the properties ask: the set to apply, and the outputs to read. */
interface ManifestSpec {
  readonly request: Extract<ManifestRequest, { action: 'apply-manifest' }>;
  readonly outputs: readonly OutputSpec[];
}

/** The PhysicalResourceId of a set: `lambda-eks/<cluster>/<namespace>/set/<set>`. Never changes format. */
export function setPhysicalResourceId(cluster: string, namespace: string, set: string): string {
  return `${MANAGER}/${cluster}/${namespace}/set/${set}`;
}

/** The set an id of ours names, or undefined for any other id. */
export function parseSetPhysicalResourceId(
  id: string | undefined,
): { cluster: string; namespace: string; set: string } | undefined {
  const [prefix, cluster = '', namespace = '', marker, set = '', ...rest] = (id ?? '').split('/');
  const ours =
    prefix === MANAGER &&
    marker === 'set' &&
    rest.length === 0 &&
    CLUSTER_NAME_PATTERN.test(cluster) &&
    DNS1123_LABEL.test(namespace) &&
    DNS1123_LABEL.test(set);
  return ours ? { cluster, namespace, set } : undefined;
}

/** The set name of a resource without SetName: a DNS label made of the stack's name and the logical id, the same on
 * every request (lowercased, other characters made "-", cut with a short hash of the whole to fit 63 characters). */
export function defaultSetName(stackId: string, logicalResourceId: string): string {
  const stack = /:stack\/([^/]+)\//.exec(stackId)?.[1] ?? 'stack';
  const whole = `${stack}-${logicalResourceId}`;
  const label = whole
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (label.length <= 63 && label !== '') return label;
  const hash = createHash('sha256').update(whole).digest('hex').slice(0, 8);
  return `${label.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

const onCreate: Handler = async (request, session, config, answered) => {
  const spec = readSpec(request, request.properties, config.namespace);
  const { set, namespace } = spec.request;
  // From here a failure may leave objects of this set: the rollback's Delete of this id removes them (only if this
  // stack resource owns the set).
  answered.id = setPhysicalResourceId(config.clusterName, namespace, set);
  const result = await applyManifest(
    session,
    { ...spec.request, manifest: await resolveManifest(spec.request.manifest, session, config.s3Endpoint) },
    { owner: ownerOf(request) },
  );
  return { physicalResourceId: answered.id, data: await answerData(request, session, spec, result) };
};

const onUpdate: Handler = async (request, session, config) => {
  const old = parseSetPhysicalResourceId(request.physicalResourceId);
  const spec = readSpec(request, request.properties, old?.namespace ?? config.namespace);
  const { set, namespace } = spec.request;
  const id = setPhysicalResourceId(config.clusterName, namespace, set);
  const owner = ownerOf(request);
  if (id === request.physicalResourceId) {
    const record = await readRecord(contextOf(session, set, namespace, owner));
    if (record !== undefined && record.owner !== owner) {
      return leaveAlone(request, id, `the set belongs to ${describeOwner(record.owner ?? 'no stack resource#')}`);
    }
    const result = await applyManifest(
      session,
      { ...spec.request, manifest: await resolveManifest(spec.request.manifest, session, config.s3Endpoint) },
      { owner },
    );
    return { physicalResourceId: id, data: await answerData(request, session, spec, result) };
  }
  // A replacement: a new set that takes over the objects of this resource's old set, if this resource owns it.
  const oldRecord = old === undefined ? undefined : await readRecord(contextOf(session, old.set, old.namespace, owner));
  const takeOverFrom = old !== undefined && oldRecord?.owner === owner ? applySetId(old.set, old.namespace) : undefined;
  try {
    const result = await applyManifest(
      session,
      { ...spec.request, manifest: await resolveManifest(spec.request.manifest, session, config.s3Endpoint) },
      { owner, takeOverFrom },
    );
    return { physicalResourceId: id, data: await answerData(request, session, spec, result) };
  } catch (error) {
    // CloudFormation keeps the old resource: undo what the new set did, then answer FAILED with the old id.
    throw withAftermath(error, await undoReplacement(request, session, config, spec, takeOverFrom));
  }
};

const onDelete: Handler = async (request, session, config) => {
  const id = request.physicalResourceId ?? '';
  const named = parseSetPhysicalResourceId(id);
  if (named === undefined) {
    return leaveAlone(request, id, 'the id is not one of a set this function made');
  }
  if (named.cluster !== config.clusterName) {
    throw new ConfigurationError(
      `this function manages cluster "${config.clusterName}", but the resource's set ${named.namespace}/${named.set} ` +
        `is in cluster "${named.cluster}" (PhysicalResourceId ${id}); nothing was deleted. Delete it with the ` +
        `function deployed for cluster "${named.cluster}", or finish deleting the stack and keep the set: aws ` +
        `cloudformation delete-stack --stack-name <stack> --retain-resources ${request.logicalResourceId}`,
      { variable: 'CLUSTER_NAME' },
    );
  }
  const owner = ownerOf(request);
  const record = await readRecord(contextOf(session, named.set, named.namespace, owner));
  if (record === undefined) return leaveAlone(request, id, 'the set is already gone');
  if (record.owner !== owner) {
    return leaveAlone(request, id, `the set belongs to ${describeOwner(record.owner ?? 'no stack resource#')}`);
  }
  const deleteCrdsAndNamespaces = flag(request.properties, 'DeleteCrdsAndNamespaces');
  await deleteManifest(
    session,
    { action: 'delete-manifest', set: named.set, namespace: named.namespace, dryRun: false, deleteCrdsAndNamespaces },
    owner,
  );
  return { physicalResourceId: id };
};

/** The handlers of a Custom::KubernetesManifest, by request type. */
export const MANIFEST_HANDLERS: Readonly<Record<RequestType, Handler>> = {
  Create: onCreate,
  Update: onUpdate,
  Delete: onDelete,
};

/** SUCCESS with nothing changed, and a log record that says why. */
function leaveAlone(request: CustomResourceRequest, id: string, reason: string) {
  log('info', 'custom resource: nothing to change', {
    requestType: request.requestType,
    reason,
    physicalResourceId: truncate(id),
  });
  return { physicalResourceId: id, data: {} };
}

function contextOf(session: Session, set: string, namespace: string, owner: string): SetContext {
  return { session, action: 'custom resource', set, setNamespace: namespace, owner };
}

/** A failed replacement undone: what the new set took over is handed back to the old set (its old manifest applied
 * again), then the new set is deleted, which deletes only what it created. Says what became of them. */
async function undoReplacement(
  request: CustomResourceRequest,
  session: Session,
  config: FunctionConfig,
  spec: ManifestSpec,
  takeOverFrom: string | undefined,
): Promise<string> {
  const owner = ownerOf(request);
  const { set, namespace } = spec.request;
  const placed = await readRecord(contextOf(session, set, namespace, owner)).catch(() => undefined);
  if (placed === undefined || placed.owner !== owner) {
    return 'Nothing of the new set was applied.';
  }
  const old = parseSetPhysicalResourceId(request.physicalResourceId);
  try {
    if (takeOverFrom !== undefined && old !== undefined && request.oldProperties !== undefined) {
      const previous = readSpec(request, request.oldProperties, old.namespace);
      await applyManifest(
        session,
        {
          ...previous.request,
          set: old.set,
          namespace: old.namespace,
          wait: false,
          manifest: await resolveManifest(previous.request.manifest, session, config.s3Endpoint),
        },
        { owner, takeOverFrom: applySetId(set, namespace) },
      );
    }
    await deleteManifest(
      session,
      { action: 'delete-manifest', set, namespace, dryRun: false, deleteCrdsAndNamespaces: false },
      owner,
    );
    return `The function removed the new set ${namespace}/${set} again (and gave back to the old set what it had taken over): CloudFormation keeps the old one.`;
  } catch (error) {
    log('warn', 'custom resource: could not undo the failed replacement', {
      namespace,
      set,
      errorType: describeThrown(error).name,
    });
    return (
      `The function could not remove the new set ${namespace}/${set} again (${describeThrown(error).name}: ` +
      `${describeThrown(error).message}); the next update or the stack's deletion finishes it.`
    );
  }
}

function withAftermath(error: unknown, aftermath: string): Error {
  const { name, message } = describeThrown(error);
  const wrapped = new Error(`${message} ${aftermath}`, { cause: error });
  wrapped.name = name;
  return wrapped;
}

/** Reads the properties: the set's request (PascalCase names, CloudFormation's strings for booleans) and the
 * outputs. Throws InvalidEventError or InvalidManifestError naming the property. */
function readSpec(
  request: CustomResourceRequest,
  properties: Readonly<Record<string, unknown>>,
  defaultNamespace: string,
): ManifestSpec {
  for (const key of Object.keys(properties)) {
    if (!Object.hasOwn(PROPERTIES, key) && !OTHER_PROPERTIES.has(key)) {
      throw new InvalidEventError(
        truncate(key),
        `is not a property of ${request.resourceType}; it takes ${[...Object.keys(PROPERTIES), 'Outputs'].join(', ')}`,
      );
    }
  }
  const manifest = properties['Manifest'];
  if (manifest !== undefined && typeof manifest !== 'string') {
    throw new InvalidEventError(
      'Manifest',
      'must be a string: CloudFormation turns every value of a structured manifest into a string (replicas: "3", ' +
        'which Kubernetes refuses). Pass the YAML as a block string (Manifest: |), or JSON as a string, or use ' +
        'ManifestUrl',
    );
  }
  if (typeof manifest === 'string' && Buffer.byteLength(manifest) > MAX_INLINE_MANIFEST_BYTES) {
    throw new InvalidManifestError(
      `Manifest is ${Buffer.byteLength(manifest)} bytes, more than the ${MAX_INLINE_MANIFEST_BYTES} an inline ` +
        'manifest may have (an Update carries the old and the new properties, and both must fit in the event ' +
        'CloudFormation sends): upload it to S3 and give ManifestUrl and ManifestSha256 instead',
    );
  }
  const get = (field: string): unknown => {
    if (field === 'action') return 'apply-manifest';
    if (field === 'set' && !Object.hasOwn(properties, 'SetName')) {
      return defaultSetName(request.stackId, request.logicalResourceId);
    }
    const name = PROPERTY_OF[field];
    return name === undefined || !Object.hasOwn(properties, name) ? undefined : properties[name];
  };
  const built = buildManifestRequest(
    'apply-manifest',
    get,
    (field) => PROPERTY_OF[field] ?? field,
    { strings: true },
    defaultNamespace,
  );
  if (built.action !== 'apply-manifest') throw new Error(`buildManifestRequest answered ${built.action}`);
  return { request: built, outputs: readOutputs(properties['Outputs'], built.namespace) };
}

function flag(properties: Readonly<Record<string, unknown>>, name: string): boolean {
  return properties[name] === true || properties[name] === 'true';
}

/** The Outputs property: each a name (an attribute name) and the object and JSONPath to read. */
function readOutputs(value: unknown, setNamespace: string): OutputSpec[] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidEventError('Outputs', 'must be a map of names to {Kind, Name, JsonPath, ApiVersion, Namespace}');
  }
  return Object.entries(value).map(([name, entry]: [string, unknown]) => {
    const where = `Outputs.${truncate(name)}`;
    if (!/^[A-Za-z][A-Za-z0-9]{0,254}$/.test(name)) {
      throw new InvalidEventError(where, 'an output name is letters and digits, starting with a letter (Fn::GetAtt)');
    }
    if ((DATA_KEYS as readonly string[]).includes(name)) {
      throw new InvalidEventError(
        where,
        `is an attribute the resource always has (${DATA_KEYS.join(', ')}): rename it`,
      );
    }
    const fields = typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? { ...entry } : undefined;
    if (fields === undefined) {
      throw new InvalidEventError(where, 'must be a map: {Kind, Name, JsonPath, ApiVersion, Namespace}');
    }
    for (const key of Object.keys(fields)) {
      if (!['Kind', 'Name', 'JsonPath', 'ApiVersion', 'Namespace'].includes(key)) {
        throw new InvalidEventError(
          `${where}.${truncate(key)}`,
          'is not taken: Kind, Name, JsonPath, ApiVersion, Namespace',
        );
      }
    }
    const text = (key: string, fallback?: string): string => {
      const field = Reflect.get(fields, key);
      if (field === undefined && fallback !== undefined) return fallback;
      if (typeof field !== 'string' || field === '') {
        throw new InvalidEventError(`${where}.${key}`, 'is required, as a non-empty string');
      }
      return field;
    };
    const kind = text('Kind');
    const apiVersion = text('ApiVersion', 'v1');
    const jsonPath = text('JsonPath');
    const steps = parseJsonPath(jsonPath, `${where}.JsonPath`);
    if (kind === 'Secret' && groupOf(apiVersion) === '' && (steps[0] === 'data' || steps[0] === 'stringData')) {
      throw new InvalidEventError(
        `${where}.JsonPath`,
        "would copy a Secret's data into the stack, where anyone who may describe it reads it: refused. Read the " +
          'Secret from the cluster where it is needed instead',
      );
    }
    return { name, apiVersion, kind, objectName: text('Name'), namespace: text('Namespace', setNamespace), steps };
  });
}

/** The attributes: the set's name and id, its counts, and the outputs (waited for with Wait). Throws
 * InvalidEventError when they do not fit in CloudFormation's 4,096-byte answer, RolloutTimeoutError when outputs are
 * still empty at the deadline of a Wait. */
async function answerData(
  request: CustomResourceRequest,
  session: Session,
  spec: ManifestSpec,
  result: SetResult,
): Promise<Record<string, string>> {
  const { set, namespace } = spec.request;
  const base = {
    SetName: set,
    SetId: applySetId(set, namespace),
    ...counts(result),
  };
  const values = await valuesOf(session, spec);
  const data = { ...base, ...values };
  // What the rest of the answer takes: its ids (the longest Reason is not sent with a SUCCESS).
  const envelope = JSON.stringify({
    Status: 'SUCCESS',
    PhysicalResourceId: setPhysicalResourceId('x'.repeat(100), namespace, set),
    StackId: request.stackId,
    RequestId: request.requestId,
    LogicalResourceId: request.logicalResourceId,
    Data: data,
  });
  if (Buffer.byteLength(envelope) > MAX_RESPONSE_BYTES) {
    const longest = Object.entries(values).sort(([, a], [, b]) => b.length - a.length)[0];
    throw new InvalidEventError(
      longest === undefined ? 'Outputs' : `Outputs.${longest[0]}`,
      `makes the answer ${Buffer.byteLength(envelope)} bytes, more than the ${MAX_RESPONSE_BYTES} CloudFormation ` +
        `takes${longest === undefined ? '' : ` (its value is ${longest[1].length} characters)`}: read a smaller ` +
        'value, or fewer outputs (a value is never cut short)',
    );
  }
  return data;

  async function valuesOf(sessionOf: Session, { outputs, request: asked }: ManifestSpec) {
    const found: Record<string, string> = {};
    for (;;) {
      const empty: string[] = [];
      for (const output of outputs) {
        if ((found[output.name] ?? '') !== '') continue;
        found[output.name] = await readOutput(sessionOf, output, set, namespace);
        if (found[output.name] === '') empty.push(output.name);
      }
      if (!asked.wait || empty.length === 0) return found;
      if (Date.now() + OUTPUT_POLL_MS + MIN_POLL_BUDGET_MS > sessionOf.deadline) {
        throw new RolloutTimeoutError(
          `the outputs ${empty.join(', ')} of set "${set}" were still empty after ` +
            `${(elapsedMs(sessionOf) / 1000).toFixed(1)} s: the set is applied and ready, but what they read has no ` +
            "value yet (a load balancer still being made?). Check the objects they name, or raise the function's " +
            'Timeout; an Update runs it again.',
        );
      }
      await sleep(OUTPUT_POLL_MS);
    }
  }
}

async function readOutput(session: Session, output: OutputSpec, set: string, namespace: string): Promise<string> {
  const type = await resourceTypeOf(session, output.apiVersion, output.kind);
  if (type === undefined) {
    throw new InvalidEventError(
      `Outputs.${output.name}.Kind`,
      `the cluster does not serve kind ${output.kind} of ${output.apiVersion} (give ApiVersion for a kind outside the ` +
        'core group)',
    );
  }
  const ref = {
    group: type.group,
    kind: type.kind,
    namespace: type.namespaced ? output.namespace : undefined,
    name: output.objectName,
  };
  const object = await readObject(contextOf(session, set, namespace, ''), type, ref);
  return object === undefined ? '' : (readJsonPath(object, output.steps) ?? '');
}

/** The counts of a result as attributes (CloudFormation's strings). */
function counts(result: SetResult): Record<string, string> {
  const { created = 0, configured = 0, unchanged = 0, pruned = 0 } = result.counts;
  return {
    Objects: String(
      result.objects.filter((object) => object.action !== 'pruned' && object.action !== 'deleted').length,
    ),
    Created: String(created),
    Configured: String(configured),
    Unchanged: String(unchanged),
    Pruned: String(pruned),
  };
}
