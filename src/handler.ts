import type { Context } from 'aws-lambda';
import type { ActionResult } from './run.js';
import { isCustomResourceRequest, serveCustomResource, type CustomResourceAnswer } from './lambda/custom-resource.js';
import { serveDirect } from './lambda/direct.js';
import { beginInvocationLog } from './log.js';

export type { ActionResult, CustomResourceAnswer };

/** The Lambda entry point. A CloudFormation custom resource request is run and answered to CloudFormation; any other
 * event is a direct invocation, whose result is returned or whose error is thrown (its name is Lambda's errorType). */
export async function handler(event: unknown, context: Context): Promise<ActionResult | CustomResourceAnswer> {
  beginInvocationLog(context);
  return isCustomResourceRequest(event) ? serveCustomResource(event, context) : serveDirect(event, context);
}
