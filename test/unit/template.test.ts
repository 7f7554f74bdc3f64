import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ACCOUNT, REGION, entriesOf, evaluateTemplate } from '../support/cloudformation.js';
import { at } from '../support/json.js';
import { PROJECT_ROOT, readTemplate } from '../support/lambda.js';
import { requirePythonModules, requireTool } from '../support/tools.js';

const run = promisify(execFile);
const TEMPLATE = join(PROJECT_ROOT, 'template.yml');

type Json = unknown;

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Json;
}

function statementsOf(role: Json): Statement[] {
  const policies = at(role, 'Properties', 'Policies');
  return (Array.isArray(policies) ? policies : []).flatMap((policy: Json) => {
    const statements = at(policy, 'PolicyDocument', 'Statement');
    return Array.isArray(statements) ? statements : [];
  });
}

const VPC = {
  SubnetIds: 'subnet-0aaa,subnet-0bbb',
  VpcId: 'vpc-0a1b2c3d4e5f60718',
  ClusterSecurityGroupId: 'sg-0123456789abcdef0',
  S3PrefixListId: 'pl-63a5400a',
};
const ENDPOINT = {
  ClusterEndpoint: 'https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com',
  ClusterCaData: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==',
};
const ENI = `arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/*`;

// Every combination of the template's four independent conditions, each made the way a user makes it: by parameter
// values.
const COMBINATIONS = [true, false].flatMap((discover) =>
  [true, false].flatMap((accessEntry) =>
    [true, false].flatMap((inVpc) =>
      [true, false].map((bucket) => ({
        label: `${discover ? 'discovering the cluster' : 'with endpoint and CA'}, ${accessEntry ? 'with' : 'without'} an access entry, ${inVpc ? 'in a VPC' : 'outside a VPC'}, ${bucket ? 'with' : 'without'} a manifest bucket`,
        // In a VPC the values carry the S3 prefix list, as deploy.sh passes it: AnswerThroughS3 follows InVpc.
        conditions: {
          DiscoverCluster: discover,
          MakeAccessEntry: accessEntry,
          InVpc: inVpc,
          AnswerThroughS3: inVpc,
          ReadManifests: bucket,
        },
        values: {
          ClusterName: 'demo',
          CreateAccessEntry: String(accessEntry),
          ...(discover ? {} : ENDPOINT),
          ...(inVpc ? VPC : {}),
          ...(bucket ? { ManifestBucket: 'team-manifests' } : {}),
        },
      })),
    ),
  ),
);

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

  it('runs the bundle on nodejs24.x, arm64, with 256 MB, 300 s for a rollout, and the REPORT line kept', () => {
    expect(at(translated, 'Resources', 'DeployerFunction', 'Properties')).toMatchObject({
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 300,
      MemorySize: 256,
      // At WARN, Lambda drops START/END/REPORT; REPORT's Max Memory Used is what MemorySize is sized by.
      LoggingConfig: { LogFormat: 'JSON', SystemLogLevel: 'INFO' },
    });
    expect(at(readTemplate(), 'Resources', 'DeployerFunction', 'Properties', 'CodeUri')).toBe('dist/');
  });

  it('declares every environment variable the function reads', () => {
    const sources = ['config.ts'].map((file) => readFileSync(join(PROJECT_ROOT, 'src', file), 'utf8')).join('\n');
    const read = new Set([...sources.matchAll(/env\['([A-Z_]+)'\]|'([A-Z_]+)'/g)].map((match) => match[1] ?? match[2]));
    const providedByLambda = [...read].filter((name) => name?.startsWith('AWS_'));
    const declared = entriesOf(
      at(readTemplate(), 'Resources', 'DeployerFunction', 'Properties', 'Environment', 'Variables'),
    ).map(([name]) => name);
    const needed = [...read].filter((name): name is string => name !== undefined && !providedByLambda.includes(name));
    expect(needed.length).toBeGreaterThanOrEqual(4);
    expect(declared).toEqual(expect.arrayContaining(needed));
  });

  it('in a VPC without an S3 prefix list, allows 443 to the cluster only', () => {
    const { S3PrefixListId: _none, ...vpcOnly } = VPC;
    const evaluated = evaluateTemplate(translated, { ClusterName: 'demo', ...ENDPOINT, ...vpcOnly });
    expect(evaluated.conditions).toMatchObject({ InVpc: true, AnswerThroughS3: false });
    expect(evaluated.resources['FunctionEgressToS3']).toBeUndefined();
    expect(evaluated.resources['FunctionSecurityGroup']).toBeDefined();
  });

  it('has exactly the five conditions the combinations below cover', () => {
    expect(
      entriesOf(at(translated, 'Conditions'))
        .map(([name]) => name)
        .sort(),
    ).toEqual(Object.keys(COMBINATIONS[0]?.conditions ?? {}).sort());
    expect(new Set(COMBINATIONS.map(({ conditions }) => JSON.stringify(conditions))).size).toBe(16);
  });

  describe.each(COMBINATIONS)('$label', ({ conditions, values }) => {
    let evaluated: ReturnType<typeof evaluateTemplate>;
    let statements: Statement[];
    beforeAll(() => {
      evaluated = evaluateTemplate(translated, values);
      statements = statementsOf(evaluated.resources['DeployerFunctionRole']);
    });

    it('evaluates the conditions as intended from the parameters', () => {
      expect(evaluated.conditions).toEqual(conditions);
    });

    it('lets the role write only to its own log group', () => {
      expect(statements.filter((statement) => [statement.Action].flat().some((a) => a.startsWith('logs:')))).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: '<DeployerFunctionLogGroup.Arn>',
        },
      ]);
    });

    it('lets the role describe the one cluster only when it has to discover it', () => {
      expect(statements.filter((statement) => [statement.Action].flat().some((a) => a.startsWith('eks:')))).toEqual(
        conditions.DiscoverCluster
          ? [
              {
                Effect: 'Allow',
                Action: 'eks:DescribeCluster',
                Resource: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/demo`,
              },
            ]
          : [],
      );
    });

    it('lets the role read the objects of the manifest bucket, and nothing else of S3, only when given one', () => {
      expect(statements.filter((statement) => [statement.Action].flat().some((a) => a.startsWith('s3:')))).toEqual(
        conditions.ReadManifests
          ? [
              {
                Effect: 'Allow',
                Action: ['s3:GetObject', 's3:GetObjectVersion'],
                Resource: 'arn:aws:s3:::team-manifests/*',
              },
            ]
          : [],
      );
    });

    it('lets the role manage network interfaces only in a VPC: in its subnets, with its security group', () => {
      const ec2 = statements.filter((statement) => [statement.Action].flat().some((a) => a.startsWith('ec2:')));
      expect(ec2).toEqual(
        conditions.InVpc
          ? [
              {
                Sid: 'CreateInterfaces',
                Effect: 'Allow',
                Action: 'ec2:CreateNetworkInterface',
                Resource: [ENI, `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/<FunctionSecurityGroup.GroupId>`],
              },
              {
                Sid: 'CreateInterfacesInFunctionSubnets',
                Effect: 'Allow',
                Action: 'ec2:CreateNetworkInterface',
                Resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/*`,
                Condition: { StringEquals: { 'ec2:SubnetID': ['subnet-0aaa', 'subnet-0bbb'] } },
              },
              {
                Sid: 'ManageInterfaces',
                Effect: 'Allow',
                Action: [
                  'ec2:DeleteNetworkInterface',
                  'ec2:AssignPrivateIpAddresses',
                  'ec2:UnassignPrivateIpAddresses',
                ],
                Resource: ENI,
              },
              {
                Sid: 'DescribeHasNoResourceLevelPermissions',
                Effect: 'Allow',
                Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
                Resource: '*',
              },
            ]
          : [],
      );
    });

    it('grants nothing else: no managed policy, no wildcard action, * only where IAM allows nothing narrower', () => {
      const role = evaluated.resources['DeployerFunctionRole'];
      expect(at(role, 'Properties', 'ManagedPolicyArns')).toBeUndefined();
      expect(statements).toHaveLength(
        1 + (conditions.DiscoverCluster ? 1 : 0) + (conditions.InVpc ? 4 : 0) + (conditions.ReadManifests ? 1 : 0),
      );
      for (const statement of statements) {
        expect(statement.Effect).toBe('Allow');
        for (const action of [statement.Action].flat()) expect(action).toMatch(/^[a-z0-9]+:[A-Za-z]+$/);
        for (const resource of [statement.Resource].flat()) {
          if (resource === '*') {
            expect([statement.Action].flat().sort()).toEqual(['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets']);
          } else {
            expect(resource).toMatch(
              // S3 object ARNs have no region or account: the bucket name is global.
              new RegExp(
                `^(<DeployerFunctionLogGroup\\.Arn>|arn:aws:[a-z0-9]+:${REGION}:${ACCOUNT}:|arn:aws:s3:::team-manifests/\\*$)`,
              ),
            );
          }
        }
      }
      const trust = at(role, 'Properties', 'AssumeRolePolicyDocument', 'Statement');
      expect(trust).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
    });

    it('places the function in the VPC, with its own security group and 443 to the cluster, only in a VPC', () => {
      const fn = evaluated.resources['DeployerFunction'];
      expect(at(fn, 'Properties', 'VpcConfig')).toEqual(
        conditions.InVpc
          ? { SubnetIds: ['subnet-0aaa', 'subnet-0bbb'], SecurityGroupIds: ['<FunctionSecurityGroup>'] }
          : undefined,
      );
      expect(at(evaluated.resources, 'FunctionSecurityGroup', 'Properties', 'SecurityGroupEgress')).toEqual(
        conditions.InVpc
          ? [
              {
                IpProtocol: 'tcp',
                FromPort: 443,
                ToPort: 443,
                DestinationSecurityGroupId: VPC.ClusterSecurityGroupId,
                Description: 'Kubernetes API server',
              },
            ]
          : undefined,
      );
      // A security group with an egress rule has no default allow-all: the custom resource answer (a PUT to S3)
      // needs its own rule.
      expect(at(evaluated.resources, 'FunctionEgressToS3', 'Properties')).toEqual(
        conditions.InVpc
          ? {
              GroupId: '<FunctionSecurityGroup.GroupId>',
              IpProtocol: 'tcp',
              FromPort: 443,
              ToPort: 443,
              DestinationPrefixListId: VPC.S3PrefixListId,
              Description: 'Amazon S3, for CloudFormation custom resource answers',
            }
          : undefined,
      );
      expect(at(evaluated.resources, 'ClusterIngressFromFunction', 'Properties')).toEqual(
        conditions.InVpc
          ? {
              GroupId: VPC.ClusterSecurityGroupId,
              IpProtocol: 'tcp',
              FromPort: 443,
              ToPort: 443,
              SourceSecurityGroupId: '<FunctionSecurityGroup>',
              Description: 'lambda-eks function to the Kubernetes API server',
            }
          : undefined,
      );
    });

    it('maps the role to the Kubernetes group with a STANDARD access entry only when asked', () => {
      expect(evaluated.resources['DeployerAccessEntry']).toEqual(
        conditions.MakeAccessEntry
          ? {
              Type: 'AWS::EKS::AccessEntry',
              Condition: 'MakeAccessEntry',
              Properties: {
                ClusterName: 'demo',
                PrincipalArn: '<DeployerFunctionRole.Arn>',
                Type: 'STANDARD',
                KubernetesGroups: ['lambda-deployers'],
              },
            }
          : undefined,
      );
    });

    it('passes the endpoint and CA to the function when given', () => {
      expect(at(evaluated.resources, 'DeployerFunction', 'Properties', 'Environment', 'Variables')).toMatchObject({
        CLUSTER_NAME: 'demo',
        CLUSTER_ENDPOINT: conditions.DiscoverCluster ? '' : ENDPOINT.ClusterEndpoint,
        CLUSTER_CA_DATA: conditions.DiscoverCluster ? '' : ENDPOINT.ClusterCaData,
        NAMESPACE: 'default',
      });
    });
  });

  it('outputs the function name and ARN, the role ARN, the Kubernetes group and the grant command', () => {
    expect(
      entriesOf(at(translated, 'Outputs'))
        .map(([name]) => name)
        .sort(),
    ).toEqual(['FunctionArn', 'FunctionName', 'GrantCommand', 'KubernetesGroup', 'RoleArn']);
  });

  it('exports the function ARN as <stack name>-FunctionArn for custom resources in other stacks', () => {
    const { outputs } = evaluateTemplate(translated, { ClusterName: 'my-cluster' }, 'lambda-eks-my-cluster');
    expect(at(outputs, 'FunctionArn')).toMatchObject({
      Value: '<DeployerFunction.Arn>',
      Export: { Name: 'lambda-eks-my-cluster-FunctionArn' },
    });
  });

  it('takes the grants as a list of create, apply, observe and delete, create by default', () => {
    expect(at(translated, 'Parameters', 'Grants')).toMatchObject({
      Type: 'CommaDelimitedList',
      Default: 'create',
      AllowedValues: ['create', 'apply', 'observe', 'delete'],
    });
  });

  it.each([
    [{}, "kubectl apply -n default -f permissions.yml -l 'lambda-eks/grant in (create)'"],
    [
      { Grants: 'create,apply,observe,delete', Namespace: 'team-a' },
      "kubectl apply -n team-a -f permissions.yml -l 'lambda-eks/grant in (create,apply,observe,delete)'",
    ],
  ])('outputs the kubectl command that applies the grants for %j', (values, command) => {
    const { outputs } = evaluateTemplate(translated, { ClusterName: 'demo', ...values });
    expect(at(outputs, 'GrantCommand', 'Value')).toBe(command);
  });
});
