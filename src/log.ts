import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { MANAGER } from './constants.js';
import { warm } from './state.js';

/** The fields of one log record; values are plain data (a set's counts: a map of numbers) and never credentials,
 * tokens, presigned URLs or a Secret's data. */
export type LogFields = Readonly<
  Record<string, string | number | boolean | Readonly<Record<string, number | undefined>> | undefined>
>;

type Level = 'debug' | 'info' | 'warn' | 'error';

/** The function's one logger. Powertools writes each record as one JSON object to stdout, so in Lambda's JSON log
 * format every field is top-level and queryable; it honours Lambda's application log level (AWS_LAMBDA_LOG_LEVEL). */
const logger = new Logger({ serviceName: MANAGER });

/** Starts an invocation's records: the Lambda context (function_request_id, cold_start, ...) and Lambda's own
 * `requestId` key, so one Logs Insights filter finds our records and the runtime's alike. */
export function beginInvocationLog(context: Context): void {
  logger.resetKeys();
  logger.addContext(context);
  logger.appendKeys({ requestId: context.awsRequestId });
  if (warm.runtimeLogged === undefined) {
    warm.runtimeLogged = true;
    // How Lambda's bootstrap started Node, for whoever sizes MemorySize or checks NODE_OPTIONS: visible with
    // ApplicationLogLevel DEBUG.
    log('debug', 'runtime', {
      node: process.version,
      execArgv: process.execArgv.join(' '),
      nodeOptions: process.env['NODE_OPTIONS'],
    });
  }
}

/** Writes one record at `level` with `message` and the given fields. */
export function log(level: Level, message: string, fields: LogFields = {}): void {
  logger[level](message, fields);
}
