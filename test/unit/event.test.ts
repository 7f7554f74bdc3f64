import { describe, expect, it } from '@jest/globals';
import { DEFAULT_IMAGE } from '../../src/constants.js';
import { InvalidEventError } from '../../src/errors.js';
import { parseEvent } from '../../src/event.js';

function fieldOf(event: unknown): string {
  try {
    parseEvent(event, 'default');
  } catch (error) {
    if (error instanceof InvalidEventError) return error.field;
    throw error;
  }
  throw new Error('parseEvent accepted the event');
}

describe('parseEvent', () => {
  it('applies every default when the event is empty, null or absent', () => {
    for (const event of [{}, null, undefined]) {
      expect(parseEvent(event, 'team-a')).toEqual({
        name: 'nginx-deployment',
        namespace: 'team-a',
        replicas: 2,
        image: DEFAULT_IMAGE,
        dryRun: false,
      });
    }
  });

  it('takes every field when all are valid', () => {
    const event = {
      name: 'web-1',
      namespace: 'apps',
      replicas: 0,
      image: 'public.ecr.aws/nginx/nginx:1.30',
      dryRun: true,
    };
    expect(parseEvent(event, 'default')).toEqual(event);
  });

  it('accepts a name of exactly 63 characters and 1000 replicas', () => {
    expect(parseEvent({ name: 'a'.repeat(63), replicas: 1000 }, 'default')).toMatchObject({ replicas: 1000 });
  });

  it.each([
    ['event', []],
    ['event', 'nginx'],
    ['event', 42],
    ['nmae', { nmae: 'typo' }],
    ['__proto__', JSON.parse('{"__proto__": {"replicas": 3}}')],
    ['name', { name: 'Web' }],
    ['name', { name: 'a'.repeat(64) }],
    ['name', { name: '-web' }],
    ['name', { name: 7 }],
    ['namespace', { namespace: 'kube_system' }],
    ['replicas', { replicas: 2.5 }],
    ['replicas', { replicas: -1 }],
    ['replicas', { replicas: 1001 }],
    ['replicas', { replicas: '2' }],
    ['replicas', { replicas: Number.POSITIVE_INFINITY }],
    ['image', { image: '' }],
    ['image', { image: 'nginx latest' }],
    ['image', { image: 'nginx\n' }],
    ['dryRun', { dryRun: 'true' }],
  ])('names %s when the event is %j', (field, event) => {
    expect(fieldOf(event)).toBe(field);
  });

  it('lists the allowed fields when a key is unknown', () => {
    expect(() => parseEvent({ replica: 2 }, 'default')).toThrow(
      'allowed fields: name, namespace, replicas, image, dryRun',
    );
  });
});
