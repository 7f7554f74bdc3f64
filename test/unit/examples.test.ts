import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { entriesOf, evaluateTemplate } from '../support/cloudformation.js';
import { at } from '../support/json.js';
import { PROJECT_ROOT, readTemplate } from '../support/lambda.js';
import { requireTool } from '../support/tools.js';

const run = promisify(execFile);
const EXAMPLE = join(PROJECT_ROOT, 'examples/custom-resource.yml');

async function cfnLint(path: string): Promise<string> {
  const { stdout, stderr } = await run(requireTool('cfn-lint'), [path]).catch(
    (error: { stdout: string; stderr: string }) => error,
  );
  return `${stdout}${stderr}`;
}

describe('examples/custom-resource.yml', () => {
  const example = readTemplate(EXAMPLE);
  const header = readFileSync(EXAMPLE, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('#'))
    .join('\n');

  it('passes cfn-lint with no errors or warnings', async () => {
    expect(await cfnLint(EXAMPLE)).toBe('');
  });

  it("is checked by cfn-lint for CloudFormation's ServiceTimeout, not passed over", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lambda-eks-example-'));
    try {
      const broken = join(dir, 'broken.yml');
      writeFileSync(broken, readFileSync(EXAMPLE, 'utf8').replace('ServiceTimeout: 600', 'ServiceTimeout: [600]'));
      expect(await cfnLint(broken)).toMatch(/E3012 \[600\] is not of type 'integer'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('imports the ServiceToken that template.yml exports from the default function stack', () => {
    const functionStack = String(at(example, 'Parameters', 'FunctionStackName', 'Default'));
    const exported = at(
      evaluateTemplate(readTemplate(), { ClusterName: 'my-cluster' }, functionStack).outputs,
      'FunctionArn',
      'Export',
      'Name',
    );
    expect(exported).toBe('lambda-eks-my-cluster-FunctionArn');
    const { resources } = evaluateTemplate(example, {});
    expect(at(resources, 'Web', 'Properties', 'ServiceToken')).toBe(`<import:${String(exported)}>`);
  });

  it('declares a Custom::KubernetesDeployment with exactly the properties of the contract, from its parameters', () => {
    const { resources } = evaluateTemplate(example, {
      FunctionStackName: 'lambda-eks-prod',
      DeploymentName: 'shop',
      Namespace: 'apps',
      Replicas: '5',
      Image: 'nginx:1.29.0',
      Wait: 'false',
      Force: 'true',
    });
    expect(Object.keys(resources)).toEqual(['Web']);
    expect(resources['Web']).toEqual({
      Type: 'Custom::KubernetesDeployment',
      Properties: {
        ServiceToken: '<import:lambda-eks-prod-FunctionArn>',
        ServiceTimeout: 600,
        Name: 'shop',
        Namespace: 'apps',
        Replicas: '5',
        Image: 'nginx:1.29.0',
        Wait: 'false',
        Force: 'true',
      },
    });
  });

  it("waits longer for an answer than the function may run, within CloudFormation's 3600 s", () => {
    const timeout = Number(at(example, 'Resources', 'Web', 'Properties', 'ServiceTimeout'));
    const functionTimeout = Number(at(readTemplate(), 'Resources', 'DeployerFunction', 'Properties', 'Timeout'));
    expect(timeout).toBeGreaterThan(functionTimeout);
    expect(timeout).toBeLessThanOrEqual(3600);
  });

  it('outputs the four attributes of the resource: Uid, Name, Namespace and Status', () => {
    expect(entriesOf(at(example, 'Outputs')).map(([name, output]) => [name, at(output, 'Value')])).toEqual([
      ['Uid', { 'Fn::GetAtt': ['Web', 'Uid'] }],
      ['Name', { 'Fn::GetAtt': ['Web', 'Name'] }],
      ['Namespace', { 'Fn::GetAtt': ['Web', 'Namespace'] }],
      ['Status', { 'Fn::GetAtt': ['Web', 'Status'] }],
    ]);
  });

  it('says in its header how to deploy it and which grants it needs', () => {
    expect(header).toContain('--grant create,apply,observe,delete');
    for (const grant of ['create', 'apply', 'delete', 'observe']) expect(header).toMatch(new RegExp(`\\b${grant} \\(`));
    expect(header).toContain('aws cloudformation deploy --template-file examples/custom-resource.yml');
    const overrides = [...header.matchAll(/--parameter-overrides ((?:\w+=\S+ ?)+)/g)].flatMap((match) =>
      (match[1] ?? '').trim().split(' '),
    );
    expect(overrides.length).toBeGreaterThan(0);
    const declared = entriesOf(at(example, 'Parameters')).map(([name]) => name);
    for (const override of overrides) expect(declared).toContain(override.split('=')[0]);
  });
});
