import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { SET_TOOLING } from '../../../src/constants.js';
import { PROJECT_ROOT } from '../../support/paths.js';

describe("a set's record", () => {
  it('names the version of the function that wrote it, as package.json has it (ApplySet tooling: <name>/v<version>)', () => {
    const { version }: { version: string } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));
    expect(SET_TOOLING).toBe(`lambda-eks/v${version}`);
  });
});
