import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { IMAGE_CONVENTIONS } from '../support/control-plane/stages.js';
import { at } from '../support/json.js';
import { PROJECT_ROOT, readTemplate, sampleEvents } from '../support/lambda.js';

// The README is the product's front door: what it lists must be what the code has. Each list here is read from the
// code (the error classes, the template, the scripts' help, package.json), never copied, so that a new parameter,
// errorType, option or file that the README does not mention fails the build.

const README = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');

/** The lines of the README section under `heading` (up to the next heading of the same or a higher level). */
function section(heading: string): string {
  const lines = README.split('\n');
  const start = lines.findIndex((line) => line.replace(/^#+ /, '') === heading && line.startsWith('#'));
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const level = (lines[start] ?? '').indexOf(' ');
  const end = lines.findIndex((line, index) => index > start && /^#+ /.test(line) && line.indexOf(' ') <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The first cell of each row of the Markdown tables in `text`. */
function firstCells(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('| ') && !/^\|[-| ]+\|$/.test(line))
    .map((line) => line.split('|')[1]?.trim() ?? '');
}

function errorTypes(): string[] {
  return readdirSync(join(PROJECT_ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .flatMap((file) => {
      const source = readFileSync(join(PROJECT_ROOT, 'src', file), 'utf8');
      // Only what reaches the user: the LambdaEksError classes (TransportError is internal, always translated).
      return [...source.matchAll(/class (\w+) extends LambdaEksError \{\s*override readonly name = '(\w+)'/g)].map(
        (match) => match[2] ?? '',
      );
    });
}

function objectKeys(value: unknown): string[] {
  return typeof value === 'object' && value !== null ? Object.keys(value) : [];
}

describe('the README', () => {
  it('has a Troubleshooting row for every errorType the function throws', () => {
    const types = errorTypes();
    expect(types.length).toBeGreaterThanOrEqual(10);
    const rows = firstCells(section('Troubleshooting'));
    for (const type of types) expect(rows).toContain(`\`${type}\``);
  });

  it('lists every test image convention of the control plane, in the Tests section', () => {
    const suffixes = Object.keys(IMAGE_CONVENTIONS);
    expect(suffixes.length).toBeGreaterThanOrEqual(5);
    const rows = firstCells(section('The control plane'));
    for (const suffix of suffixes) expect(rows).toContain(`\`${suffix}\``);
  });

  it('has a Configuration row for every template parameter', () => {
    const parameters = objectKeys(at(readTemplate(), 'Parameters'));
    expect(parameters).toContain('ClusterName');
    const cells = firstCells(section('Configuration')).join(' ');
    for (const parameter of parameters) expect(cells).toContain(`\`${parameter}\``);
  });

  it('names every output of the template', () => {
    const outputs = objectKeys(at(readTemplate(), 'Outputs'));
    expect(outputs).toContain('FunctionArn');
    for (const output of outputs) expect(section('Configuration')).toContain(`\`${output}\``);
  });

  it("lists every option and environment variable of deploy.sh's --help", () => {
    const help = execFileSync(join(PROJECT_ROOT, 'deploy.sh'), ['--help'], { encoding: 'utf8' });
    const options = [...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((match) => match[1] ?? '');
    const variables = [...help.matchAll(/^ {2}((?:[A-Z][A-Z_]+(?:, )?)+) {2,}/gm)].flatMap((match) =>
      (match[1] ?? '').split(', '),
    );
    expect(options).toEqual(expect.arrayContaining(['--region', '--grant', '--no-invoke']));
    expect(variables).toContain('LAMBDA_EKS_INVOKE_WAIT_SECONDS');
    const cells = firstCells(section('Deploy: `./deploy.sh`')).join(' ');
    for (const name of [...options, ...variables]) expect(cells).toContain(`\`${name}`);
  });

  it('lists every sample event', () => {
    const events = sampleEvents();
    expect(events.length).toBeGreaterThanOrEqual(5);
    for (const file of events) expect(README).toContain(`\`${file}\``);
  });

  it('runs only npm scripts that exist', () => {
    const scripts = objectKeys(at(JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')), 'scripts'));
    const used = [...README.matchAll(/npm run (?:--[\w-]+ )*([\w-]+(?::[\w-]+)*)/g)].map((match) => match[1] ?? '');
    expect(used).toEqual(expect.arrayContaining(['demo', 'bench']));
    for (const script of used) expect(scripts).toContain(script);
  });

  it('names only project files that exist', () => {
    const paths = [
      ...README.matchAll(/`((?:src|test|bench|examples|events|\.ci)\/[\w./-]*\.(?:ts|mjs|yml|json|sh)|\.ci\/run)`/g),
    ].map((match) => match[1] ?? '');
    expect(paths.length).toBeGreaterThanOrEqual(10);
    for (const path of paths) expect([path, existsSync(join(PROJECT_ROOT, path))]).toEqual([path, true]);
  });
});
