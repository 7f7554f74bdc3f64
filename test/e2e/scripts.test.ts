import { execFile, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from '@jest/globals';
import { PROJECT_ROOT } from '../support/lambda.js';
import { requirePythonModules, requireTool } from '../support/tools.js';

// deploy.sh and local.sh run in a copy of the project whose PATH holds only stub aws, sam, kubectl, eksctl (and
// docker) CLIs, which record their arguments and answer like the real ones (test/support/cli_stub.py), plus the few
// system tools the scripts use. build-handler.sh is replaced by a recorder: the real one has its own tests.
const SYSTEM_TOOLS = ['bash', 'env', 'mktemp', 'rm', 'tr', 'grep', 'cat', 'sleep', 'dirname'];
// The interpreter itself, not a pyenv shim: the sandbox's PATH holds nothing else.
const PYTHON = spawnSync(requireTool('python3'), ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8',
}).stdout.trim();
const runFile = promisify(execFile);

interface Call {
  tool: string;
  args: string[];
}

interface Scenario {
  credentials?: boolean;
  cluster?: Record<string, unknown> | null;
  samDeployFails?: boolean;
  canCreateRoles?: boolean;
  mapped?: boolean;
  outputs?: Record<string, string>;
  invokeResults?: Record<string, unknown>[];
}

const ROLE_ARN = 'arn:aws:iam::111122223333:role/lambda-eks-demo-DeployerFunctionRole-ABC';
const CREATED = {
  status: 'created',
  name: 'nginx-deployment',
  namespace: 'default',
  replicas: 2,
  image: 'nginx:1.30.0',
  uid: 'u-1',
};
const NOT_MAPPED = {
  errorType: 'ClusterAuthenticationError',
  errorMessage: 'cluster "demo" rejected the function\'s token',
};

function cluster(mode: string | null, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'demo',
    status: 'ACTIVE',
    endpoint: 'https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com',
    certificateAuthority: { data: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==' },
    accessConfig: mode === null ? null : { authenticationMode: mode },
    resourcesVpcConfig: {
      vpcId: 'vpc-0a1b2c3d4e5f60718',
      subnetIds: ['subnet-0aaa', 'subnet-0bbb'],
      clusterSecurityGroupId: 'sg-0123456789abcdef0',
      endpointPublicAccess: true,
      endpointPrivateAccess: false,
    },
    ...overrides,
  };
}

const sandboxes: string[] = [];
afterEach(() => {
  for (const dir of sandboxes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function sandbox(tools: string[]): { dir: string; bin: string } {
  requirePythonModules('jmespath');
  const dir = mkdtempSync(join(tmpdir(), 'lambda-eks-scripts-'));
  sandboxes.push(dir);
  for (const file of ['deploy.sh', 'local.sh', 'template.yml', 'permissions.yml', 'events']) {
    cpSync(join(PROJECT_ROOT, file), join(dir, file), { recursive: true });
  }
  writeFileSync(
    join(dir, 'build-handler.sh'),
    `#!/usr/bin/env bash\necho '{"tool":"build-handler.sh","args":[]}' >> "$STUB_LOG"\n`,
  );
  chmodSync(join(dir, 'build-handler.sh'), 0o755);
  const bin = join(dir, '.bin');
  mkdirSync(bin);
  for (const tool of tools) symlinkSync(join(PROJECT_ROOT, 'test/support/cli_stub.py'), join(bin, tool));
  for (const tool of SYSTEM_TOOLS) {
    const path = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(path, join(bin, tool));
  }
  symlinkSync(PYTHON, join(bin, 'python3'));
  return { dir, bin };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  calls: Call[];
}

async function runScript(
  script: string,
  args: string[],
  scenario: Scenario,
  options: { tools?: string[]; env?: Record<string, string> } = {},
): Promise<Run> {
  const { dir, bin } = sandbox(options.tools ?? ['aws', 'sam', 'kubectl', 'eksctl', 'docker']);
  const log = join(dir, 'calls.jsonl');
  writeFileSync(
    join(dir, 'scenario.json'),
    JSON.stringify({
      outputs: {
        FunctionName: 'lambda-eks-demo-DeployerFunction-XYZ',
        RoleArn: ROLE_ARN,
        KubernetesGroup: 'lambda-deployers',
      },
      invokeResults: [CREATED],
      ...scenario,
    }),
  );
  const env = {
    PATH: bin,
    HOME: dir,
    STUB_LOG: log,
    STUB_SCENARIO: join(dir, 'scenario.json'),
    AWS_REGION: 'us-west-2',
    LAMBDA_EKS_INVOKE_INTERVAL_SECONDS: '0',
    ...options.env,
  };
  const result = await runFile('bash', [join(dir, script), ...args], { cwd: dir, env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
  const calls = existsSync(log)
    ? readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line): Call => JSON.parse(line))
    : [];
  return { ...result, calls };
}

// The tool and its first two arguments (after kubectl's --kubeconfig <file>).
const names = (calls: Call[]): string[] =>
  calls.map((call) =>
    [call.tool, ...(call.args[0] === '--kubeconfig' ? call.args.slice(2) : call.args).slice(0, 2)].join(' '),
  );
const find = (calls: Call[], prefix: string): Call | undefined =>
  calls.find((call) => names([call])[0]?.startsWith(prefix));

describe('deploy.sh', () => {
  it('checks, builds, deploys with an access entry, applies RBAC and invokes, in that order', async () => {
    const run = await runScript('deploy.sh', ['demo'], { cluster: cluster('API_AND_CONFIG_MAP') });

    expect(run.code).toBe(0);
    expect(names(run.calls)).toEqual([
      'aws sts get-caller-identity',
      'aws eks describe-cluster',
      'aws eks describe-cluster',
      'build-handler.sh',
      'sam deploy --template-file',
      'aws cloudformation describe-stacks',
      'aws cloudformation describe-stacks',
      'aws eks update-kubeconfig',
      'kubectl auth can-i',
      'kubectl apply -n',
      'aws lambda invoke',
    ]);
    const deploy = find(run.calls, 'sam deploy')?.args ?? [];
    expect(deploy).toEqual(
      expect.arrayContaining([
        '--template-file',
        'template.yml',
        '--resolve-s3',
        '--no-fail-on-empty-changeset',
        '--capabilities',
        'CAPABILITY_IAM',
        '--stack-name',
        'lambda-eks-demo',
        '--region',
        'us-west-2',
      ]),
    );
    expect(deploy).toEqual(
      expect.arrayContaining([
        'ClusterName=demo',
        'CreateAccessEntry=true',
        'Namespace=default',
        'KubernetesGroup=lambda-deployers',
        'ClusterEndpoint=https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com',
        'ClusterCaData=LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==',
      ]),
    );
    expect(deploy.some((arg) => arg.startsWith('SubnetIds='))).toBe(false);
    expect(run.calls.filter((call) => call.tool === 'kubectl')[1]?.args).toEqual(
      expect.arrayContaining(['apply', '-n', 'default', '-f', 'permissions.yml']),
    );
    const invokeArgs = find(run.calls, 'aws lambda invoke')?.args ?? [];
    expect(invokeArgs[invokeArgs.indexOf('--payload') + 1]).toMatch(/^fileb:\/\/.*event\.json$/);
    expect(JSON.parse(run.stdout)).toEqual(CREATED);
  });

  it('passes the region, stack name and namespace it is given', async () => {
    const run = await runScript(
      'deploy.sh',
      ['demo', '--region', 'eu-west-1', '--stack-name', 'my-stack', '--namespace', 'team-a', '--no-invoke'],
      { cluster: cluster('API') },
    );

    expect(run.code).toBe(0);
    const deploy = find(run.calls, 'sam deploy')?.args ?? [];
    expect(deploy).toEqual(
      expect.arrayContaining(['--stack-name', 'my-stack', '--region', 'eu-west-1', 'Namespace=team-a']),
    );
    expect(find(run.calls, 'aws lambda invoke')).toBeUndefined();
  });

  it('skips the access entry and maps the role in aws-auth with eksctl on a CONFIG_MAP cluster', async () => {
    const run = await runScript('deploy.sh', ['demo'], { cluster: cluster('CONFIG_MAP') });

    expect(run.code).toBe(0);
    expect(find(run.calls, 'sam deploy')?.args).toContain('CreateAccessEntry=false');
    expect(find(run.calls, 'eksctl create iamidentitymapping')?.args).toEqual(
      expect.arrayContaining(['--cluster', 'demo', '--arn', ROLE_ARN, '--group', 'lambda-deployers']),
    );
  });

  it('treats a cluster without accessConfig as CONFIG_MAP and does not map an already mapped role twice', async () => {
    const run = await runScript('deploy.sh', ['demo'], { cluster: cluster(null), mapped: true });

    expect(run.code).toBe(0);
    expect(find(run.calls, 'sam deploy')?.args).toContain('CreateAccessEntry=false');
    expect(find(run.calls, 'eksctl get iamidentitymapping')).toBeDefined();
    expect(find(run.calls, 'eksctl create iamidentitymapping')).toBeUndefined();
  });

  it('prints the exact eksctl command when eksctl is not installed', async () => {
    const run = await runScript(
      'deploy.sh',
      ['demo'],
      { cluster: cluster('CONFIG_MAP') },
      { tools: ['aws', 'sam', 'kubectl'] },
    );

    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      `eksctl create iamidentitymapping --cluster demo --region us-west-2 --arn ${ROLE_ARN} --group lambda-deployers --username lambda-eks`,
    );
  });

  it('prints the kubectl command instead of applying RBAC when the caller may not create Roles', async () => {
    const run = await runScript('deploy.sh', ['demo'], { cluster: cluster('API'), canCreateRoles: false });

    expect(run.code).toBe(0);
    expect(run.calls.filter((call) => call.tool === 'kubectl' && call.args.includes('apply'))).toEqual([]);
    expect(run.stderr).toContain('kubectl apply -n default -f permissions.yml');
  });

  it('runs the function in the cluster VPC when the endpoint is private', async () => {
    const privateCluster = cluster('API', {
      resourcesVpcConfig: {
        vpcId: 'vpc-0a1b2c3d4e5f60718',
        subnetIds: ['subnet-0aaa', 'subnet-0bbb'],
        clusterSecurityGroupId: 'sg-0123456789abcdef0',
        endpointPublicAccess: false,
        endpointPrivateAccess: true,
      },
    });
    const run = await runScript('deploy.sh', ['demo', '--no-invoke'], { cluster: privateCluster });

    expect(find(run.calls, 'sam deploy')?.args).toEqual(
      expect.arrayContaining([
        'SubnetIds=subnet-0aaa,subnet-0bbb',
        'VpcId=vpc-0a1b2c3d4e5f60718',
        'ClusterSecurityGroupId=sg-0123456789abcdef0',
      ]),
    );
  });

  it('retries the invocation while the access entry propagates', async () => {
    const run = await runScript('deploy.sh', ['demo'], {
      cluster: cluster('API'),
      invokeResults: [NOT_MAPPED, NOT_MAPPED, CREATED],
    });

    expect(run.code).toBe(0);
    expect(run.calls.filter((call) => call.tool === 'aws' && call.args[1] === 'invoke')).toHaveLength(3);
    expect(JSON.parse(run.stdout)).toEqual(CREATED);
  });

  it('stops retrying after the wait and shows the function error', async () => {
    const run = await runScript(
      'deploy.sh',
      ['demo'],
      { cluster: cluster('API'), invokeResults: [NOT_MAPPED] },
      { env: { LAMBDA_EKS_INVOKE_WAIT_SECONDS: '0' } },
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('ClusterAuthenticationError');
  });

  it.each([
    ['sam is missing', { cluster: cluster('API') }, ['aws', 'kubectl'], /sam.*not installed/],
    [
      'credentials do not work',
      { cluster: cluster('API'), credentials: false },
      undefined,
      /credentials do not work.*Unable to locate credentials/,
    ],
    [
      'the cluster does not exist',
      { cluster: null },
      undefined,
      /cannot describe EKS cluster 'demo'.*ResourceNotFoundException/,
    ],
    [
      'the cluster is not ACTIVE',
      { cluster: cluster('API', { status: 'CREATING' }) },
      undefined,
      /CREATING, not ACTIVE/,
    ],
    ['sam deploy fails', { cluster: cluster('API'), samDeployFails: true }, undefined, /sam deploy failed/],
  ])('fails with a clear message and before invoking when %s', async (_label, scenario, tools, message) => {
    const run = await runScript('deploy.sh', ['demo'], scenario, tools ? { tools } : {});

    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(find(run.calls, 'aws lambda invoke')).toBeUndefined();
  });

  it('prints usage and exits 2 without a cluster name', async () => {
    const run = await runScript('deploy.sh', [], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^usage: .*deploy.sh <cluster-name>/m);
    expect(run.calls).toEqual([]);
  });
});

describe('local.sh', () => {
  it('builds and runs sam local invoke with the event and env-vars files', async () => {
    const run = await runScript(
      'local.sh',
      ['events/dry-run.json'],
      {},
      { env: { LAMBDA_EKS_ENV_VARS: 'events/env.example.json' } },
    );

    expect(run.code).toBe(0);
    expect(names(run.calls)).toEqual(['build-handler.sh', 'sam local invoke']);
    expect(run.calls[1]?.args).toEqual([
      'local',
      'invoke',
      'DeployerFunction',
      '--template-file',
      'template.yml',
      '--event',
      'events/dry-run.json',
      '--env-vars',
      'events/env.example.json',
      '--region',
      'us-west-2',
    ]);
    expect(run.stderr).toContain('runs as your own AWS identity');
  });

  it('explains how to make events/env.json when it is missing', async () => {
    const run = await runScript('local.sh', [], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('copy events/env.example.json to events/env.json');
  });

  it('names the missing event file', async () => {
    const run = await runScript('local.sh', ['events/nope.json'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no event file events/nope.json');
  });
});

describe('shell scripts', () => {
  it.each(['deploy.sh', 'local.sh', 'build-handler.sh', '.ci/run'])('%s is shellcheck clean', async (script) => {
    const { stdout } = await runFile(requireTool('shellcheck'), [join(PROJECT_ROOT, script)]).catch(
      (error: { stdout: string }) => error,
    );
    expect(stdout).toBe('');
  });
});
