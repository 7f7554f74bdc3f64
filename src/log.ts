/** One structured log record; values are plain data and never credentials or tokens. */
export type LogRecord = Readonly<Record<string, string | number | boolean | undefined>>;

type Level = 'info' | 'warn' | 'error';

/** Writes one JSON line through console, so Lambda's log-level filtering applies. */
export function log(level: Level, message: string, fields: LogRecord): void {
  const line = JSON.stringify({ level: level.toUpperCase(), message, ...fields });
  if (level === 'error') {
    console.error(line);
  } else if (level === 'warn') {
    console.warn(line);
  } else {
    console.info(line);
  }
}
