// The external tools the tests use as references. A test that shells out asks for its tool here first, so that a
// missing tool fails the test with a message naming it and how to install it, instead of an ENOENT that a test
// asserting "no output" would read as success.
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Each command the tests run, and how to install it (README, Tests). */
export const TOOLS = {
  aws: 'the AWS CLI: pip install awscli (or https://aws.amazon.com/cli/)',
  'cfn-lint': 'pip install cfn-lint',
  faketime: 'apt-get install -y faketime',
  kubectl: 'https://kubernetes.io/docs/tasks/tools/',
  moto_server: 'pip install "moto[server]"',
  openssl: 'apt-get install -y openssl',
  python3: 'apt-get install -y python3',
  shellcheck: 'apt-get install -y shellcheck',
} as const;

/** Each Python module the tests' helpers import, and how to install it. */
export const PYTHON_MODULES = {
  botocore: 'pip install botocore (the AWS CLI v1 brings it)',
  cfnlint: 'pip install cfn-lint',
  jmespath: 'pip install jmespath',
  moto: 'pip install "moto[server]"',
  samtranslator: 'pip install aws-sam-translator',
} as const;

export type Tool = keyof typeof TOOLS;
export type PythonModule = keyof typeof PYTHON_MODULES;

/** A test prerequisite is not installed. */
export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
}

/** The absolute path of `tool` on `path`; throws MissingToolError naming it and how to install it. */
export function requireTool(tool: Tool, path = process.env['PATH'] ?? ''): string {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new MissingToolError(
    `test prerequisite missing: "${tool}" is not on PATH. Install it (${TOOLS[tool]}); README, Tests, ` +
      'lists what the tests need.',
  );
}

/** Checks that python3 can import each module; throws MissingToolError naming those it cannot. */
export function requirePythonModules(...modules: PythonModule[]): void {
  const python = requireTool('python3');
  const missing = modules.filter((module) => {
    try {
      execFileSync(python, ['-c', `import ${module}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new MissingToolError(
      `test prerequisite missing: ${python} cannot import ${missing.join(', ')}. Install: ` +
        `${[...new Set(missing.map((module) => PYTHON_MODULES[module]))].join('; ')}.`,
    );
  }
}
