// Turns the answers no retry fixed into the errors the function reports, each message written for the person who
// reads it in CloudWatch: what happened, in the server's words, and what to do about it.
import { GRANT_LABEL, MAX_RESPONSE_BYTES, RETRYABLE_STATUS_CODES } from '../constants.js';
import {
  ClusterAuthenticationError,
  ClusterAuthorizationError,
  ClusterUnreachableError,
  KubernetesApiError,
  ResponseTooLargeError,
} from '../errors.js';
import { RESPONSE_TOO_LARGE } from './http.js';
import type { Rejected, Unreachable } from './client.js';
import type { Grant, Purpose, Session } from './types.js';

/** RBAC's own wording (k8s.io/apiserver pkg/endpoints/handlers/responsewriters/errors.go, forbiddenMessage):
 * `User "u" cannot <verb> resource "<resource>" in API group "<group>" ...`. Every other 403 (ResourceQuota,
 * NamespaceLifecycle, admission webhooks) is the request's fault, not a missing grant. */
const RBAC_DENIAL = /cannot (\S+) resource "([^"]+)" in API group "([^"]*)"/;
/** An apply that would create the object is authorized for create separately, and refused without a reason
 * (k8s.io/apiserver pkg/endpoints/handlers/update.go, withAuthorization): `deployments.apps "x" is forbidden: `. */
const CREATE_ON_APPLY_DENIAL = /^\S+ "[^"]*" is forbidden: $/;

/** kube-apiserver answers 500, not 400, when a server-side apply names a field its kind's schema does not declare:
 * `structuredMerge.Apply` returns a plain error, "failed to create typed patch object (...): .x: field not declared in
 * schema" (k8s.io/apimachinery pkg/util/managedfields/internal/structuredmerge.go; kubernetes/kubernetes#122480,
 * #139253). The request is at fault, so it is never retried. */
export function isUndeclaredField(rejected: Rejected): boolean {
  return rejected.httpStatus === 500 && /^failed to create typed patch object\b/.test(rejected.status.message ?? '');
}

/** The error for a rejection the action does not handle itself. */
export function explainRejection(
  rejected: Rejected & { readonly attempts: number; readonly exhausted: boolean },
  purpose: Purpose,
  session: Session,
): Error {
  const { httpStatus, status } = rejected;
  const said = `HTTP ${httpStatus}${status.reason ? ` ${status.reason}` : ''}${status.message ? `: ${status.message}` : ''}`;
  const tries = rejected.attempts > 1 ? ` (${attemptsIn(rejected.attempts, session)})` : '';
  if (httpStatus === 401) {
    return new ClusterAuthenticationError(unauthorized(session, said));
  }
  const denial = httpStatus === 403 ? rbacDenial(status.message ?? '', purpose) : undefined;
  if (denial && typeof denial.grant !== 'string') {
    const { verb, resource, grant } = denial;
    const where = purpose.namespace === '' ? 'cluster-wide' : `in namespace "${purpose.namespace}"`;
    return new ClusterAuthorizationError(
      `cluster "${session.clusterName}" refused action "${purpose.action}": RBAC does not let the function ${verb} ` +
        `${resource}${purpose.name ? ` "${purpose.name}"` : ''} ${where} (${said}). The grants of set ` +
        `"${grant.set}" allow it: make them from every manifest the set has had since they were last applied, ` +
        `"npm run grants -- <manifest files> --set ${grant.set} --namespace ${grant.setNamespace}", and apply them ` +
        'as a cluster admin, or run "./deploy.sh <cluster> --grant-manifest <file> ' +
        `--set ${grant.set} --set-namespace ${grant.setNamespace}"; and check that the function's role is mapped ` +
        'to the group they bind.',
    );
  }
  if (denial && typeof denial.grant === 'string') {
    const { verb, resource, grant } = denial;
    return new ClusterAuthorizationError(
      `cluster "${session.clusterName}" refused action "${purpose.action}": RBAC does not let the function ${verb} ` +
        `${resource} in namespace "${purpose.namespace}" (${said}). Grant "${grant}" allows it: ` +
        `${grantCommand(purpose.namespace, grant)} (from the project directory, as a cluster admin), and check ` +
        "that the function's role is mapped to the group permissions.yml binds. RBAC answers before the server " +
        `looks for the namespace, so namespace "${purpose.namespace}" may also not exist: check with "kubectl get ` +
        `namespace ${purpose.namespace}".`,
    );
  }
  return new KubernetesApiError(
    httpStatus,
    status.reason ?? '',
    status.message ?? '',
    `the cluster answered ${purpose.verb} ${purpose.resource}${purpose.name ? ` "${purpose.name}"` : ''} ` +
      `${purpose.namespace === '' ? '(cluster-wide)' : `in namespace "${purpose.namespace}"`} with ${said}${tries}. ` +
      meaning(rejected, purpose),
  );
}

/** The error for a request that got no usable answer: network, TLS, timeout, an answer too large to read, or the
 * invocation's time ran out. */
export function explainUnreachable(
  unreachable: Unreachable | undefined,
  session: Session,
  purpose: Purpose,
  attempts: number,
  why: 'final' | 'gave up' | 'ran out of time',
): ClusterUnreachableError | ResponseTooLargeError {
  const { endpoint } = session.cluster;
  const tries = attemptsIn(attempts, session);
  if (unreachable?.code === RESPONSE_TOO_LARGE) {
    const what = `${purpose.verb} ${purpose.resource}${purpose.name ? ` "${purpose.name}"` : ''}`;
    return new ResponseTooLargeError(
      `the answer to ${what} in namespace "${purpose.namespace}" was larger than the ${MAX_RESPONSE_BYTES / 2 ** 20} ` +
        `MiB the function reads (${unreachable.detail}); it was not retried. ` +
        (purpose.verb === 'list'
          ? `Lower LAMBDA_EKS_LIST_PAGE_SIZE (now ${session.listPageSize}) so that fewer objects come in one answer.`
          : 'An object this large is not one the function manages: check the name and namespace.'),
    );
  }
  if (unreachable === undefined) {
    return new ClusterUnreachableError(
      `ran out of time before ${endpoint} answered (${tries}); raise the function's Timeout, or check that the API ` +
        'server is reachable from the function.',
    );
  }
  const cause = `${unreachable.code}: ${unreachable.detail}`;
  if (unreachable.tlsTrust) {
    return new ClusterUnreachableError(
      `TLS trust problem: the certificate served by ${endpoint} is not trusted (${cause}). The CA (CLUSTER_CA_DATA, or ` +
        "DescribeCluster's) and the endpoint must belong to the same cluster: compare them with " +
        `"aws eks describe-cluster --name ${session.clusterName}".`,
    );
  }
  if (unreachable.code === 'ENOTFOUND') {
    return new ClusterUnreachableError(
      `the host of ${endpoint} does not resolve (${unreachable.detail}). A cluster with a private endpoint is only ` +
        'reachable from its VPC: deploy the function with SubnetIds and ClusterSecurityGroupId; a deleted cluster has ' +
        'no endpoint at all.',
    );
  }
  const ending = why === 'ran out of time' ? `ran out of time after ${tries}` : `gave up after ${tries}`;
  return new ClusterUnreachableError(
    `could not reach ${endpoint} (${cause}); ${ending}. Check that the endpoint is reachable from the function: a ` +
      "private endpoint needs the function in the cluster's VPC and 443 open on the cluster security group.",
  );
}

/** The verb and resource an RBAC denial names, and the grant that allows them; undefined for any other 403. */
function rbacDenial(
  message: string,
  purpose: Purpose,
): { verb: string; resource: string; grant: Purpose['grant'] } | undefined {
  const named = RBAC_DENIAL.exec(message);
  if (named) {
    const [, verb = purpose.verb, resource = purpose.resource, group = ''] = named;
    const qualified = group ? `${resource}.${group}` : resource;
    // An apply that would create the object is authorized as a create (k8s.io/apiserver
    // pkg/endpoints/handlers/patch.go): the grant that allows it is create's, not apply's.
    if (purpose.verb === 'patch' && verb === 'create') {
      const grant = typeof purpose.grant === 'string' ? 'create' : purpose.grant;
      return { verb: 'create (the apply would create it)', resource: qualified, grant };
    }
    return { verb, resource: qualified, grant: purpose.grant };
  }
  if (purpose.verb === 'patch' && typeof purpose.grant === 'string' && CREATE_ON_APPLY_DENIAL.test(message)) {
    return { verb: 'create (the apply would create it)', resource: `${purpose.resource}.apps`, grant: 'create' };
  }
  return undefined;
}

/** The exact command that grants `grant` in `namespace`. */
export function grantCommand(namespace: string, grant: Grant): string {
  return `kubectl apply -n ${namespace} -f permissions.yml -l ${GRANT_LABEL}=${grant}`;
}

function attemptsIn(attempts: number, session: Session): string {
  const seconds = ((Date.now() - session.startedAt) / 1000).toFixed(1);
  return `${attempts} ${attempts === 1 ? 'attempt' : 'attempts'} in ${seconds} s`;
}

function unauthorized(session: Session, said: string): string {
  const name = session.clusterName;
  return (
    `cluster "${name}" rejected the function's token (${said}). An EKS API server answers 401 when: (1) the ` +
    "function's IAM role is not mapped to a Kubernetes identity: create an access entry with the group permissions.yml " +
    `binds ("aws eks create-access-entry --cluster-name ${name} --principal-arn <role-arn> --kubernetes-groups ` +
    'lambda-deployers"; the stack does this with CreateAccessEntry=true) or, on a cluster in CONFIG_MAP mode, map it ' +
    `in aws-auth ("eksctl create iamidentitymapping --cluster ${name} --arn <role-arn> --group lambda-deployers ` +
    '--username lambda-eks"); a new mapping takes up to a minute to apply; (2) the token was signed for another ' +
    `cluster name: CLUSTER_NAME is "${name}", check that CLUSTER_ENDPOINT belongs to that cluster; (3) the ` +
    'credentials that signed it are wrong or expired; (4) the clock is more than 15 minutes off.'
  );
}

/** What a non-RBAC rejection means, and what to do. */
function meaning(rejected: Rejected & { readonly exhausted: boolean }, purpose: Purpose): string {
  const { httpStatus, status } = rejected;
  const message = status.message ?? '';
  const namespace = purpose.namespace;
  // A set's object comes from its manifest; the Deployment actions' from the event's fields.
  const ofSet = typeof purpose.grant !== 'string';
  const input = ofSet ? 'the manifest' : 'the event';
  // k8s.io/apiserver pkg/admission/plugin/policy/validating/dispatcher.go: 422 Invalid by default, or the reason the
  // policy's validation names (403 for Forbidden).
  const policy = /ValidatingAdmissionPolicy '([^']+)'(?: with binding '([^']+)')? denied request/.exec(message);
  if (policy && (httpStatus === 403 || httpStatus === 422)) {
    const binding = policy[2] === undefined ? '' : ` (binding "${policy[2]}")`;
    return (
      `The ValidatingAdmissionPolicy "${policy[1] ?? ''}"${binding} rejected it: change ${input} ` +
      `to satisfy the policy ("kubectl get validatingadmissionpolicy ${policy[1] ?? ''} -o yaml"), or ask its owner. ` +
      'This is not an RBAC problem.'
    );
  }
  if (httpStatus === 403) {
    if (/exceeded quota/.test(message)) {
      return (
        `A ResourceQuota in namespace "${namespace}" forbids it: raise the quota or free capacity ` +
        `("kubectl describe resourcequota -n ${namespace}"). This is not an RBAC problem.`
      );
    }
    if (/because it is being terminated/.test(message)) {
      return `Namespace "${namespace}" is being deleted: wait until it is gone and create it again, or use another namespace.`;
    }
    const webhook = /admission webhook "([^"]+)" denied the request/.exec(message);
    if (webhook) {
      return `The admission webhook "${webhook[1] ?? ''}" rejected ${ofSet ? 'the object' : 'the Deployment'}: change ${input} to satisfy its policy, or ask its owner.`;
    }
    return 'The API server refused the request for a reason other than RBAC (see its message above).';
  }
  if (httpStatus === 404) {
    return /^namespaces "/.test(message)
      ? `Namespace "${namespace}" does not exist: create it ("kubectl create namespace ${namespace}") or pass another "namespace".`
      : 'The API server does not know this resource (see its message above).';
  }
  if (httpStatus === 409 && /^object is being deleted/.test(message)) {
    return ofSet
      ? 'The old object of that name is still being deleted (finalizers or dependents hold it): invoke again once it is gone.'
      : 'The old Deployment of that name is still being deleted (its pods are terminating): invoke again once it is gone.';
  }
  if (httpStatus === 409) {
    return 'Another writer changed the object at the same time: invoke again.';
  }
  if (httpStatus === 422 || httpStatus === 400) {
    return ofSet
      ? 'The cluster rejected the object as invalid: fix the fields it names in the manifest.'
      : 'The cluster rejected the Deployment as invalid; check the event fields it names.';
  }
  if (isUndeclaredField(rejected)) {
    const field = /: (\.\S+): field not declared in schema/.exec(message)?.[1];
    return (
      `${ofSet ? 'The object' : 'The Deployment'} has a field its kind's schema does not declare` +
      `${field === undefined ? '' : ` (${field})`}: a misspelt or misplaced field, or one this server's version does ` +
      `not know yet. Fix or remove it in ${input} ("kubectl explain" lists a kind's fields). Not retried: the API ` +
      'server answers 500 for it, but the request is at fault.'
    );
  }
  if (RETRYABLE_STATUS_CODES.has(httpStatus)) {
    return 'The API server kept failing; invoke again later.';
  }
  return 'See the message above.';
}
