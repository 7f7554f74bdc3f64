import {
  DEFAULT_IMAGE,
  DEFAULT_NAME,
  DEFAULT_REPLICAS,
  DNS1123_LABEL,
  DNS1123_LABEL_MAX,
  MAX_REPLICAS,
} from './constants.js';
import { InvalidEventError } from './errors.js';

/** What one invocation asks for, with every default applied. */
export interface DeploymentRequest {
  readonly name: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly image: string;
  readonly dryRun: boolean;
}

const FIELDS = ['name', 'namespace', 'replicas', 'image', 'dryRun'] as const;
const KNOWN: ReadonlySet<string> = new Set(FIELDS);
const ALLOWED = `allowed fields: ${FIELDS.join(', ')}`;

/** Validates an invocation event and applies defaults; throws InvalidEventError naming the field at fault. */
export function parseEvent(event: unknown, defaultNamespace: string): DeploymentRequest {
  if (event === null || event === undefined) {
    return {
      name: DEFAULT_NAME,
      namespace: defaultNamespace,
      replicas: DEFAULT_REPLICAS,
      image: DEFAULT_IMAGE,
      dryRun: false,
    };
  }
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidEventError('event', `must be a JSON object (or empty), not ${describe(event)}; ${ALLOWED}`);
  }
  const fields: Record<string, unknown> = { ...event };
  for (const key of Object.keys(fields)) {
    if (!KNOWN.has(key)) {
      throw new InvalidEventError(truncate(key), `is not a field this function accepts; ${ALLOWED}`);
    }
  }
  return {
    name: label(fields['name'], 'name', DEFAULT_NAME),
    namespace: label(fields['namespace'], 'namespace', defaultNamespace),
    replicas: replicas(fields['replicas']),
    image: image(fields['image']),
    dryRun: dryRun(fields['dryRun']),
  };
}

function label(value: unknown, field: string, fallback: string): string {
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

function replicas(value: unknown): number {
  if (value === undefined) {
    return DEFAULT_REPLICAS;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_REPLICAS) {
    throw new InvalidEventError('replicas', `must be a whole number from 0 to ${MAX_REPLICAS}, not ${describe(value)}`);
  }
  return value;
}

function image(value: unknown): string {
  if (value === undefined) {
    return DEFAULT_IMAGE;
  }
  if (typeof value !== 'string' || value.length === 0 || /[\s\p{Cc}]/u.test(value)) {
    throw new InvalidEventError(
      'image',
      `must be a non-empty container image reference without whitespace, e.g. "${DEFAULT_IMAGE}", not ${describe(value)}`,
    );
  }
  return value;
}

function dryRun(value: unknown): boolean {
  if (value === undefined) {
    return false;
  }
  if (typeof value !== 'boolean') {
    throw new InvalidEventError('dryRun', `must be true or false, not ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(truncate(value))}`;
  if (typeof value === 'number') return String(value);
  return `a ${typeof value}`;
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}...` : value;
}
