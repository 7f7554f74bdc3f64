import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import { InvalidEventError } from '../../../src/errors.js';
import { parseJsonPath, readJsonPath } from '../../../src/manifests/json-path.js';
import { requireTool } from '../../support/tools.js';

// The outputs of Custom::KubernetesManifest read one value with kubectl's JSONPath. The reference is the real kubectl,
// offline (`kubectl annotate --local -f <object> -o jsonpath=<path>` prints the path of an object without a cluster).
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'lambda-eks-jsonpath-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OBJECT = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w', labels: { 'app.kubernetes.io/name': 'web' }, annotations: { 'example.com/x': 'y' } },
  status: {
    loadBalancer: { ingress: [{ hostname: 'a.example.com' }, { ip: '10.0.0.9' }] },
    replicas: 3,
    ready: true,
    map: { a: 1, b: 'two' },
    'odd-key': 'dash',
  },
};

async function kubectlReads(path: string): Promise<string> {
  const file = join(dir, 'object.json');
  writeFileSync(file, JSON.stringify(OBJECT));
  // annotate --local changes the printed copy only; the annotation it adds is not on any path read here.
  const { stdout } = await run(
    requireTool('kubectl'),
    ['annotate', '--local', '-f', file, 'lambda-eks/probe=1', '-o', `jsonpath=${path}`],
    { env: { ...process.env, KUBECONFIG: '/dev/null' } },
  );
  return stdout;
}

describe('readJsonPath', () => {
  it.each([
    '{.status.loadBalancer.ingress[0].hostname}',
    '{.status.loadBalancer.ingress[-1].ip}',
    '{.status.replicas}',
    '{.status.ready}',
    '{.status.map}',
    '{.status.loadBalancer.ingress}',
    '{.status.odd-key}',
    "{.metadata['name']}",
    '{.metadata.labels.app\\.kubernetes\\.io/name}',
    '{$.kind}',
    '{.status.missing}',
  ])('reads %s as kubectl does', async (path) => {
    const value = readJsonPath(OBJECT, parseJsonPath(path, 'JsonPath')) ?? '';

    expect(value).toBe(await kubectlReads(path));
  });

  it('reads a quoted key with a dot as the key it names (kubectl splits it at the dot and prints nothing)', async () => {
    const path = "{.metadata.annotations['example.com/x']}";

    expect(readJsonPath(OBJECT, parseJsonPath(path, 'JsonPath'))).toBe('y');
    expect(await kubectlReads(path)).toBe('');
  });

  it('reads an index past the end as no value, where kubectl fails', () => {
    expect(
      readJsonPath(OBJECT, parseJsonPath('{.status.loadBalancer.ingress[5].hostname}', 'JsonPath')),
    ).toBeUndefined();
  });
});

describe('parseJsonPath', () => {
  it.each([
    ['.status.replicas', 'is not one {...} expression'],
    ['{}', 'is not one {...} expression'],
    ['{.items[*].metadata.name}', 'cannot be read at "[*].metadata.name"'],
    ['{..name}', 'cannot be read at "..name"'],
    ['{.items[?(@.x=="y")]}', 'filters, ranges, wildcards'],
    ['{range .items[*]}{.name}{end}', 'cannot be read at'],
    ['{.items[0:2]}', 'cannot be read at "[0:2]"'],
    ["{.metadata['a','b']}", "cannot be read at \"['a','b']\""],
  ])('refuses %s, naming the field', (path, said) => {
    let thrown: unknown;
    try {
      parseJsonPath(path, 'Outputs.Host.JsonPath');
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(InvalidEventError);
    expect(String(Object(thrown).message)).toMatch(/^Outputs\.Host\.JsonPath: /);
    expect(String(Object(thrown).message)).toContain(said);
  });
});
