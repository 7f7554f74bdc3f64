// Label and field selectors: the `labelSelector` and `fieldSelector` query parameters (apimachinery pkg/labels
// selector.go Parse, pkg/fields selector.go ParseSelector) and metav1.LabelSelector in a spec.
import { arrayAt, isObject, stringAt, stringMapAt, type Json } from './json.js';

export type Requirement =
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | '!' };

export type Selector = readonly Requirement[];

/** Parses a labelSelector (`a=b,c!=d,e in (f,g),h,!i`); throws with the parser's message when it is malformed. */
export function parseLabelSelector(text: string): Selector {
  const requirements: Requirement[] = [];
  for (const part of splitOutsideParens(text)) {
    const term = part.trim();
    if (term === '') continue;
    const set = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^()]*)\)$/.exec(term);
    if (set?.[1] !== undefined && set[3] !== undefined) {
      const values = set[3]
        .split(',')
        .map((value) => value.trim())
        .filter((value) => value !== '');
      requirements.push({ key: set[1], op: set[2] === 'in' ? 'in' : 'notin', values });
      continue;
    }
    const equality = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(term);
    if (equality?.[1] !== undefined && equality[3] !== undefined) {
      requirements.push({ key: equality[1], op: equality[2] === '!=' ? 'notin' : 'in', values: [equality[3]] });
      continue;
    }
    const exists = /^(!?)([^\s!=(),]+)$/.exec(term);
    if (exists?.[2] !== undefined) {
      requirements.push({ key: exists[2], op: exists[1] === '!' ? '!' : 'exists' });
      continue;
    }
    throw new Error(`unable to parse requirement: found '${term}', expected: identifier`);
  }
  return requirements;
}

function splitOutsideParens(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

export function matches(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  return selector.every((requirement) => {
    const value = labels[requirement.key];
    switch (requirement.op) {
      case 'in':
        return value !== undefined && requirement.values.includes(value);
      case 'notin':
        return value === undefined || !requirement.values.includes(value);
      case 'exists':
        return value !== undefined;
      case '!':
        return value === undefined;
    }
  });
}

/** A metav1.LabelSelector (matchLabels and matchExpressions) as requirements. */
export function labelSelectorOf(selector: Json | undefined): Selector {
  if (!isObject(selector)) return [];
  const requirements: Requirement[] = Object.entries(stringMapAt(selector, 'matchLabels')).map(([key, value]) => ({
    key,
    op: 'in' as const,
    values: [value],
  }));
  for (const expression of arrayAt(selector, 'matchExpressions')) {
    const key = stringAt(expression, 'key');
    const operator = stringAt(expression, 'operator');
    const values = arrayAt(expression, 'values').filter((value): value is string => typeof value === 'string');
    if (key === undefined) continue;
    if (operator === 'In') requirements.push({ key, op: 'in', values });
    if (operator === 'NotIn') requirements.push({ key, op: 'notin', values });
    if (operator === 'Exists') requirements.push({ key, op: 'exists' });
    if (operator === 'DoesNotExist') requirements.push({ key, op: '!' });
  }
  return requirements;
}

export interface FieldRequirement {
  readonly field: string;
  readonly value: string;
  readonly equal: boolean;
}

/** Parses a fieldSelector (`metadata.name=x,status.phase!=Running`). */
export function parseFieldSelector(text: string, supported: readonly string[]): FieldRequirement[] {
  return text
    .split(',')
    .filter((term) => term.trim() !== '')
    .map((term) => {
      const match = /^([^=!]+)(==|=|!=)(.*)$/.exec(term.trim());
      if (match?.[1] === undefined || match[3] === undefined) {
        throw new Error(`invalid selector: '${text}'; can't understand '${term}'`);
      }
      if (!supported.includes(match[1])) {
        throw new Error(`field label not supported: ${match[1]}`);
      }
      return { field: match[1], value: match[3], equal: match[2] !== '!=' };
    });
}
