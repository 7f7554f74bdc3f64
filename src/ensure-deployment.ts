import type { AwsCredentials, ClusterEndpoint } from './config.js';
import { MAX_ATTEMPTS, REQUEST_TIMEOUT_MS, RETRYABLE_STATUS_CODES } from './constants.js';
import { buildDeployment } from './deployment.js';
import {
  ClusterAuthenticationError,
  ClusterAuthorizationError,
  ClusterUnreachableError,
  KubernetesApiError,
} from './errors.js';
import type { DeploymentRequest } from './event.js';
import { createDeployment, type CreateOutcome } from './kube.js';
import { log } from './log.js';
import { backoffDelay, sleep } from './retry.js';
import { dropCachedToken, issueEksToken } from './token-cache.js';

/** What the function returns. */
export interface DeploymentResult {
  readonly status: 'created' | 'exists' | 'dry-run';
  readonly name: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly image: string;
  readonly uid?: string;
}

export interface EnsureDeploymentInput {
  readonly clusterName: string;
  readonly region: string;
  readonly cluster: ClusterEndpoint;
  readonly credentials: AwsCredentials;
  readonly request: DeploymentRequest;
  /** Epoch ms by which the function must have answered. */
  readonly deadline: number;
}

/** The result and how many requests it took. */
export interface EnsureDeploymentOutcome {
  readonly result: DeploymentResult;
  readonly attempts: number;
}

/** Below this much time left there is no point starting a request. */
const MIN_REQUEST_MS = 50;

/** Creates the Deployment, or finds it already there (409 AlreadyExists), retrying what is worth retrying within
 * the deadline. Throws ClusterAuthenticationError (401), ClusterAuthorizationError (403), KubernetesApiError (other
 * non-2xx) or ClusterUnreachableError (network, TLS, timeout). */
export async function ensureDeployment(input: EnsureDeploymentInput): Promise<EnsureDeploymentOutcome> {
  const { request, cluster, deadline } = input;
  const body = buildDeployment(request);
  let reminted = false;
  for (let attempt = 1; ; attempt += 1) {
    const now = Date.now();
    const timeoutMs = Math.min(REQUEST_TIMEOUT_MS, deadline - now);
    if (timeoutMs < MIN_REQUEST_MS) {
      throw new ClusterUnreachableError(
        `ran out of time before ${cluster.endpoint} answered (${attempt - 1} attempts); raise the function's Timeout ` +
          'or check that the API server is reachable from the function.',
      );
    }
    const issued = await issueEksToken(input.credentials, input.region, input.clusterName, now);
    const outcome = await createDeployment({
      cluster,
      token: issued.token,
      namespace: request.namespace,
      body,
      dryRun: request.dryRun,
      timeoutMs,
    });
    const base = { name: request.name, namespace: request.namespace, replicas: request.replicas, image: request.image };
    if (outcome.kind === 'created') {
      const status = request.dryRun ? 'dry-run' : 'created';
      return { result: outcome.uid ? { status, ...base, uid: outcome.uid } : { status, ...base }, attempts: attempt };
    }
    if (outcome.kind === 'rejected' && outcome.httpStatus === 409 && outcome.status.reason === 'AlreadyExists') {
      return { result: { status: 'exists', ...base }, attempts: attempt };
    }
    if (outcome.kind === 'rejected' && outcome.httpStatus === 401 && issued.fromCache && !reminted) {
      // The cached token may have died with rotated credentials: one fresh token, one more try.
      dropCachedToken();
      reminted = true;
      log('warn', 'cached token rejected; minting a fresh one', { attempt });
      continue;
    }
    const failure = toError(outcome, input);
    const delay = retryDelay(outcome, attempt);
    if (delay === undefined) {
      throw failure;
    }
    if (attempt >= MAX_ATTEMPTS || Date.now() + delay + MIN_REQUEST_MS > deadline) {
      throw withAttempts(failure, attempt);
    }
    log('warn', 'retrying', { attempt, delayMs: delay, cause: describeOutcome(outcome) });
    await sleep(delay);
  }
}

/** How long to wait before trying again, or undefined when this outcome is final. */
function retryDelay(outcome: Exclude<CreateOutcome, { kind: 'created' }>, attempt: number): number | undefined {
  if (outcome.kind === 'unreachable') {
    return outcome.tlsTrust || outcome.code === 'ENOTFOUND' ? undefined : backoffDelay(attempt, Math.random());
  }
  if (!RETRYABLE_STATUS_CODES.has(outcome.httpStatus)) {
    return undefined;
  }
  return outcome.retryAfterMs ?? backoffDelay(attempt, Math.random());
}

function toError(outcome: Exclude<CreateOutcome, { kind: 'created' }>, input: EnsureDeploymentInput): Error {
  const { clusterName, cluster, request } = input;
  if (outcome.kind === 'unreachable') {
    if (outcome.tlsTrust) {
      return new ClusterUnreachableError(
        `TLS trust problem: the certificate served by ${cluster.endpoint} is not trusted (${outcome.code}: ` +
          `${outcome.detail}). The CA (CLUSTER_CA_DATA, or DescribeCluster's) and the endpoint must belong to the same ` +
          `cluster: compare them with "aws eks describe-cluster --name ${clusterName}".`,
      );
    }
    if (outcome.code === 'ENOTFOUND') {
      return new ClusterUnreachableError(
        `the host of ${cluster.endpoint} does not resolve (${outcome.detail}). A cluster with a private endpoint is ` +
          'only reachable from its VPC: deploy the function with SubnetIds and ClusterSecurityGroupId.',
      );
    }
    return new ClusterUnreachableError(
      `could not reach ${cluster.endpoint} (${outcome.code}: ${outcome.detail}). Check that the endpoint is reachable ` +
        "from the function: a private endpoint needs the function in the cluster's VPC and 443 open on the cluster " +
        'security group.',
    );
  }
  const { httpStatus, status } = outcome;
  const said = `HTTP ${httpStatus}${status.reason ? ` ${status.reason}` : ''}${status.message ? `: ${status.message}` : ''}`;
  if (httpStatus === 401) {
    return new ClusterAuthenticationError(
      `cluster "${clusterName}" rejected the function's token (${said}): it does not map the function's IAM role to a ` +
        'Kubernetes identity. Fix: create an EKS access entry for the role with the Kubernetes group that ' +
        'permissions.yml binds (the stack does this with CreateAccessEntry=true; or "aws eks create-access-entry ' +
        `--cluster-name ${clusterName} --principal-arn <role-arn> --kubernetes-groups lambda-deployers"), or, on a ` +
        `cluster in CONFIG_MAP mode, "eksctl create iamidentitymapping --cluster ${clusterName} --arn <role-arn> ` +
        '--group lambda-deployers --username lambda-eks". A new mapping can take a minute to apply.',
    );
  }
  if (httpStatus === 403) {
    return new ClusterAuthorizationError(
      `cluster "${clusterName}" refused to let the function create deployments.apps in namespace ` +
        `"${request.namespace}" (${said}). The function needs verb "create" on resource "deployments" in API group ` +
        `"apps" in that namespace: apply permissions.yml there ("kubectl apply -n ${request.namespace} -f ` +
        'permissions.yml") and make sure the role is in the group it binds.',
    );
  }
  return new KubernetesApiError(
    httpStatus,
    status.reason ?? '',
    status.message ?? '',
    `the cluster answered ${said}. ${hint(httpStatus, request)}`,
  );
}

function hint(httpStatus: number, request: DeploymentRequest): string {
  if (httpStatus === 404) {
    return `Does namespace "${request.namespace}" exist? Create it ("kubectl create namespace ${request.namespace}") or pass another "namespace".`;
  }
  if (httpStatus === 422 || httpStatus === 400) {
    return 'The cluster rejected the Deployment as invalid; check the event fields it names.';
  }
  if (RETRYABLE_STATUS_CODES.has(httpStatus)) {
    return 'The API server kept failing; invoke again later.';
  }
  return 'See the message above.';
}

function withAttempts(error: Error, attempts: number): Error {
  error.message = `${error.message} (gave up after ${attempts} attempts)`;
  return error;
}

function describeOutcome(outcome: Exclude<CreateOutcome, { kind: 'created' }>): string {
  return outcome.kind === 'unreachable' ? outcome.code : `HTTP ${outcome.httpStatus}`;
}
