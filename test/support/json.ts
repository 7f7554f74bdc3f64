// Reading parsed JSON (or YAML) without casts, for the tests, their support code and the benchmark.

/** The value at a path into parsed JSON; undefined where any step is missing. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    const next: unknown = Reflect.get(current, step);
    current = next;
  }
  return current;
}

/** The JSON objects among output lines (structured log records); other lines are skipped. */
export function jsonRecords(lines: readonly string[]): Record<string, unknown>[] {
  return lines.flatMap((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return typeof parsed === 'object' && parsed !== null ? [{ ...parsed }] : [];
    } catch {
      return [];
    }
  });
}
