// The write endpoints of apps/v1 Deployments, each step in the order kube-apiserver takes it:
// POST (apiserver pkg/endpoints/handlers/create.go, registry/generic/registry/store.go Create), PATCH with server-side
// apply, merge patch or JSON patch (handlers/patch.go, store.go Update), and DELETE (handlers/delete.go, store.go
// Delete). Validation is validation.ts, admission is the stand-in's (namespace lifecycle, webhooks, quota).
import { parse as parseYaml } from 'yaml';
import { defaultDeployment } from './defaults.js';
import { deleteObject, type PropagationPolicy } from './deletion.js';
import {
  clone,
  dropKey,
  isObject,
  jsonEqual,
  objectAt,
  parseJson,
  stringAt,
  toJson,
  type Json,
  type JsonObject,
} from './json.js';
import {
  conflictMessage,
  decodeManaged,
  describeManager,
  encodeManaged,
  recordApply,
  recordUpdate,
  type Manager,
} from './managed-fields.js';
import { pathString } from './fieldpath.js';
import {
  badRequest,
  conflict,
  DEPLOYMENTS,
  failure,
  forbidden,
  invalid,
  notFound,
  alreadyExists,
  success,
  type Answer,
  type FieldError,
} from './status.js';
import {
  emptyObject,
  generationBumps,
  isBeingDeleted,
  timestamp,
  withTypeMeta,
  type ObjectStore,
  type StoredObject,
  type SystemWriter,
} from './store.js';
import { validateDeployment } from './validation.js';
import { unknownFields, withoutUnknownFields } from './known-fields.js';
import { randomUUID } from 'node:crypto';

/** The optimistic-lock reason (registry/generic/registry/store.go OptimisticLockErrorMsg). */
export const OPTIMISTIC_LOCK =
  'the object has been modified; please apply your changes to the latest version and try again';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

/** What the handlers need from the server: storage, the clock, and the admission and authorization steps. */
export interface ApiServer extends SystemWriter {
  readonly store: ObjectStore;
  /** NamespaceLifecycle (a mutating admission plugin): a missing namespace (404), a terminating one (403). */
  namespaceLifecycle(operation: Operation, namespace: string, name: string): Answer | undefined;
  /** Validating admission: webhooks, then ResourceQuota. */
  validatingAdmission(operation: Operation, namespace: string, name: string): Answer | undefined;
  /** Whether the requester may `create` (the second authorization an apply that creates needs). */
  mayCreate(namespace: string): boolean;
}

export interface WriteRequest {
  readonly namespace: string;
  /** From the URL; empty for a POST. */
  readonly name: string;
  readonly params: URLSearchParams;
  readonly contentType: string;
  readonly userAgent: string;
  readonly body: string;
}

const JSON_TYPES = ['application/json', 'application/yaml'];
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

const mediaType = (contentType: string): string => (contentType.split(';')[0] ?? '').trim().toLowerCase();

/** prefixFromUserAgent: the manager of a write that names none (handlers/rest.go). */
function managerFor(params: URLSearchParams, userAgent: string): string {
  const named = params.get('fieldManager');
  if (named !== null && named !== '') return named;
  return [...(userAgent.split('/')[0] ?? '')]
    .filter((c) => c >= ' ' && c !== '\u007f')
    .join('')
    .slice(0, 128);
}

function optionErrors(params: URLSearchParams): FieldError[] {
  const errors: FieldError[] = [];
  const dryRun = params.getAll('dryRun');
  if (dryRun.some((value) => value !== 'All')) {
    errors.push({
      field: 'dryRun',
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: []string{${dryRun.map((v) => JSON.stringify(v)).join(', ')}}: supported values: "All"`,
    });
  }
  const fieldManager = params.get('fieldManager') ?? '';
  if (fieldManager.length > 128) {
    errors.push({
      field: 'fieldManager',
      reason: 'FieldValueTooLong',
      message: 'Too long: may not be more than 128 bytes',
    });
  }
  return errors;
}

const isDryRun = (params: URLSearchParams): boolean => params.getAll('dryRun').length > 0;

function unsupportedMediaType(accepted: readonly string[]): Answer {
  return failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

function decodeBody(body: string, type: string): Json | undefined {
  if (type === 'application/json') return parseJson(body);
  try {
    return toJson(parseYaml(body));
  } catch {
    return undefined;
  }
}

// ---- POST ----

export function createDeployment(api: ApiServer, request: WriteRequest): Answer {
  const type = mediaType(request.contentType);
  if (!JSON_TYPES.includes(type)) {
    return unsupportedMediaType(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
  }
  const errors = optionErrors(request.params);
  if (errors.length > 0) return invalid('CreateOptions', 'meta.k8s.io', '', errors);
  const decoded = decodeBody(request.body, type);
  if (!isObject(decoded) || decoded['kind'] !== 'Deployment' || decoded['apiVersion'] !== 'apps/v1') {
    return badRequest('the object provided is unrecognized (must be of type Deployment)');
  }
  // The decoder's field validation (handlers/create.go): Strict refuses unknown fields, Warn (the default) and
  // Ignore drop them, Warn with a warning header each.
  const unknown = unknownFields(decoded).map((field) => `unknown field ${JSON.stringify(field.decoderPath)}`);
  const directive = request.params.get('fieldValidation') ?? 'Warn';
  if (unknown.length > 0 && directive === 'Strict') {
    return badRequest(
      `Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: ${unknown.join(', ')}`,
    );
  }
  return withWarnings(createKnown(api, request, withoutUnknownFields(decoded)), directive === 'Ignore' ? [] : unknown);
}

function createKnown(api: ApiServer, request: WriteRequest, decoded: JsonObject): Answer {
  const metadata = objectAt(decoded, 'metadata') ?? {};
  const objectNamespace = metadata['namespace'];
  if (objectNamespace !== undefined && objectNamespace !== '' && objectNamespace !== request.namespace) {
    return badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const name = stringAt(decoded, 'metadata', 'name') ?? '';
  const time = timestamp(api.now());
  // PrepareForCreate and BeforeCreate: status cleared, generation 1, system fields filled.
  const object: StoredObject = {
    ...clone(decoded),
    metadata: {
      ...clone(metadata),
      namespace: request.namespace,
      uid: randomUUID(),
      generation: 1,
      creationTimestamp: time,
    },
    status: {},
  };
  for (const field of [
    'resourceVersion',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'managedFields',
    'selfLink',
  ]) {
    dropKey(object.metadata, field);
  }
  defaultDeployment(object);
  const manager: Manager = {
    manager: managerFor(request.params, request.userAgent),
    operation: 'Update',
    apiVersion: 'apps/v1',
  };
  const managed = recordUpdate('deployments', emptyObject('deployments'), object, new Map(), manager, time);
  object.metadata['managedFields'] = encodeManaged(managed);

  const lifecycle = api.namespaceLifecycle('CREATE', request.namespace, name);
  if (lifecycle !== undefined) return lifecycle;
  const problems = validateDeployment(object);
  if (problems.length > 0) return invalid('Deployment', 'apps', name, problems);
  const admission = api.validatingAdmission('CREATE', request.namespace, name);
  if (admission !== undefined) return admission;
  const existing = api.store.get('deployments', request.namespace, name);
  if (existing !== undefined) return beingDeletedPrefix(existing, alreadyExists(DEPLOYMENTS, name));
  const typed = withTypeMeta('deployments', object);
  if (isDryRun(request.params)) return success(typed, 201);
  return success(api.store.put('deployments', typed), 201);
}

/** store.go Create: an AlreadyExists for an object that is being deleted says so. */
function beingDeletedPrefix(existing: StoredObject, answer: Answer): Answer {
  if (!isBeingDeleted(existing) || !isObject(answer.body)) return answer;
  return { ...answer, body: { ...answer.body, message: `object is being deleted: ${String(answer.body['message'])}` } };
}

/** Warning headers as the server sends them (`299 - "<text>"`). */
function withWarnings(answer: Answer, warnings: readonly string[]): Answer {
  if (warnings.length === 0) return answer;
  const warning = warnings.map((text) => `299 - ${JSON.stringify(text)}`).join(', ');
  return { ...answer, headers: { ...answer.headers, Warning: warning } };
}

// ---- PATCH ----

export function patchDeployment(api: ApiServer, request: WriteRequest): Answer {
  const type = mediaType(request.contentType);
  if (!PATCH_TYPES.includes(type)) return unsupportedMediaType(PATCH_TYPES);
  const apply = type === 'application/apply-patch+yaml';
  // ValidatePatchOptions.
  const errors: FieldError[] = [];
  const force = request.params.get('force');
  if (!apply && force !== null) {
    errors.push({
      field: 'force',
      reason: 'FieldValueForbidden',
      message: 'Forbidden: may not be specified for non-apply patch',
    });
  }
  if (apply && (request.params.get('fieldManager') ?? '') === '') {
    errors.push({
      field: 'fieldManager',
      reason: 'FieldValueRequired',
      message: 'Required value: is required for apply patch',
    });
  }
  errors.push(...optionErrors(request.params));
  if (errors.length > 0) return invalid('PatchOptions', 'meta.k8s.io', '', errors);
  const live = api.store.get('deployments', request.namespace, request.name);
  if (apply) return applyDeployment(api, request, live, force === 'true');
  if (live === undefined) return notFound(DEPLOYMENTS, request.name);
  const patch = parseJson(request.body);
  if (patch === undefined) return badRequest('invalid JSON in patch body');
  const current = withTypeMeta('deployments', live);
  const patched = type === 'application/merge-patch+json' ? mergePatch(current, patch) : jsonPatch(current, patch);
  if (typeof patched === 'string') {
    return failure(422, '', patched);
  }
  if (!isObject(patched)) return badRequest('the patched object is not an object');
  const dropped = unknownFields(patched).map((field) => `unknown field ${JSON.stringify(field.decoderPath)}`);
  const manager: Manager = {
    manager: managerFor(request.params, request.userAgent),
    operation: 'Update',
    apiVersion: 'apps/v1',
  };
  const answer = update(api, request, live, withoutUnknownFields(patched), (next) =>
    recordUpdate('deployments', live, next, decodeManaged(live), manager, timestamp(api.now())),
  );
  return withWarnings(answer, request.params.get('fieldValidation') === 'Ignore' ? [] : dropped);
}

/** Server-side apply (fieldmanager Apply, then the store's update or create-on-update). */
function applyDeployment(
  api: ApiServer,
  request: WriteRequest,
  live: StoredObject | undefined,
  force: boolean,
): Answer {
  let decoded: unknown;
  try {
    decoded = parseYaml(request.body);
  } catch (error) {
    return badRequest(`error decoding YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  const config = toJson(decoded);
  if (!isObject(config)) return badRequest('error decoding YAML: the body is not an object');
  const apiVersion = stringAt(config, 'apiVersion') ?? '';
  if (apiVersion !== 'apps/v1') {
    return badRequest(
      `Incorrect version specified in apply patch. Specified patch version: ${apiVersion}, expected: apps/v1`,
    );
  }
  const kind = stringAt(config, 'kind') ?? '';
  if (kind !== 'Deployment') {
    const detail =
      `failed to create typed patch object (${request.namespace}/${stringAt(config, 'metadata', 'name') ?? ''}; ` +
      `apps/v1, Kind=${kind}): no corresponding type for apps/v1, Kind=${kind}`;
    return failure(500, '', detail);
  }
  if (objectAt(config, 'metadata')?.['managedFields'] !== undefined) {
    return badRequest('metadata.managedFields must be nil');
  }
  const undeclared = unknownFields(config).map((field) => `${field.schemaPath}: field not declared in schema`);
  if (undeclared.length > 0) {
    // structuredmerge.go: the configuration does not convert to its schema; the error is not a Status, so the
    // server answers 500 with StatusReasonUnknown, which is empty (responsewriters.ErrorToAPIStatus).
    const errors =
      undeclared.length === 1 ? (undeclared[0] ?? '') : ['errors:', ...undeclared.map((e) => `  ${e}`)].join('\n');
    const name = stringAt(config, 'metadata', 'name') ?? '';
    return failure(
      500,
      '',
      `failed to create typed patch object (${request.namespace}/${name}; apps/v1, Kind=Deployment): ${errors}`,
    );
  }
  const manager: Manager = {
    manager: request.params.get('fieldManager') ?? '',
    operation: 'Apply',
    apiVersion: 'apps/v1',
  };
  const time = timestamp(api.now());
  const base = live ?? emptyObject('deployments');
  const outcome = recordApply(
    'deployments',
    base,
    config,
    live === undefined ? new Map() : decodeManaged(live),
    manager,
    force,
    time,
  );
  if (!outcome.ok) {
    // internal.NewConflictError: one cause per conflict, no name or kind in the details.
    return failure(409, 'Conflict', conflictMessage(outcome.conflicts), {
      causes: outcome.conflicts.map(({ manager: id, path }) => ({
        reason: 'FieldManagerConflict',
        message: `conflict with ${describeManager(id)}`,
        field: pathString(path),
      })),
    });
  }
  const next: StoredObject = { ...outcome.object, metadata: { ...(objectAt(outcome.object, 'metadata') ?? {}) } };
  const objectName = stringAt(next, 'metadata', 'name') ?? '';
  const objectNamespace = stringAt(next, 'metadata', 'namespace') ?? '';
  if (objectNamespace !== '' && objectNamespace !== request.namespace) {
    return badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (objectName !== request.name) {
    return badRequest(`the name of the object (${objectName}) does not match the name on the URL (${request.name})`);
  }
  next.metadata['namespace'] = request.namespace;
  const encoded = encodeManaged(outcome.managed);

  if (live === undefined) {
    const uid = stringAt(next, 'metadata', 'uid');
    if (uid !== undefined && uid !== '') {
      return conflict(
        DEPLOYMENTS,
        request.name,
        `uid mismatch: the provided object specified uid ${uid}, and no existing object was found`,
      );
    }
    const lifecycle = api.namespaceLifecycle('CREATE', request.namespace, request.name);
    if (lifecycle !== undefined) return lifecycle;
    for (const field of [
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'selfLink',
      'resourceVersion',
    ]) {
      dropKey(next.metadata, field);
    }
    const object: StoredObject = {
      ...next,
      metadata: { ...next.metadata, uid: randomUUID(), generation: 1, creationTimestamp: time, managedFields: encoded },
      status: {},
    };
    defaultDeployment(object);
    const problems = validateDeployment(object);
    if (problems.length > 0) return invalid('Deployment', 'apps', request.name, problems);
    // withAuthorization (handlers/rest.go): the create is authorized on its own; RBAC gives no reason, so the
    // message ends after "is forbidden: ".
    if (!api.mayCreate(request.namespace)) return forbidden(DEPLOYMENTS, request.name, '');
    const admission = api.validatingAdmission('CREATE', request.namespace, request.name);
    if (admission !== undefined) return admission;
    const typed = withTypeMeta('deployments', object);
    if (isDryRun(request.params)) return success(typed, 201);
    return success(api.store.put('deployments', typed), 201);
  }
  return update(api, request, live, next, () => outcome.managed, encoded);
}

/** The store's update: resourceVersion precondition, PrepareForUpdate (status kept, generation), validation,
 * admission, and no write when nothing changed. */
function update(
  api: ApiServer,
  request: WriteRequest,
  live: StoredObject,
  patched: JsonObject,
  managedFor: (next: StoredObject) => ReturnType<typeof decodeManaged>,
  encoded?: Json[],
): Answer {
  const patchedMetadata = objectAt(patched, 'metadata') ?? {};
  const name = stringAt(patchedMetadata, 'name') ?? '';
  if (name !== request.name) {
    return badRequest(`the name of the object (${name}) does not match the name on the URL (${request.name})`);
  }
  const wanted = patchedMetadata['resourceVersion'];
  if (typeof wanted === 'string' && wanted !== '' && wanted !== live.metadata['resourceVersion']) {
    return conflict(DEPLOYMENTS, request.name, OPTIMISTIC_LOCK);
  }
  const next: StoredObject = withTypeMeta('deployments', {
    ...clone(patched),
    metadata: { ...clone(patchedMetadata) },
  });
  for (const field of [
    'uid',
    'creationTimestamp',
    'namespace',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'generation',
  ]) {
    const value = live.metadata[field];
    if (value === undefined) dropKey(next.metadata, field);
    else next.metadata[field] = value;
  }
  next.metadata['resourceVersion'] = live.metadata['resourceVersion'] ?? '';
  defaultDeployment(next);
  next['status'] = live['status'] ?? {};
  delete next.metadata['managedFields'];
  const managed = encoded ?? encodeManaged(managedFor(next));
  if (managed.length > 0) next.metadata['managedFields'] = managed;
  if (generationBumps('deployments', live, next)) {
    const generation = live.metadata['generation'];
    next.metadata['generation'] = (typeof generation === 'number' ? generation : 0) + 1;
  }
  const problems = validateDeployment(next, live);
  if (problems.length > 0) return invalid('Deployment', 'apps', request.name, problems);
  const admission = api.validatingAdmission('UPDATE', request.namespace, request.name);
  if (admission !== undefined) return admission;
  if (jsonEqual(next, live)) return success(live);
  if (isDryRun(request.params)) return success(next);
  return success(api.store.put('deployments', next));
}

/** RFC 7386. */
function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) dropKey(result, key);
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/** RFC 6902 (add, remove, replace, test); a string is the error json-patch gives. */
function jsonPatch(target: JsonObject, patch: Json): Json | string {
  if (!Array.isArray(patch)) return 'json: cannot unmarshal object into Go value of type jsonpatch.Patch';
  let document: Json = clone(target);
  for (const operation of patch) {
    const op = stringAt(operation, 'op');
    const path = stringAt(operation, 'path') ?? '';
    const steps = path
      .split('/')
      .slice(1)
      .map((step) => step.replace(/~1/g, '/').replace(/~0/g, '~'));
    const value = isObject(operation) ? operation['value'] : undefined;
    const parentSteps = steps.slice(0, -1);
    const last = steps[steps.length - 1] ?? '';
    let parent: Json | undefined = document;
    for (const step of parentSteps) {
      parent = Array.isArray(parent) ? parent[Number(step)] : isObject(parent) ? parent[step] : undefined;
    }
    if (parent === undefined || parent === null || typeof parent !== 'object')
      return `doc is missing path: "${path}": missing value`;
    const exists = Array.isArray(parent) ? Number(last) < parent.length : last in parent;
    switch (op) {
      case 'add':
      case 'replace':
        if (value === undefined) return `missing value for ${op} operation`;
        if (op === 'replace' && !exists)
          return `replace operation does not apply: doc is missing key: ${path}: missing value`;
        if (Array.isArray(parent)) {
          if (last === '-') parent.push(clone(value));
          else parent.splice(Number(last), op === 'replace' ? 1 : 0, clone(value));
        } else parent[last] = clone(value);
        break;
      case 'remove':
        if (!exists) return `remove operation does not apply: doc is missing path: "${path}": missing value`;
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else dropKey(parent, last);
        break;
      case 'test': {
        const actual = Array.isArray(parent) ? parent[Number(last)] : parent[last];
        if (!jsonEqual(actual, value)) return `testing value ${path} failed: test failed`;
        break;
      }
      default:
        return `Unexpected kind: ${op ?? ''}`;
    }
    if (steps.length === 0 && value !== undefined) document = clone(value);
  }
  return document;
}

// ---- DELETE ----

const POLICIES: readonly PropagationPolicy[] = ['Foreground', 'Background', 'Orphan'];

export function deleteDeployment(api: ApiServer, request: WriteRequest): Answer {
  let options: JsonObject = {};
  if (request.body.trim() !== '') {
    const parsed = parseJson(request.body);
    if (!isObject(parsed))
      return badRequest(`couldn't get version/kind; json parse error: invalid character in DeleteOptions`);
    options = parsed;
  } else {
    const policy = request.params.get('propagationPolicy');
    if (policy !== null) options['propagationPolicy'] = policy;
    const dryRun = request.params.getAll('dryRun');
    if (dryRun.length > 0) options['dryRun'] = dryRun;
    const orphan = request.params.get('orphanDependents');
    if (orphan !== null) options['orphanDependents'] = orphan === 'true';
    const grace = request.params.get('gracePeriodSeconds');
    if (grace !== null) options['gracePeriodSeconds'] = Number(grace);
  }
  const errors: FieldError[] = [];
  const policy = options['propagationPolicy'];
  const orphanDependents = options['orphanDependents'];
  if (typeof orphanDependents === 'boolean' && policy !== undefined && policy !== null) {
    errors.push({
      field: 'propagationPolicy',
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${JSON.stringify(policy)}: orphanDependents and deletionPropagation cannot be both set`,
    });
  }
  if (typeof policy === 'string' && !POLICIES.some((p) => p === policy)) {
    errors.push({
      field: 'propagationPolicy',
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"`,
    });
  }
  const dryRun = Array.isArray(options['dryRun']) ? options['dryRun'] : [];
  if (dryRun.some((value) => value !== 'All')) {
    errors.push({
      field: 'dryRun',
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: []string{${dryRun.map((v) => JSON.stringify(v)).join(', ')}}: supported values: "All"`,
    });
  }
  if (errors.length > 0) return invalid('DeleteOptions', 'meta.k8s.io', '', errors);

  const live = api.store.get('deployments', request.namespace, request.name);
  if (live === undefined) return notFound(DEPLOYMENTS, request.name);
  const preconditions = objectAt(options, 'preconditions') ?? {};
  const uid = preconditions['uid'];
  const liveUid = stringAt(live, 'metadata', 'uid') ?? '';
  const precondition = (reason: string): Answer =>
    failure(
      409,
      'Conflict',
      `Operation cannot be fulfilled on Deployment.apps ${JSON.stringify(request.name)}: ${reason}`,
      {
        name: request.name,
        group: 'apps',
        kind: 'Deployment',
      },
    );
  if (typeof uid === 'string' && uid !== liveUid) {
    return precondition(
      `the UID in the precondition (${uid}) does not match the UID in record (${liveUid}). The object might have been deleted and then recreated`,
    );
  }
  const version = preconditions['resourceVersion'];
  const liveVersion = stringAt(live, 'metadata', 'resourceVersion') ?? '';
  if (typeof version === 'string' && version !== liveVersion) {
    return precondition(
      `the ResourceVersion in the precondition (${version}) does not match the ResourceVersion in record (${liveVersion}). The object might have been modified`,
    );
  }
  const admission = api.validatingAdmission('DELETE', request.namespace, request.name);
  if (admission !== undefined) return admission;
  const propagationPolicy: PropagationPolicy | undefined =
    typeof policy === 'string'
      ? POLICIES.find((p) => p === policy)
      : orphanDependents === true
        ? 'Orphan'
        : orphanDependents === false
          ? 'Background'
          : undefined;
  const result = deleteObject(api, 'deployments', live, {
    ...(propagationPolicy === undefined ? {} : { propagationPolicy }),
    dryRun: dryRun.length > 0,
  });
  if (result.deleted) {
    return success({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: request.name, group: 'apps', kind: 'deployments', uid: liveUid },
    });
  }
  return success(withTypeMeta('deployments', result.object), orphanDependents === false ? 202 : 200);
}
