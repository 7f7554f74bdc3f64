/** The nginx image a Deployment gets when the event names none: the official image, stable branch, pinned. */
export const DEFAULT_IMAGE = 'nginx:1.30.0';
export const DEFAULT_NAME = 'nginx-deployment';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_REPLICAS = 2;
export const MAX_REPLICAS = 1000;
export const CONTAINER_NAME = 'nginx';
export const CONTAINER_PORT = 80;

/** Who we say we are: the `app.kubernetes.io/managed-by` label, the field manager and the User-Agent. */
export const MANAGER = 'lambda-eks';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** The field manager of a set's objects: a manager of its own, so that a set and the Deployment actions never
 * silently remove each other's fields. */
export const SET_MANAGER = 'lambda-eks-set';
/** ApplySet (KEP-3659; kubectl pkg/cmd/apply/applyset.go): the parent's id label, its tooling and contents annotations,
 * and the label on each member. */
export const APPLYSET_ID_LABEL = 'applyset.kubernetes.io/id';
export const APPLYSET_PART_OF_LABEL = 'applyset.kubernetes.io/part-of';
export const APPLYSET_TOOLING_ANNOTATION = 'applyset.kubernetes.io/tooling';
export const APPLYSET_GROUP_KINDS_ANNOTATION = 'applyset.kubernetes.io/contains-group-kinds';
export const APPLYSET_NAMESPACES_ANNOTATION = 'applyset.kubernetes.io/additional-namespaces';
/** The tooling a set's record says made it: `<tool>/<version>` (a tool must not change another tool's set). */
export const SET_TOOLING = 'lambda-eks/v0.3.0';
/** Each member also names its set, `<namespace>/<name>`, for the messages of a conflict. */
export const SET_ANNOTATION = 'lambda-eks/set';
/** The set's record: a ConfigMap of this name prefix and the set's name, in the set's namespace. */
export const SET_RECORD_PREFIX = 'lambda-eks-set-';

/** The annotation a Deployment made for a CloudFormation custom resource carries: `<StackId>#<LogicalResourceId>`. */
export const STACK_RESOURCE_ANNOTATION = 'lambda-eks/stack-resource';

/** The label that picks an RBAC grant out of permissions.yml: `kubectl apply -f permissions.yml -l <label>=<grant>`. */
export const GRANT_LABEL = 'lambda-eks/grant';

/** The wire format of the EKS token (kubernetes-sigs/aws-iam-authenticator pkg/token/token.go). */
export const TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** STS ignores it, EKS requires it (0..900); the AWS CLI sends 60. */
export const TOKEN_PRESIGN_EXPIRES_SECONDS = 60;
/** EKS accepts a token for 15 minutes after X-Amz-Date; clients treat it as good for 14. We re-mint at 13 so that
 * a token never goes stale during the retries of one invocation. */
export const TOKEN_REUSE_MS = 13 * 60 * 1000;

/** Each request to the API server gets at most this long (less when the invocation has less time left). */
export const REQUEST_TIMEOUT_MS = 5000;
/** Time kept back from Lambda's deadline, so that a failure is reported as our error and not as a Lambda timeout:
 * this share of the time the invocation has, within the bounds below. The runtime then formats and posts the error
 * (a few milliseconds, measured in the benchmark); the rest is margin for a CPU-starved small MemorySize. */
export const DEADLINE_RESERVE_SHARE = 0.1;
export const DEADLINE_RESERVE_MIN_MS = 100;
export const DEADLINE_RESERVE_MAX_MS = 1000;
/** A custom resource's action stops this share of the invocation's time (within the bounds below) before the answer
 * is due, so that the answer to CloudFormation has time for its PUT and retries whatever the action did. */
export const ANSWER_RESERVE_SHARE = 0.2;
export const ANSWER_RESERVE_MIN_MS = 1000;
export const ANSWER_RESERVE_MAX_MS = 10_000;
/** Below this much time left there is no point starting a request. */
export const MIN_REQUEST_MS = 50;
export const RETRY_BASE_DELAY_MS = 100;
export const RETRY_MAX_DELAY_MS = 2000;
/** A hard cap on attempts, whatever the time left: retries are bounded even with a 15-minute timeout. */
export const MAX_ATTEMPTS = 6;
export const RETRYABLE_STATUS_CODES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);
/** A response body larger than this is not an answer to our requests; we stop reading. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** A pooled connection idle for longer is not reused. kube-apiserver closes idle connections after 90 s
 * (k8s.io/apiserver pkg/server/secure_serving.go), and a NAT or load balancer may drop one silently before that;
 * a frozen execution environment cannot notice either, so the idle time is measured when an invocation starts. */
export const MAX_IDLE_CONNECTION_MS = 60_000;

/** Waiting for a rollout or a deletion: poll at most about once per request-second, backing off to this interval. */
export const POLL_FIRST_INTERVAL_MS = 1000;
export const POLL_MAX_INTERVAL_MS = 5000;
export const POLL_BACKOFF_FACTOR = 1.5;
/** At most this many failing pods are reported; listing pods stops once this many cannot start. */
export const MAX_REPORTED_PODS = 5;
/** CreateContainerError and RunContainerError are often transient (a container name still reserved, a runtime
 * hiccup the kubelet's next sync gets past): a rollout fails on them only once they have lasted this long. */
export const CONTAINER_ERROR_PERSIST_MS = 30_000;
/** Pods are listed this many at a time (limit and continue), so that a large Deployment never makes one answer too
 * large to read; LAMBDA_EKS_LIST_PAGE_SIZE changes it. A pod is 4 to 8 KB of JSON with its managedFields. */
export const DEFAULT_LIST_PAGE_SIZE = 100;
export const MAX_LIST_PAGE_SIZE = 500;

/** RFC 1123 label, as Kubernetes validates names and namespaces. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_LABEL_MAX = 63;
/** What EKS accepts as a cluster name. */
export const CLUSTER_NAME_PATTERN = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
