// The part of kubectl's JSONPath (k8s.io/client-go util/jsonpath) that reads one value: `{.a.b[0]['c.d']}`. Fields
// (with kubectl's `\.` for a dot in a name), array indexes (negative ones from the end, as kubectl's) and quoted keys;
// the rest of kubectl's syntax (filters, ranges, wildcards, unions, recursive descent, several expressions) selects
// many values or none, and is refused. Two departures: a quoted key with a dot (`['example.com/x']`) is read as the
// key it names (kubectl v1.36 splits it at the dot and prints nothing), and an index past the end reads as no value
// (kubectl fails), so that waiting for `{.status.loadBalancer.ingress[0].ip}` waits. Pure.
import { InvalidEventError } from '../errors.js';

/** One step of a path: a field name or an array index. */
export type PathStep = string | number;

/** A field name: letters, digits, `_`, `-`, `/`, and `\.` for a dot (kubectl's escape: `{.metadata.labels.app\.kubernetes\.io/name}`). */
const FIELD = /^(?:[\w$/-]|\\\.)+/;
const NOT_TAKEN =
  ": only .field, [index] and ['quoted key'] are taken (filters, ranges, wildcards, slices and unions select many " +
  'values or none)';

/** The steps of `expression`, kubectl's `{.a.b[0]}`. Throws InvalidEventError naming `field` and what is not taken. */
export function parseJsonPath(expression: string, field: string): PathStep[] {
  const refuse = (why: string): never => {
    throw new InvalidEventError(
      field,
      `${JSON.stringify(expression)} ${why}: give kubectl's JSONPath for one value, such as ` +
        "{.status.loadBalancer.ingress[0].hostname} or {.metadata.annotations['example.com/x']}",
    );
  };
  const inner = /^\{(.*)\}$/s.exec(expression.trim())?.[1]?.trim();
  if (inner === undefined || inner === '') return refuse('is not one {...} expression');
  const steps: PathStep[] = [];
  let rest = inner;
  if (rest.startsWith('$')) rest = rest.slice(1);
  while (rest !== '') {
    if (rest.startsWith('.')) {
      const name = FIELD.exec(rest.slice(1))?.[0];
      if (name === undefined) return refuse(`cannot be read at "${rest}"${NOT_TAKEN}`);
      steps.push(name.replaceAll('\\.', '.'));
      rest = rest.slice(1 + name.length);
      continue;
    }
    const quoted = /^\[\s*(['"])((?:(?!\1).)*)\1\s*\]/.exec(rest);
    if (quoted) {
      steps.push(quoted[2] ?? '');
      rest = rest.slice(quoted[0].length);
      continue;
    }
    const index = /^\[\s*(-?\d+)\s*\]/.exec(rest);
    if (index) {
      steps.push(Number(index[1]));
      rest = rest.slice(index[0].length);
      continue;
    }
    return refuse(`cannot be read at "${rest}"${NOT_TAKEN}`);
  }
  if (steps.length === 0) return refuse('names no field');
  return steps;
}

/** The value at `steps` in `object`, as kubectl's jsonpath output prints it: a string as it is, a number or boolean
 * as text, an object or array as JSON; undefined when the path leads nowhere. */
export function readJsonPath(object: unknown, steps: readonly PathStep[]): string | undefined {
  let current: unknown = object;
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(current)) return undefined;
      const items: readonly unknown[] = current;
      current = items[step < 0 ? items.length + step : step];
    } else {
      if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
      current = Object.hasOwn(current, step) ? Reflect.get(current, step) : undefined;
    }
    if (current === undefined) return undefined;
  }
  if (current === null) return undefined;
  return typeof current === 'string' ? current : JSON.stringify(current);
}
