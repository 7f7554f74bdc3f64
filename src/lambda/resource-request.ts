// What the custom resource providers share (custom-resource.ts serves the request; deployment and manifest
// resources each have their handlers): the request as read, a handler's outcome, and who the resource is.
import type { FunctionConfig } from '../config.js';
import type { Session } from '../kube/session.js';

export type RequestType = 'Create' | 'Update' | 'Delete';

/** A custom resource request, as the function reads it. */
export interface CustomResourceRequest {
  readonly requestType: RequestType;
  readonly responseUrl: URL;
  readonly stackId: string;
  readonly requestId: string;
  readonly logicalResourceId: string;
  readonly resourceType: string;
  /** Update and Delete: the id this function answered before. */
  readonly physicalResourceId: string | undefined;
  readonly properties: Readonly<Record<string, unknown>>;
  /** Update: the properties before it (what a rollback goes back to). */
  readonly oldProperties: Readonly<Record<string, unknown>> | undefined;
}

/** What a handler did: the id CloudFormation must hear, the attributes, or the error of a FAILED answer. */
export interface Outcome {
  readonly physicalResourceId: string;
  readonly data?: Readonly<Record<string, string>>;
  readonly error?: unknown;
  readonly requests?: number;
}

/** Serves one request type of one resource type. */
export type Handler = (
  request: CustomResourceRequest,
  session: Session,
  config: FunctionConfig,
  /** The id a failure answers; a handler moves it once an object of this resource exists. */
  answered: { id: string },
) => Promise<Outcome>;

/** The stack resource a request is for, `<StackId>#<LogicalResourceId>`: what the objects it makes record as their
 * creator. */
export function ownerOf(request: CustomResourceRequest): string {
  return `${request.stackId}#${request.logicalResourceId}`;
}
