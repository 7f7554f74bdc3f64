import type { Context } from 'aws-lambda';

/** The context object Lambda's Node.js runtime passes to a handler, for a deadline in epoch ms. */
export function lambdaContext(requestId: string, deadline: number): Context;
