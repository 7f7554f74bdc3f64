import type { Rollout } from './status/rollout.js';

/** The base of every error the function reports; `name` is what Lambda shows as `errorType`. */
export abstract class LambdaEksError extends Error {
  abstract override readonly name: string;
}

/** The environment is missing a variable or holds a value the function cannot use. */
export class ConfigurationError extends LambdaEksError {
  override readonly name = 'ConfigurationError';
  /** The environment variable at fault, when one is. */
  readonly variable: string | undefined;
  constructor(message: string, options?: ErrorOptions & { variable?: string }) {
    super(options?.variable === undefined ? message : `${options.variable}: ${message}`, options);
    this.variable = options?.variable;
  }
}

/** The event is not one the function accepts; nothing was sent to the cluster. */
export class InvalidEventError extends LambdaEksError {
  override readonly name = 'InvalidEventError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The manifest is not one the function can apply (the message names the document, and its kind and name when known);
 * nothing was written. */
export class InvalidManifestError extends LambdaEksError {
  override readonly name = 'InvalidManifestError';
}

/** The manifest could not be read from S3 (refused, missing, or S3 unreachable); nothing was sent to the cluster. */
export class ManifestFetchError extends LambdaEksError {
  override readonly name = 'ManifestFetchError';
}

/** An object belongs to another owner than the one asking: another set, or no set (without `adopt`), or a set asked of
 * by the Deployment actions; nothing was changed. */
export class SetConflictError extends LambdaEksError {
  override readonly name = 'SetConflictError';
}

/** The cluster answered 401: it does not accept the function's identity. */
export class ClusterAuthenticationError extends LambdaEksError {
  override readonly name = 'ClusterAuthenticationError';
}

/** The cluster answered 403 because RBAC does not allow the verb: the identity is known, the grant is missing. */
export class ClusterAuthorizationError extends LambdaEksError {
  override readonly name = 'ClusterAuthorizationError';
}

/** The cluster answered with any other non-2xx status; `status`, `reason` and `detail` come from its `Status`. */
export class KubernetesApiError extends LambdaEksError {
  override readonly name = 'KubernetesApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly detail: string,
    message: string,
  ) {
    super(message);
  }
}

/** The cluster could not be reached: network, TLS or timeout, after the retries the invocation had time for. */
export class ClusterUnreachableError extends LambdaEksError {
  override readonly name = 'ClusterUnreachableError';
}

/** An answer of the API server was larger than the function reads (MAX_RESPONSE_BYTES); not retried, since the same
 * request would get the same answer. */
export class ResponseTooLargeError extends LambdaEksError {
  override readonly name = 'ResponseTooLargeError';
}

/** The Deployment exists but this function did not create or apply it, so it will not delete it. */
export class NotManagedError extends LambdaEksError {
  override readonly name = 'NotManagedError';
}

/** The rollout failed: the progress deadline passed, or pods of the new revision cannot start. */
export class RolloutFailedError extends LambdaEksError {
  override readonly name = 'RolloutFailedError';
  constructor(
    /** The Deployment's rollout, for the Deployment actions; undefined for a set. */
    readonly rollout: Rollout | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The invocation's time ran out while waiting; what was asked was done and stays done. */
export class RolloutTimeoutError extends LambdaEksError {
  override readonly name = 'RolloutTimeoutError';
}

/** The name, message and code of anything thrown. Duck-typed: errors from Node's internals may come from another
 * realm (a vm context, a worker), where `instanceof Error` is false. */
export function describeThrown(thrown: unknown): { name: string; message: string; code: string | undefined } {
  if (typeof thrown !== 'object' || thrown === null) {
    return { name: 'Error', message: String(thrown), code: undefined };
  }
  const field = (key: string): string | undefined => {
    const value: unknown = Reflect.get(thrown, key);
    return typeof value === 'string' ? value : undefined;
  };
  return { name: field('name') ?? 'Error', message: field('message') ?? String(thrown), code: field('code') };
}
