import { describe, expect, it } from '@jest/globals';
import { DEFAULT_IMAGE } from '../../../src/constants.js';
import { InvalidEventError } from '../../../src/errors.js';
import { parseEvent } from '../../../src/lambda/event.js';
import { at } from '../../support/json.js';

function errorOf(event: unknown): InvalidEventError {
  try {
    parseEvent(event, 'default');
  } catch (error) {
    if (error instanceof InvalidEventError) return error;
    throw error;
  }
  throw new Error('parseEvent accepted the event');
}

describe('parseEvent', () => {
  it('creates with every default when the event is empty, null or absent', () => {
    for (const event of [{}, null, undefined]) {
      expect(parseEvent(event, 'team-a')).toEqual({
        action: 'create',
        name: 'nginx-deployment',
        namespace: 'team-a',
        replicas: 2,
        image: DEFAULT_IMAGE,
        dryRun: false,
        wait: false,
      });
    }
  });

  it('takes every field of create when all are valid', () => {
    const event = {
      name: 'web-1',
      namespace: 'apps',
      replicas: 0,
      image: 'public.ecr.aws/nginx/nginx:1.30',
      dryRun: true,
    };
    expect(parseEvent(event, 'default')).toEqual({ action: 'create', wait: false, ...event });
  });

  it('takes force and wait for apply, and leaves out the replicas the event leaves out', () => {
    expect(parseEvent({ action: 'apply', image: 'nginx:1.31.0', force: true, wait: true }, 'default')).toEqual({
      action: 'apply',
      name: 'nginx-deployment',
      namespace: 'default',
      replicas: undefined,
      image: 'nginx:1.31.0',
      dryRun: false,
      wait: true,
      force: true,
    });
  });

  it('gives apply no default image or replicas: what it leaves out is kept as the cluster has it', () => {
    expect(parseEvent({ action: 'apply' }, 'default')).toMatchObject({ replicas: undefined, image: undefined });
    expect(parseEvent({}, 'default')).toMatchObject({ action: 'create', replicas: 2, image: 'nginx:1.30.0' });
  });

  it('takes only the name and namespace for get', () => {
    expect(parseEvent({ action: 'get', name: 'web' }, 'team-a')).toEqual({
      action: 'get',
      name: 'web',
      namespace: 'team-a',
    });
  });

  it('takes dryRun and wait for delete', () => {
    expect(parseEvent({ action: 'delete', name: 'web', wait: true }, 'default')).toEqual({
      action: 'delete',
      name: 'web',
      namespace: 'default',
      dryRun: false,
      wait: true,
    });
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
    ['image', { image: 'NGINX:Latest' }],
    ['image', { image: 'a::b' }],
    ['image', { image: 'x'.repeat(300_000) }],
    ['dryRun', { dryRun: 'true' }],
    ['action', { action: 'update' }],
    ['action', { action: 'Create' }],
    ['wait', { wait: 'yes' }],
    ['force', { action: 'apply', force: 1 }],
  ])('names %s when the event is %j', (field, event) => {
    expect(errorOf(event).field).toBe(field);
  });

  it.each([
    ['replicas', { action: 'get', replicas: 2 }],
    ['image', { action: 'get', image: 'nginx' }],
    ['dryRun', { action: 'get', dryRun: true }],
    ['wait', { action: 'get', wait: true }],
    ['replicas', { action: 'delete', replicas: 2 }],
    ['image', { action: 'delete', image: 'nginx' }],
    ['force', { action: 'create', force: true }],
    ['force', { action: 'delete', force: false }],
    ['force', { force: true }],
  ])('refuses %s, which the action does not use, in %j', (field, event) => {
    const error = errorOf(event);
    expect(error.field).toBe(field);
    const action = String(at(event, 'action') ?? 'create');
    expect(error.message).toMatch(new RegExp(`^${field}: is not used by action "${action}", which takes `));
  });

  it('refuses wait together with dryRun: a dry run leaves nothing to wait for', () => {
    expect(errorOf({ action: 'apply', dryRun: true, wait: true }).message).toMatch(
      /^wait: cannot be combined with dryRun/,
    );
  });

  it('lists the allowed fields when a key is unknown', () => {
    expect(() => parseEvent({ replica: 2 }, 'default')).toThrow(
      'allowed fields: action, name, namespace, replicas, image, dryRun, wait, force',
    );
  });

  it('says what is wrong with an image reference', () => {
    expect(errorOf({ image: 'NGINX:Latest' }).message).toContain('must be lower-case ("nginx")');
    expect(errorOf({ image: 'x'.repeat(300_000) }).message).toContain('characters long; the limit is 255');
  });
});
