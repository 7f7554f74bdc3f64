import type { Context } from 'aws-lambda';

export const FUNCTION_NAME: string;
export const FUNCTION_VERSION: string;
export const FUNCTION_ARN: string;
export const LOG_GROUP_NAME: string;
/** The template's MemorySize; runtime.e2e.test.ts checks that they agree. */
export const MEMORY_SIZE_MB: number;

/** The context object Lambda's Node.js runtime passes to a handler, for a deadline in epoch ms. */
export function lambdaContext(requestId: string, deadline: number, logStreamName?: string): Context;
