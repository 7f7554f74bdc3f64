import type { Context } from 'aws-lambda';
import type { ActionResult } from './actions/run-action.js';
import { serveDirect } from './lambda/direct.js';
import { beginInvocationLog } from './lambda/log.js';

export type { ActionResult };

/** The Lambda entry point: serves the event and returns the action's result, or throws one of the errors of
 * errors.ts, whose name Lambda reports as errorType. */
export async function handler(event: unknown, context: Context): Promise<ActionResult> {
  beginInvocationLog(context);
  return serveDirect(event, context);
}
