import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseEvent } from '../../../src/lambda/event.js';
import { isCustomResourceRequest, parseCustomResourceRequest } from '../../../src/lambda/custom-resource.js';
import { at } from '../../support/json.js';
import { PROJECT_ROOT, sampleEvents } from '../../support/lambda.js';

// The sample events the README and ./local.sh use must be events the function accepts.
const samples = sampleEvents();
const sample = (file: string): unknown => JSON.parse(readFileSync(join(PROJECT_ROOT, 'events', file), 'utf8'));

describe('events/', () => {
  it('holds a sample for every action and for a custom resource', () => {
    const kinds = samples.map((file) => {
      const event = sample(file);
      return isCustomResourceRequest(event) ? 'custom resource' : String(at(event, 'action') ?? 'create');
    });
    expect(new Set(kinds)).toEqual(
      new Set([
        'create',
        'apply',
        'get',
        'delete',
        'apply-manifest',
        'get-manifest',
        'delete-manifest',
        'custom resource',
      ]),
    );
  });

  it.each(['apply-manifest.json', 'apply-manifest-dry-run.json'])(
    '%s applies examples/web.yaml, the file the README gives npm run grants for it',
    (file) => {
      const text = readFileSync(join(PROJECT_ROOT, 'examples', 'web.yaml'), 'utf8');
      const withoutComments = text.replace(/^#.*\n/gm, '');
      expect(at(sample(file), 'manifest')).toBe(withoutComments);
      expect(at(sample(file), 'set')).toBe('web');
    },
  );

  it.each(samples)('%s is an event the function accepts', (file) => {
    const event = sample(file);
    if (isCustomResourceRequest(event)) {
      expect(parseCustomResourceRequest(event).requestType).toBe('Create');
    } else {
      expect(() => parseEvent(event, 'default')).not.toThrow();
    }
  });
});
