import { describe, expect, it } from '@jest/globals';
import { DEFAULT_IMAGE } from '../../src/constants.js';
import { InvalidEventError } from '../../src/errors.js';
import { parseEvent } from '../../src/event.js';

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
});
