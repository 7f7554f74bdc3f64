// The function as a CloudFormation custom resource provider (Type: Custom::KubernetesDeployment). CloudFormation
// invokes it asynchronously with a Create, Update or Delete request and waits for an answer PUT to the request's
// ResponseURL. Every path ends in exactly one answer, sent before the function's deadline; after answering the
// handler returns normally, so Lambda does not retry an answered request.
import type { Context } from 'aws-lambda';
import { applyAction } from '../deployment/apply.js';
import { createAction } from '../deployment/create.js';
import { deleteAction } from '../deployment/delete.js';
import { fetchDeployment, waitForRollout } from '../deployment/observe.js';
import { openSession } from '../run.js';
import { readConfig, readCredentials, type FunctionConfig } from '../config.js';
import {
  CLUSTER_NAME_PATTERN,
  DEFAULT_IMAGE,
  DEFAULT_REPLICAS,
  DNS1123_LABEL,
  MANAGER,
  STACK_RESOURCE_ANNOTATION,
} from '../constants.js';
import {
  ConfigurationError,
  describeThrown,
  InvalidEventError,
  KubernetesApiError,
  RolloutFailedError,
  RolloutTimeoutError,
  SetConflictError,
} from '../errors.js';
import type { Session } from '../kube/session.js';
import { warm } from '../state.js';
import { responseBody, sendResponse, type CfnResponse } from './cfn-response.js';
import { actionDeadline, workDeadline } from './deadline.js';
import { dropIdleConnection } from '../kube/http.js';
import { buildRequest, type Action, type ActionRequest } from '../deployment/request.js';
import { truncate } from '../fields.js';
import { log } from '../log.js';
import {
  ownerOf,
  type CustomResourceRequest,
  type Handler,
  type Outcome,
  type RequestType,
} from './resource-request.js';

export type { CustomResourceRequest } from './resource-request.js';

/** What the handler returns after answering (Lambda discards it for an asynchronous invocation). */
export interface CustomResourceAnswer {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly PhysicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
}

/** The properties a Custom::KubernetesDeployment takes, and the event field each maps to. ServiceToken and
 * ServiceTimeout are CloudFormation's own. */
const PROPERTIES: Readonly<Record<string, string>> = {
  Name: 'name',
  Namespace: 'namespace',
  Replicas: 'replicas',
  Image: 'image',
  Wait: 'wait',
  Force: 'force',
};
const CLOUDFORMATION_PROPERTIES: ReadonlySet<string> = new Set(['ServiceToken', 'ServiceTimeout']);
const PROPERTY_OF: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(PROPERTIES).map(([property, field]) => [field, property]),
);

/** The PhysicalResourceId of the Deployment `name` in `namespace` of `cluster`. This format never changes: a
 * changed id makes CloudFormation think the resource was replaced and delete the live object. */
export function physicalResourceId(cluster: string, namespace: string, name: string): string {
  return `${MANAGER}/${cluster}/${namespace}/${name}`;
}

/** The id answered for a Create that created nothing; a Delete of it deletes nothing. */
function notCreatedId(request: CustomResourceRequest): string {
  return `${MANAGER}/not-created/${request.requestId}`;
}

/** The Deployment an id of ours names, or undefined for any other id. */
export function parsePhysicalResourceId(
  id: string | undefined,
): { cluster: string; namespace: string; name: string } | undefined {
  const [prefix, cluster = '', namespace = '', name = '', ...rest] = (id ?? '').split('/');
  const ours =
    prefix === MANAGER &&
    rest.length === 0 &&
    CLUSTER_NAME_PATTERN.test(cluster) &&
    DNS1123_LABEL.test(namespace) &&
    DNS1123_LABEL.test(name);
  return ours ? { cluster, namespace, name } : undefined;
}

/** Whether an event is a CloudFormation custom resource request (it has CloudFormation's RequestType and
 * ResponseURL); anything else is a direct invocation. */
export function isCustomResourceRequest(event: unknown): boolean {
  return typeof event === 'object' && event !== null && 'RequestType' in event && 'ResponseURL' in event;
}

/** Validates the request's envelope. Throws InvalidEventError when it cannot be answered safely (no usable
 * ResponseURL, a missing id): there is no one to tell, so Lambda reports the error. */
export function parseCustomResourceRequest(event: unknown): CustomResourceRequest {
  const field = (key: string): unknown =>
    typeof event === 'object' && event !== null ? Reflect.get(event, key) : undefined;
  const text = (key: string, optional = false): string | undefined => {
    const value = field(key);
    if (value === undefined && optional) return undefined;
    if (typeof value !== 'string' || value === '') {
      throw new InvalidEventError(key, 'a CloudFormation custom resource request must carry it as a non-empty string');
    }
    return value;
  };
  const requestType = text('RequestType');
  if (requestType !== 'Create' && requestType !== 'Update' && requestType !== 'Delete') {
    throw new InvalidEventError(
      'RequestType',
      `must be Create, Update or Delete, not ${JSON.stringify(truncate(String(requestType)))}`,
    );
  }
  const properties = field('ResourceProperties') ?? {};
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
    throw new InvalidEventError('ResourceProperties', 'must be an object');
  }
  return {
    requestType,
    responseUrl: responseUrl(text('ResponseURL') ?? ''),
    stackId: text('StackId') ?? '',
    requestId: text('RequestId') ?? '',
    logicalResourceId: text('LogicalResourceId') ?? '',
    resourceType: text('ResourceType') ?? '',
    physicalResourceId: text('PhysicalResourceId', requestType === 'Create'),
    properties: { ...properties },
    oldProperties: objectOrUndefined(field('OldResourceProperties')),
  };
}

/** Serves a custom resource request: runs it, answers CloudFormation, logs one record, returns what it answered.
 * Throws InvalidEventError for a request it cannot answer, ResponseNotDeliveredError when the answer did not get
 * through (so that Lambda retries). */
export async function serveCustomResource(event: unknown, context: Context): Promise<CustomResourceAnswer> {
  const startedAt = Date.now();
  const remainingMs = context.getRemainingTimeInMillis();
  const answerBy = workDeadline(startedAt, remainingMs);
  dropIdleConnection(startedAt);
  let request: CustomResourceRequest;
  try {
    request = parseCustomResourceRequest(event);
  } catch (error) {
    logOutcome(undefined, undefined, startedAt, error);
    throw error;
  }
  const outcome = await perform(request, startedAt, actionDeadline(answerBy, remainingMs));
  const response: CfnResponse = {
    Status: outcome.error === undefined ? 'SUCCESS' : 'FAILED',
    ...(outcome.error === undefined ? {} : { Reason: reasonOf(outcome.error) }),
    PhysicalResourceId: outcome.physicalResourceId,
    StackId: request.stackId,
    RequestId: request.requestId,
    LogicalResourceId: request.logicalResourceId,
    ...(outcome.data ? { Data: outcome.data } : {}),
  };
  let attempts: number;
  try {
    attempts = await sendResponse(request.responseUrl, responseBody(response), answerBy);
  } catch (error) {
    logOutcome(request, { ...outcome, status: 'undelivered' }, startedAt, error);
    throw error;
  }
  logOutcome(request, { ...outcome, status: response.Status, attempts }, startedAt, outcome.error);
  return {
    Status: response.Status,
    PhysicalResourceId: response.PhysicalResourceId,
    ...(outcome.data ? { Data: outcome.data } : {}),
  };
}

/** Runs the request; never throws: a failure is an outcome with the id CloudFormation must hear. */
async function perform(request: CustomResourceRequest, startedAt: number, deadline: number): Promise<Outcome> {
  let session: Session | undefined;
  // Until an object of this resource is known to exist, a failed Create answers an id whose Delete deletes nothing.
  const answered = {
    id: request.requestType === 'Create' ? notCreatedId(request) : (request.physicalResourceId ?? ''),
  };
  try {
    const config = (warm.config ??= readConfig(process.env));
    session = await openSession({ config, credentials: readCredentials(process.env), startedAt, deadline });
    const done = await handlerFor(request)(request, session, config, answered);
    return { ...done, requests: session.requests };
  } catch (error) {
    return { physicalResourceId: answered.id, error, requests: session?.requests ?? 0 };
  }
}

/** The resource types the function serves. */
export const MANIFEST_RESOURCE_TYPE = 'Custom::KubernetesManifest';
const DEPLOYMENT_RESOURCE_TYPES: readonly string[] = [
  'Custom::KubernetesDeployment',
  'AWS::CloudFormation::CustomResource',
];

/** The handler of a request: by its ResourceType. A Create of any other type is refused; an Update or Delete of one is
 * served as a Custom::KubernetesDeployment, as every version before this one served any type (CloudFormation cannot
 * change a resource's type, so those stacks keep working). */
function handlerFor(request: CustomResourceRequest): Handler {
  if (request.resourceType === MANIFEST_RESOURCE_TYPE) {
    // The set engine is loaded on first use (its own part of the bundle), as for the direct set actions.
    return async (...args) => (await import('./manifest-resource.js')).MANIFEST_HANDLERS[request.requestType](...args);
  }
  if (request.requestType === 'Create' && !DEPLOYMENT_RESOURCE_TYPES.includes(request.resourceType)) {
    return refuseType;
  }
  const handlers: Readonly<Record<RequestType, Handler>> = { Create: onCreate, Update: onUpdate, Delete: onDelete };
  return handlers[request.requestType];
}

const refuseType: Handler = (request) => {
  throw new InvalidEventError(
    'ResourceType',
    `${JSON.stringify(truncate(request.resourceType))} is not a resource type this function serves: use ` +
      `${MANIFEST_RESOURCE_TYPE} (any manifest) or ${DEPLOYMENT_RESOURCE_TYPES.join(' or ')} (one Deployment)`,
  );
};

/** Create: the Deployment must not exist, unless this very stack resource created it (a retried invocation). */
const onCreate: Handler = async (request, session, config, answered) => {
  const spec = propertiesRequest(request, 'create', config, config.namespace);
  const id = physicalResourceId(config.clusterName, spec.namespace, spec.name);
  const { uid } = await createOwned(request, session, spec);
  // From here a failure leaves an object of this resource: the Delete of rollback removes it.
  answered.id = id;
  if (spec.wait) {
    await waitForRollout(
      session,
      spec,
      "The Deployment is left to CloudFormation: the rollback of the failed Create deletes it (unless the stack's " +
        'rollback is disabled).',
    );
  }
  return { physicalResourceId: id, data: dataFrom(spec, 'created', uid) };
};

/** Update: apply the new properties; a new Name or Namespace is a replacement (a new id), and CloudFormation then
 * deletes the old one. A rollback is an Update back to the old properties. */
const onUpdate: Handler = async (request, session, config) => {
  // Without a Namespace property, the resource's namespace is the one its id names, even if the function's NAMESPACE
  // has changed since: otherwise a changed default would replace every such resource.
  const namespace = parsePhysicalResourceId(request.physicalResourceId)?.namespace ?? config.namespace;
  const spec = propertiesRequest(request, 'apply', config, namespace);
  const id = physicalResourceId(config.clusterName, spec.namespace, spec.name);
  if (id === request.physicalResourceId) {
    const applied = await applyAction(session, { ...spec, annotations: ownerAnnotation(request) });
    return { physicalResourceId: id, data: dataFrom(spec, applied.status, applied.uid) };
  }
  const placed = await placeReplacement(request, session, spec);
  try {
    if (spec.wait) await waitForRollout(session, spec, '');
  } catch (error) {
    // The replacement failed, and CloudFormation keeps the old resource: undo only what this invocation created.
    const aftermath = placed.created
      ? await undoReplacement(session, spec, placed.uid)
      : `Deployment ${spec.namespace}/${spec.name} existed before this update (created for this stack resource) and ` +
        'is left as the update applied it.';
    throw withAftermath(error, aftermath);
  }
  return { physicalResourceId: id, data: dataFrom(spec, placed.status, placed.uid) };
};

/** Delete: only the Deployment the id names, only if this stack resource created it; anything else is SUCCESS
 * with nothing deleted. */
const onDelete: Handler = async (request, session, config) => {
  const id = request.physicalResourceId ?? '';
  const named = parsePhysicalResourceId(id);
  if (named === undefined) {
    log('info', 'custom resource: nothing to delete', {
      reason: 'the id is not one of a Deployment this function made',
      physicalResourceId: truncate(id),
    });
    return { physicalResourceId: id };
  }
  if (named.cluster !== config.clusterName) {
    // Deleting nothing and answering SUCCESS would leave the Deployment behind in the other cluster for good.
    throw new ConfigurationError(
      `this function manages cluster "${config.clusterName}", but the resource's Deployment ` +
        `${named.namespace}/${named.name} is in cluster "${named.cluster}" (PhysicalResourceId ${id}); nothing was ` +
        `deleted. Delete it with the function deployed for cluster "${named.cluster}" (point the resource's ` +
        'ServiceToken at it and update the stack), or finish deleting the stack and keep the Deployment: ' +
        `aws cloudformation delete-stack --stack-name <stack> --retain-resources ${request.logicalResourceId}`,
      { variable: 'CLUSTER_NAME' },
    );
  }
  const target = { action: 'delete' as const, namespace: named.namespace, name: named.name };
  const existing = await fetchDeployment(session, target, 'delete');
  const owner = existing?.metadata?.annotations?.[STACK_RESOURCE_ANNOTATION];
  if (existing === undefined || owner !== ownerOf(request)) {
    log('info', 'custom resource: nothing to delete', {
      reason:
        existing === undefined
          ? 'the Deployment is already gone'
          : 'the Deployment was not created for this stack resource',
      physicalResourceId: id,
    });
    return { physicalResourceId: id, data: dataFrom(target, existing === undefined ? 'absent' : 'kept', undefined) };
  }
  const wait = request.properties['Wait'] === true || request.properties['Wait'] === 'true';
  try {
    const deleted = await deleteAction(session, { ...target, dryRun: false, wait });
    return { physicalResourceId: id, data: dataFrom(target, deleted.status, deleted.uid) };
  } catch (error) {
    if (!(error instanceof SetConflictError)) throw error;
    // A set took the Deployment over (apply-manifest with adopt): it is the set's now, and goes with the set.
    log('info', 'custom resource: nothing to delete', { reason: error.message, physicalResourceId: id });
    return { physicalResourceId: id, data: dataFrom(target, 'kept', existing.metadata?.uid) };
  }
};

/** Creates the Deployment with this resource as its recorded creator and returns its uid, and whether this call
 * created it; an existing one must have been created for this very resource (a retried Create, or a rollback to an
 * earlier name). Throws KubernetesApiError (409) for anyone else's. */
async function createOwned(
  request: CustomResourceRequest,
  session: Session,
  spec: Extract<ActionRequest, { action: 'create' }>,
): Promise<{ uid: string | undefined; created: boolean }> {
  const result = await createAction(session, { ...spec, wait: false, annotations: ownerAnnotation(request) });
  if (result.status === 'created') {
    return { uid: result.uid, created: true };
  }
  const existing = await fetchDeployment(session, spec, 'apply');
  const owner = existing?.metadata?.annotations?.[STACK_RESOURCE_ANNOTATION];
  if (existing !== undefined && owner === ownerOf(request)) {
    return { uid: existing.metadata?.uid, created: false };
  }
  throw new KubernetesApiError(
    409,
    'AlreadyExists',
    '',
    `deployment ${spec.namespace}/${spec.name} already exists and was not created by this stack resource ` +
      `(${owner === undefined ? 'it records no creator' : `its creator is ${owner}`}); CloudFormation creates ` +
      'resources, it does not adopt them, and nothing was changed. Give the resource another Name, or delete the ' +
      'Deployment first.',
  );
}

/** Puts the replacement Deployment in place: creates it, or, when one created for this very resource is there
 * already (a rollback to an earlier Name), converges it to the properties with an apply. */
async function placeReplacement(
  request: CustomResourceRequest,
  session: Session,
  spec: Extract<ActionRequest, { action: 'apply' }>,
): Promise<{ uid: string | undefined; created: boolean; status: string }> {
  const creation = {
    ...spec,
    action: 'create' as const,
    replicas: spec.replicas ?? DEFAULT_REPLICAS,
    image: spec.image ?? DEFAULT_IMAGE,
    wait: false,
  };
  const placed = await createOwned(request, session, creation);
  if (placed.created) {
    return { ...placed, status: 'created' };
  }
  const applied = await applyAction(session, { ...spec, wait: false, annotations: ownerAnnotation(request) });
  return { uid: applied.uid, created: false, status: applied.status };
}

/** Deletes the replacement this invocation created (that very object, by uid); says what became of it. */
async function undoReplacement(
  session: Session,
  spec: { namespace: string; name: string },
  uid: string | undefined,
): Promise<string> {
  const { namespace, name } = spec;
  try {
    await deleteAction(session, { action: 'delete', namespace, name, dryRun: false, wait: false }, uid ?? '');
    return `The function deleted the new Deployment ${namespace}/${name} again: CloudFormation keeps the old one.`;
  } catch (error) {
    log('warn', 'custom resource: could not remove the failed replacement', {
      namespace,
      name,
      errorType: describeThrown(error).name,
    });
    return (
      `The function could not delete the new Deployment ${namespace}/${name} again ` +
      `(${describeThrown(error).name}); delete it by hand: kubectl delete deployment -n ${namespace} ${name}.`
    );
  }
}

/** The wait's error with what became of the replacement added to its message. */
function withAftermath(error: unknown, aftermath: string): unknown {
  if (error instanceof RolloutFailedError) {
    return new RolloutFailedError(error.rollout, `${error.message} ${aftermath}`, { cause: error });
  }
  if (error instanceof RolloutTimeoutError) {
    return new RolloutTimeoutError(`${error.message} ${aftermath}`, { cause: error });
  }
  return error;
}

/** The request the resource properties describe, for `action`: PascalCase names, CloudFormation's strings
 * accepted where the direct event accepts numbers and booleans, nothing looser. Throws InvalidEventError naming the
 * property. */
function propertiesRequest<A extends 'create' | 'apply'>(
  request: CustomResourceRequest,
  action: A,
  config: FunctionConfig,
  defaultNamespace: string,
): Extract<ActionRequest, { action: A }> {
  for (const key of Object.keys(request.properties)) {
    if (!Object.hasOwn(PROPERTIES, key) && !CLOUDFORMATION_PROPERTIES.has(key)) {
      throw new InvalidEventError(
        truncate(key),
        `is not a property of ${request.resourceType}; it takes ${Object.keys(PROPERTIES).join(', ')}`,
      );
    }
  }
  const built = buildRequest(
    {
      // Force matters only to apply; a template sets it for every request type.
      get: (field) =>
        field === 'action' ? action : field === 'force' && action === 'create' ? undefined : property(request, field),
      named: (field) => PROPERTY_OF[field] ?? field,
      syntax: { strings: true },
    },
    defaultNamespace,
  );
  if (!isAction(built, action)) {
    throw new Error(`buildRequest answered action ${built.action} for ${action}`);
  }
  return built;
}

function isAction<A extends Action>(
  request: ActionRequest,
  action: A,
): request is Extract<ActionRequest, { action: A }> {
  return request.action === action;
}

function property(request: CustomResourceRequest, field: string): unknown {
  const name = PROPERTY_OF[field];
  return name === undefined || !Object.hasOwn(request.properties, name) ? undefined : request.properties[name];
}

function ownerAnnotation(request: CustomResourceRequest): Readonly<Record<string, string>> {
  return { [STACK_RESOURCE_ANNOTATION]: ownerOf(request) };
}

/** The attributes Fn::GetAtt reads: Uid, Name, Namespace, Status. */
function dataFrom(
  spec: { namespace: string; name: string },
  status: string,
  uid: string | undefined,
): Readonly<Record<string, string>> {
  return { ...(uid ? { Uid: uid } : {}), Name: spec.name, Namespace: spec.namespace, Status: status };
}

/** Reason for a FAILED answer: the errorType first, as Lambda would report it, then the message. */
function reasonOf(error: unknown): string {
  const { name, message } = describeThrown(error);
  return `${name}: ${message}`;
}

function objectOrUndefined(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : undefined;
}

/** An http: URL only to a loopback address (tests, sam local invoke); everything else must be https:. */
function responseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidEventError('ResponseURL', 'is not a URL');
  }
  const loopback = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/.test(url.hostname);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) {
    return url;
  }
  // Never quote the URL: its query is a credential.
  throw new InvalidEventError(
    'ResponseURL',
    `must be an https:// URL (or http:// to a loopback address, for tests); this one is ${url.protocol}// to ${url.host}`,
  );
}

/** One record per request. Its level follows the outcome: SUCCESS is INFO; FAILED, an answer that could not be
 * delivered (`undelivered`, and Lambda retries), or a request that could not be answered at all (`error`) is ERROR. */
function logOutcome(
  request: CustomResourceRequest | undefined,
  outcome: (Outcome & { status: 'SUCCESS' | 'FAILED' | 'undelivered'; attempts?: number }) | undefined,
  startedAt: number,
  error: unknown,
): void {
  const failure = error === undefined ? undefined : describeThrown(error);
  log(outcome?.status === 'SUCCESS' ? 'info' : 'error', 'custom resource', {
    requestType: request?.requestType,
    logicalResourceId: request?.logicalResourceId,
    stackId: request?.stackId,
    physicalResourceId: outcome?.physicalResourceId,
    outcome: outcome?.status ?? 'error',
    status: outcome?.data?.['Status'],
    errorType: failure?.name,
    errorMessage: failure?.message,
    requests: outcome?.requests,
    responseAttempts: outcome?.attempts,
    durationMs: Date.now() - startedAt,
  });
}
