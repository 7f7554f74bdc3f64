/** The nginx image a Deployment gets when the event names none: the official image, stable branch, pinned. */
export const DEFAULT_IMAGE = 'nginx:1.30.0';
export const DEFAULT_NAME = 'nginx-deployment';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_REPLICAS = 2;
export const MAX_REPLICAS = 1000;
export const CONTAINER_PORT = 80;

/** Who we say we are: the `app.kubernetes.io/managed-by` label, the field manager and the User-Agent. */
export const MANAGER = 'lambda-eks';

/** The wire format of the EKS token: see shared/eks-token.md. */
export const TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** STS ignores it, EKS requires it (0..900); the AWS CLI sends 60. */
export const TOKEN_PRESIGN_EXPIRES_SECONDS = 60;
/** EKS accepts a token for 15 minutes after X-Amz-Date; clients treat it as good for 14. We re-mint at 13 so that
 * a token never goes stale during the retries of one invocation. */
export const TOKEN_REUSE_MS = 13 * 60 * 1000;

/** Each request to the API server gets at most this long (less when the invocation has less time left). */
export const REQUEST_TIMEOUT_MS = 5000;
/** Time kept back from Lambda's deadline, so that a failure is reported as our error and not as a Lambda timeout: the
 * runtime formats the error's stack, and the first time in an environment that parses the source map, which takes
 * about 150 ms of a full core under --jitless and so up to a second at a small MemorySize's CPU share. */
export const DEADLINE_RESERVE_MS = 1000;
export const RETRY_BASE_DELAY_MS = 100;
export const RETRY_MAX_DELAY_MS = 2000;
/** A hard cap on attempts, whatever the time left: retries are bounded even with a 15-minute timeout. */
export const MAX_ATTEMPTS = 6;
export const RETRYABLE_STATUS_CODES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);
/** A response body larger than this is not an answer to a create; we stop reading. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** RFC 1123 label, as Kubernetes validates names and namespaces. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_LABEL_MAX = 63;
/** What EKS accepts as a cluster name. */
export const CLUSTER_NAME_PATTERN = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
/** An AWS region code: us-east-1, cn-north-1, us-gov-west-1, eu-isoe-west-1. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
