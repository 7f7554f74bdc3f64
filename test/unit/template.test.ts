import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { at } from '../support/json.js';
import { PROJECT_ROOT, readTemplate } from '../support/lambda.js';
import { requirePythonModules, requireTool } from '../support/tools.js';

const run = promisify(execFile);
const TEMPLATE = join(PROJECT_ROOT, 'template.yml');

type Json = unknown;

/** Resolves Fn::If and drops AWS::NoValue for the given condition values, as CloudFormation does at deploy time. */
function resolveConditions(value: Json, conditions: Record<string, boolean>): Json {
  if (Array.isArray(value)) {
    return value.map((item) => resolveConditions(item, conditions)).filter((item) => item !== NO_VALUE);
  }
  if (typeof value !== 'object' || value === null) return value;
  const fnIf = at(value, 'Fn::If');
  if (Array.isArray(fnIf)) {
    const [name, whenTrue, whenFalse] = fnIf;
    const condition = conditions[String(name)];
    if (condition === undefined) throw new Error(`no value for condition ${String(name)}`);
    return resolveConditions(condition ? whenTrue : whenFalse, conditions);
  }
  if (at(value, 'Ref') === 'AWS::NoValue') return NO_VALUE;
  return Object.fromEntries(
    Object.entries(value)
      .map(([key, item]) => [key, resolveConditions(item, conditions)] as const)
      .filter(([, item]) => item !== NO_VALUE),
  );
}
const NO_VALUE = Symbol('AWS::NoValue');

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
}

function statementsOf(role: Json): Statement[] {
  const policies = at(role, 'Properties', 'Policies');
  return (Array.isArray(policies) ? policies : []).flatMap((policy: Json) => {
    const statements = at(policy, 'PolicyDocument', 'Statement');
    return Array.isArray(statements) ? statements : [];
  });
}

describe('template.yml', () => {
  let translated: Json;

  beforeAll(async () => {
    requirePythonModules('cfnlint', 'samtranslator');
    const { stdout } = await run(requireTool('python3'), [
      join(PROJECT_ROOT, 'test/support/sam_translate.py'),
      TEMPLATE,
    ]);
    translated = JSON.parse(stdout);
  });

  it('passes cfn-lint with no errors or warnings', async () => {
    const { stdout, stderr } = await run(requireTool('cfn-lint'), [TEMPLATE]).catch(
      (error: { stdout: string; stderr: string }) => error,
    );
    expect(`${stdout}${stderr}`).toBe('');
  });

  it('runs the bundle on nodejs24.x, arm64, with an explicit timeout and JSON logs', () => {
    expect(at(translated, 'Resources', 'DeployerFunction', 'Properties')).toMatchObject({
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: expect.any(Number),
      MemorySize: expect.any(Number),
      LoggingConfig: { LogFormat: 'JSON' },
    });
    expect(at(readTemplate(), 'Resources', 'DeployerFunction', 'Properties', 'CodeUri')).toBe('dist/');
  });

  it('declares every environment variable the function reads', () => {
    const sources = ['config.ts'].map((file) => readFileSync(join(PROJECT_ROOT, 'src', file), 'utf8')).join('\n');
    const read = new Set([...sources.matchAll(/env\['([A-Z_]+)'\]|'([A-Z_]+)'/g)].map((match) => match[1] ?? match[2]));
    const providedByLambda = [...read].filter((name) => name?.startsWith('AWS_'));
    const declared = Object.keys(
      at(readTemplate(), 'Resources', 'DeployerFunction', 'Properties', 'Environment', 'Variables') ?? {},
    );
    const needed = [...read].filter((name): name is string => name !== undefined && !providedByLambda.includes(name));
    expect(needed.length).toBeGreaterThanOrEqual(4);
    expect(declared).toEqual(expect.arrayContaining(needed));
  });

  it.each([
    ['without an endpoint', { DiscoverCluster: true, InVpc: false }],
    ['with an endpoint', { DiscoverCluster: false, InVpc: false }],
    ['in a VPC', { DiscoverCluster: false, InVpc: true }],
  ])(
    'grants the role only its own logs and DescribeCluster on the one cluster when needed (%s)',
    (_label, conditions) => {
      const role = resolveConditions(at(translated, 'Resources', 'DeployerFunctionRole'), {
        MakeAccessEntry: true,
        ...conditions,
      });
      const statements = statementsOf(role);
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::Sub': '${DeployerFunctionLogGroup.Arn}' },
      });
      const describe = statements.filter((statement) => [statement.Action].flat().includes('eks:DescribeCluster'));
      expect(describe).toEqual(
        conditions.DiscoverCluster
          ? [
              {
                Effect: 'Allow',
                Action: 'eks:DescribeCluster',
                Resource: {
                  'Fn::Sub': 'arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/${ClusterName}',
                },
              },
            ]
          : [],
      );
      expect(statements).toHaveLength(conditions.DiscoverCluster ? 2 : 1);
      expect(JSON.stringify(statements)).not.toMatch(/"\*"|"[a-z0-9]+:\*"/);
      const managed = at(role, 'Properties', 'ManagedPolicyArns');
      expect(managed).toEqual(
        conditions.InVpc
          ? [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole' }]
          : undefined,
      );
    },
  );

  it('maps the role to the Kubernetes group with a STANDARD access entry', () => {
    expect(at(translated, 'Resources', 'DeployerAccessEntry')).toEqual({
      Type: 'AWS::EKS::AccessEntry',
      Condition: 'MakeAccessEntry',
      Properties: {
        ClusterName: { Ref: 'ClusterName' },
        PrincipalArn: { 'Fn::GetAtt': ['DeployerFunctionRole', 'Arn'] },
        Type: 'STANDARD',
        KubernetesGroups: [{ Ref: 'KubernetesGroup' }],
      },
    });
  });

  it('opens 443 on the cluster security group to the function only in a VPC', () => {
    expect(at(translated, 'Resources', 'ClusterIngressFromFunction')).toMatchObject({
      Condition: 'InVpc',
      Properties: {
        GroupId: { Ref: 'ClusterSecurityGroupId' },
        FromPort: 443,
        ToPort: 443,
        SourceSecurityGroupId: { Ref: 'FunctionSecurityGroup' },
      },
    });
  });

  it('outputs the function name and ARN, the role ARN and the Kubernetes group', () => {
    expect(Object.keys(at(translated, 'Outputs') ?? {}).sort()).toEqual([
      'FunctionArn',
      'FunctionName',
      'KubernetesGroup',
      'RoleArn',
    ]);
  });
});

describe('permissions.yml', () => {
  let objects: Json[];

  beforeAll(() => {
    objects = parseAllDocuments(readFileSync(join(PROJECT_ROOT, 'permissions.yml'), 'utf8')).map((document) =>
      document.toJS(),
    );
  });

  it('holds exactly a Role and a RoleBinding', () => {
    expect(objects.map((object) => `${String(at(object, 'apiVersion'))}/${String(at(object, 'kind'))}`)).toEqual([
      'rbac.authorization.k8s.io/v1/Role',
      'rbac.authorization.k8s.io/v1/RoleBinding',
    ]);
  });

  it('allows only create on deployments in group apps, in the namespace it is applied to', () => {
    const role = objects.find((object) => at(object, 'kind') === 'Role');
    expect(at(role, 'rules')).toEqual([{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'] }]);
    expect(at(role, 'metadata', 'namespace')).toBeUndefined();
  });

  it('binds the Role to the group the template maps the function to', () => {
    const binding = objects.find((object) => at(object, 'kind') === 'RoleBinding');
    const role = objects.find((object) => at(object, 'kind') === 'Role');
    expect(at(binding, 'roleRef')).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: at(role, 'metadata', 'name'),
    });
    expect(at(binding, 'subjects')).toEqual([
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Group',
        name: at(readTemplate(), 'Parameters', 'KubernetesGroup', 'Default'),
      },
    ]);
  });
});
