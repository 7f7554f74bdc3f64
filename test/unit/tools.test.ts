import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { MissingToolError, requirePythonModules, requireTool, TOOLS } from '../support/tools.js';

describe('requireTool', () => {
  it('names the tool and how to install it when it is not on PATH', () => {
    const empty = mkdtempSync(join(tmpdir(), 'lambda-eks-path-'));
    try {
      expect(() => requireTool('cfn-lint', empty)).toThrow(MissingToolError);
      expect(() => requireTool('cfn-lint', empty)).toThrow(/"cfn-lint" is not on PATH.*pip install cfn-lint/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('returns the executable found on PATH, skipping a file that is not executable', () => {
    const [first, second] = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'lambda-eks-path-')));
    try {
      writeFileSync(join(first ?? '', 'shellcheck'), '');
      writeFileSync(join(second ?? '', 'shellcheck'), '#!/bin/sh\n');
      chmodSync(join(second ?? '', 'shellcheck'), 0o755);
      expect(requireTool('shellcheck', `${first}:${second}`)).toBe(join(second ?? '', 'shellcheck'));
    } finally {
      for (const dir of [first, second]) rmSync(dir ?? '', { recursive: true, force: true });
    }
  });
});

describe('the tools the tests use as references', () => {
  it.each(Object.keys(TOOLS) as (keyof typeof TOOLS)[])('finds %s on this machine', (tool) => {
    expect(requireTool(tool)).toMatch(new RegExp(`/${tool}$`));
  });

  it('finds the Python modules the test helpers import', () => {
    expect(() => requirePythonModules('cfnlint', 'jmespath', 'moto', 'samtranslator')).not.toThrow();
  });
});
