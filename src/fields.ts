import { DEFAULT_IMAGE, DNS1123_LABEL, DNS1123_LABEL_MAX, MAX_REPLICAS } from './constants.js';
import { InvalidEventError } from './errors.js';
import { imageReferenceProblem } from './deployment/image-reference.js';

/** How a value may be written: as JSON types only (the direct event), or also as the strings CloudFormation turns
 * every property value into ("3", "true"). */
export interface FieldSyntax {
  readonly strings: boolean;
}

/** A DNS-1123 label (a Deployment name or a namespace), or `fallback` when absent. Throws InvalidEventError. */
export function readLabel(value: unknown, field: string, fallback: string): string {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'string') {
    throw new InvalidEventError(field, `must be a string, not ${describe(value)}`);
  }
  if (value.length > DNS1123_LABEL_MAX || !DNS1123_LABEL.test(value)) {
    throw new InvalidEventError(
      field,
      `${JSON.stringify(truncate(value))} is not a DNS-1123 label: 1 to ${DNS1123_LABEL_MAX} lower-case letters, digits ` +
        'or "-", starting and ending with a letter or digit',
    );
  }
  return value;
}

/** A replica count from 0 to MAX_REPLICAS, or `fallback`. With `strings`, also its decimal string ("3", not "03",
 * "3.0" or " 3"). Throws InvalidEventError. */
export function readReplicas<F extends number | undefined>(
  value: unknown,
  field: string,
  fallback: F,
  syntax: FieldSyntax,
): number | F {
  if (value === undefined) {
    return fallback;
  }
  const number =
    syntax.strings && typeof value === 'string' && /^(0|[1-9]\d{0,3})$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > MAX_REPLICAS) {
    throw new InvalidEventError(field, `must be a whole number from 0 to ${MAX_REPLICAS}, not ${describe(value)}`);
  }
  return number;
}

/** A container image reference the kubelet can pull, or `fallback`. Throws InvalidEventError saying what is wrong. */
export function readImage<F extends string | undefined>(value: unknown, field: string, fallback: F): string | F {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'string') {
    throw new InvalidEventError(
      field,
      `must be a container image reference such as "${DEFAULT_IMAGE}", not ${describe(value)}`,
    );
  }
  const problem = imageReferenceProblem(value);
  if (problem !== undefined) {
    throw new InvalidEventError(
      field,
      `${JSON.stringify(truncate(value))} is not a valid image reference: ${problem}. Example: "${DEFAULT_IMAGE}"`,
    );
  }
  return value;
}

/** A boolean, or false when absent. With `strings`, also "true" or "false" exactly. Throws InvalidEventError. */
export function readFlag(value: unknown, field: string, syntax: FieldSyntax): boolean {
  if (value === undefined) {
    return false;
  }
  if (syntax.strings && (value === 'true' || value === 'false')) {
    return value === 'true';
  }
  if (typeof value !== 'boolean') {
    throw new InvalidEventError(field, `must be true or false, not ${describe(value)}`);
  }
  return value;
}

/** A short description of a value for an error message; never the whole of a long string. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(truncate(value))}`;
  if (typeof value === 'number') return String(value);
  return `a ${typeof value}`;
}

/** At most 80 characters of a string, for messages. */
export function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}...` : value;
}
