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
import { at } from '../support/json.js';
import { offlineKubectl } from '../support/kubectl-offline.js';
import { PROJECT_ROOT, readTemplate } from '../support/lambda.js';
import { requirePythonModules, requireTool } from '../support/tools.js';

// deploy.sh and local.sh run in a copy of the project whose PATH holds only stub aws, sam, kubectl, eksctl (and
// docker) CLIs, which record their arguments and answer like the real ones (test/support/cli_stub.py), plus the few
// system tools the scripts use. build-handler.sh is replaced by a recorder: the real one has its own tests. The stub
// kubectl selects objects for `apply -l` with the real kubectl, offline (test/support/kubectl-offline.ts).
const SYSTEM_TOOLS = ['bash', 'env', 'mktemp', 'rm', 'tr', 'grep', 'cat', 'sleep', 'dirname'].map((tool) => ({
  tool,
  path: spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(),
}));
const BASH = SYSTEM_TOOLS[0]?.path ?? 'bash';
// The interpreter itself, not a pyenv shim: the sandbox's PATH holds nothing else. The stubs run with -S (no site
// module: a script calls them ten times, and site's start-up costs more than the stub) and find jmespath, the one
// module they import beyond the standard library, through PYTHONPATH.
const [PYTHON = '', JMESPATH_HOME = ''] = spawnSync(
  requireTool('python3'),
  ['-c', 'import os, sys, jmespath; print(sys.executable); print(os.path.dirname(os.path.dirname(jmespath.__file__)))'],
  { encoding: 'utf8' },
)
  .stdout.trim()
  .split('\n');
const runFile = promisify(execFile);
const ALL_TOOLS = ['aws', 'sam', 'kubectl', 'eksctl', 'docker', 'npm'];

interface Call {
  tool: string;
  args: string[];
}

interface Scenario {
  credentials?: boolean;
  /** How aws sts get-caller-identity fails (cli_stub.py's STS_ERRORS: AWS CLI v1's own words). */
  stsError?: string;
  cluster?: Record<string, unknown> | null;
  stackStatus?: string;
  samDeployFails?: boolean;
  kubeconfigFails?: boolean;
  canCreateRoles?: boolean;
  applyFails?: boolean;
  /** npm run grants fails (a kind the cluster does not serve). */
  grantsFail?: boolean;
  roles?: string[];
  mapped?: boolean;
  mappingFails?: boolean;
  prefixListsFail?: boolean;
  /** The VPC's subnets and route tables, as EC2 describes them (default: the cluster's, private, behind a NAT). */
  subnets?: Record<string, unknown>[];
  routeTables?: Record<string, unknown>[];
  routeTablesFail?: boolean;
  docker?: 'running' | 'stopped' | 'hangs';
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
const QUOTA_EXCEEDED = {
  errorType: 'KubernetesApiError',
  errorMessage:
    'HTTP 403 Forbidden: deployments.apps "nginx-deployment" is forbidden: exceeded quota: compute, requested: pods=2, used: pods=10, limited: pods=10',
};
const EXIT_NEEDS_ADMIN = 3;

function cluster(mode: string | null, vpc: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) {
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
      publicAccessCidrs: ['0.0.0.0/0'],
      ...vpc,
    },
    ...overrides,
  };
}

const VPC_ID = 'vpc-0a1b2c3d4e5f60718';
const S3_PREFIX_LIST = 'pl-63a5400a';
const LOCAL_ROUTE = {
  DestinationCidrBlock: '10.0.0.0/16',
  GatewayId: 'local',
  Origin: 'CreateRouteTable',
  State: 'active',
};
const ROUTES = {
  nat: {
    DestinationCidrBlock: '0.0.0.0/0',
    NatGatewayId: 'nat-0123456789abcdef0',
    Origin: 'CreateRoute',
    State: 'active',
  },
  natGone: {
    DestinationCidrBlock: '0.0.0.0/0',
    NatGatewayId: 'nat-0fedcba987654321',
    Origin: 'CreateRoute',
    State: 'blackhole',
  },
  internet: {
    DestinationCidrBlock: '0.0.0.0/0',
    GatewayId: 'igw-0123456789abcdef0',
    Origin: 'CreateRoute',
    State: 'active',
  },
  s3Endpoint: {
    DestinationPrefixListId: S3_PREFIX_LIST,
    GatewayId: 'vpce-0123456789abcdef0',
    Origin: 'CreateRoute',
    State: 'active',
  },
};
/** A route table of the cluster's VPC, as describe-route-tables gives it: the main one, or associated with `subnets`. */
function routeTable(id: string, routes: Record<string, unknown>[], subnets: string[] | 'main') {
  const associations =
    subnets === 'main'
      ? [{ Main: true, RouteTableId: id, RouteTableAssociationId: `rtbassoc-${id}` }]
      : subnets.map((subnet) => ({
          Main: false,
          SubnetId: subnet,
          RouteTableId: id,
          RouteTableAssociationId: `rtbassoc-${subnet}`,
        }));
  return { RouteTableId: id, VpcId: VPC_ID, Associations: associations, Routes: [LOCAL_ROUTE, ...routes] };
}
const subnet = (id: string, publicIps: boolean) => ({ SubnetId: id, VpcId: VPC_ID, MapPublicIpOnLaunch: publicIps });

const sandboxes: string[] = [];
afterEach(() => {
  for (const dir of sandboxes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

let pythonChecked = false;
function sandbox(tools: string[]): { dir: string; bin: string; kubectlEnv: Record<string, string> } {
  if (!pythonChecked) requirePythonModules('jmespath');
  pythonChecked = true;
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
  for (const tool of tools) {
    writeFileSync(
      join(bin, tool),
      `#!${BASH}\nSTUB_TOOL=${tool} PYTHONPATH='${JMESPATH_HOME}' exec '${PYTHON}' -S '${join(PROJECT_ROOT, 'test/support/cli_stub.py')}' "$@"\n`,
    );
    chmodSync(join(bin, tool), 0o755);
  }
  for (const { tool, path } of SYSTEM_TOOLS) symlinkSync(path, join(bin, tool));
  symlinkSync(PYTHON, join(bin, 'python3'));
  const offline = offlineKubectl(join(dir, '.kube'));
  return {
    dir,
    bin,
    kubectlEnv: { STUB_KUBECTL: offline.kubectl, STUB_KUBECTL_FLAGS: JSON.stringify(offline.flags) },
  };
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
  options: { tools?: string[]; env?: Record<string, string>; cwd?: (dir: string) => string } = {},
): Promise<Run> {
  const { dir, bin, kubectlEnv } = sandbox(options.tools ?? ALL_TOOLS);
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
    ...kubectlEnv,
    ...options.env,
  };
  const cwd = options.cwd?.(dir) ?? dir;
  const result = await runFile(BASH, [join(dir, script), ...args], { cwd, env }).then(
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
const optionOf = (call: Call | undefined, name: string): string | undefined =>
  call === undefined || !call.args.includes(name) ? undefined : call.args[call.args.indexOf(name) + 1];
const invocations = (calls: Call[]): Call[] => calls.filter((call) => names([call])[0] === 'aws lambda invoke');

describe('deploy.sh', () => {
  it('checks, builds, deploys with an access entry, applies RBAC and invokes, in that order', async () => {
    const run = await runScript('deploy.sh', ['demo'], { cluster: cluster('API_AND_CONFIG_MAP') });

    expect(run.code).toBe(0);
    expect(names(run.calls)).toEqual([
      'aws sts get-caller-identity',
      'aws eks describe-cluster',
      'aws cloudformation describe-stacks',
      'build-handler.sh',
      'sam deploy --template-file',
      'aws cloudformation describe-stacks',
      'aws cloudformation describe-stacks',
      'aws eks update-kubeconfig',
      'kubectl auth can-i',
      'kubectl apply -n',
      'kubectl get -n',
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
    const overrides = deploy.slice(deploy.indexOf('--parameter-overrides') + 1);
    expect(overrides.sort()).toEqual([
      'ClusterCaData=LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==',
      'ClusterEndpoint=https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com',
      'ClusterName=demo',
      'CreateAccessEntry=true',
      'Grants=create',
      'KubernetesGroup=lambda-deployers',
      'Namespace=default',
    ]);
    expect(find(run.calls, 'kubectl apply')?.args).toEqual([
      '--kubeconfig',
      expect.stringMatching(/kubeconfig$/),
      'apply',
      '-n',
      'default',
      '-f',
      'permissions.yml',
      '-l',
      'lambda-eks/grant=create',
    ]);
    const invoke = find(run.calls, 'aws lambda invoke');
    expect(optionOf(invoke, '--payload')).toMatch(/^fileb:\/\/.*event\.json$/);
    expect(optionOf(invoke, '--cli-read-timeout')).toBe('0');
    expect(JSON.parse(run.stdout)).toEqual(CREATED);
  });

  it('passes the template a parameter for every override it sends, and every one it sends is declared', async () => {
    const run = await runScript('deploy.sh', ['demo', '--no-invoke'], {
      cluster: cluster('API', { endpointPublicAccess: false, endpointPrivateAccess: true }),
    });

    const deploy = find(run.calls, 'sam deploy')?.args ?? [];
    const sent = deploy.slice(deploy.indexOf('--parameter-overrides') + 1).map((arg) => arg.split('=')[0]);
    // ListPageSize is a tuning setting deploy.sh leaves alone, and ManifestBucket it sends only when given: sam deploy
    // keeps the value a stack already has for a parameter it is not given, so a user's own setting survives a redeploy.
    expect(Object.keys(at(readTemplate(), 'Parameters') ?? {}).sort()).toEqual(
      [...sent, 'ListPageSize', 'ManifestBucket'].sort(),
    );
  });

  it('passes --manifest-bucket as ManifestBucket, and refuses a name S3 would refuse', async () => {
    const run = await runScript('deploy.sh', ['demo', '--no-invoke', '--manifest-bucket', 'team-manifests'], {
      cluster: cluster('API'),
    });
    const refused = await runScript('deploy.sh', ['demo', '--manifest-bucket', 'Team_Manifests'], {
      cluster: cluster('API'),
    });

    const deploy = find(run.calls, 'sam deploy')?.args ?? [];
    expect(deploy.slice(deploy.indexOf('--parameter-overrides') + 1)).toContain('ManifestBucket=team-manifests');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("invalid --manifest-bucket 'Team_Manifests'");
    expect(refused.calls).toEqual([]);
  });

  it('uses the region it is given for every AWS CLI call, over AWS_REGION', async () => {
    const run = await runScript(
      'deploy.sh',
      ['demo', '--region', 'eu-west-1', '--stack-name', 'my-stack', '--namespace', 'team-a'],
      { cluster: cluster('API') },
    );

    expect(run.code).toBe(0);
    const awsCalls = run.calls.filter((call) => call.tool === 'aws' || call.tool === 'sam');
    expect(awsCalls.length).toBeGreaterThanOrEqual(7);
    for (const call of awsCalls)
      expect([names([call])[0], optionOf(call, '--region')]).toEqual([names([call])[0], 'eu-west-1']);
    expect(find(run.calls, 'sam deploy')?.args).toEqual(
      expect.arrayContaining(['--stack-name', 'my-stack', 'Namespace=team-a']),
    );
    expect(optionOf(find(run.calls, 'kubectl apply'), '-n')).toBe('team-a');
  });

  it('does not invoke with --no-invoke and says how to', async () => {
    const run = await runScript('deploy.sh', ['demo', '--no-invoke'], { cluster: cluster('API') });

    expect(run.code).toBe(0);
    expect(invocations(run.calls)).toEqual([]);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      'aws lambda invoke --function-name lambda-eks-demo-DeployerFunction-XYZ --region us-west-2',
    );
  });

  describe('--grant', () => {
    it('applies exactly the grants it is given, in their canonical order, and passes them to the stack', async () => {
      const run = await runScript('deploy.sh', ['demo', '--grant', 'delete,create,observe,create'], {
        cluster: cluster('API'),
      });

      expect(run.code).toBe(0);
      expect(optionOf(find(run.calls, 'kubectl apply'), '-l')).toBe('lambda-eks/grant in (create,observe,delete)');
      expect(find(run.calls, 'sam deploy')?.args).toContain('Grants=create,observe,delete');
      // What the real kubectl selected from permissions.yml with that selector:
      const applied = run.stderr.match(/^\S+\.rbac\.authorization\.k8s\.io\/\S+ created$/gm) ?? [];
      expect(applied.sort()).toEqual(
        ['create', 'delete', 'observe']
          .flatMap((grant) => [
            `role.rbac.authorization.k8s.io/lambda-eks-${grant} created`,
            `rolebinding.rbac.authorization.k8s.io/lambda-eks-${grant} created`,
          ])
          .sort(),
      );
    });

    it('selects one grant with an equality selector, and skips the create test invocation without create', async () => {
      const run = await runScript('deploy.sh', ['demo', '--grant', 'apply'], { cluster: cluster('API') });

      expect(run.code).toBe(0);
      expect(optionOf(find(run.calls, 'kubectl apply'), '-l')).toBe('lambda-eks/grant=apply');
      expect(run.stderr).toContain('role.rbac.authorization.k8s.io/lambda-eks-apply created');
      expect(run.stderr).not.toContain('lambda-eks-create created');
      expect(invocations(run.calls)).toEqual([]);
      expect(run.stderr).toMatch(/not invoked: .*needs the create grant/);
    });

    it.each([
      [['--grant', 'create,bogus'], /--grant: unknown grant 'bogus' \(choose from create,apply,observe,delete\)/],
      [['--grant', 'create,,apply'], /--grant: unknown grant ''/],
      [['--grant', '*'], /--grant: unknown grant '\*'/],
      [['--namespace', 'Bad_NS'], /invalid --namespace 'Bad_NS': a namespace name has lower-case letters/],
      [['--namespace', `a${'b'.repeat(63)}`], /invalid --namespace 'ab+': .*at most 63 characters/],
    ])('refuses %j naming the bad item, before any call', async (args, message) => {
      const run = await runScript('deploy.sh', ['demo', ...args], { cluster: cluster('API') });

      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toMatch(/^usage: /m);
      expect(run.calls).toEqual([]);
    });

    it('prints the same kubectl command as the stack output GrantCommand when it cannot apply', async () => {
      const run = await runScript('deploy.sh', ['demo', '--grant', 'create,apply', '--namespace', 'team-a'], {
        cluster: cluster('API'),
        canCreateRoles: false,
      });

      const output = at(readTemplate(), 'Outputs', 'GrantCommand', 'Value', 'Fn::Sub');
      expect(Array.isArray(output)).toBe(true);
      const [text, variables] = Array.isArray(output) ? output : [];
      const join = at(variables, 'List', 'Fn::Join');
      expect(join).toEqual([',', { Ref: 'Grants' }]);
      const command = String(text).replace('${Namespace}', 'team-a').replace('${List}', ['create', 'apply'].join(','));
      expect(command).toBe("kubectl apply -n team-a -f permissions.yml -l 'lambda-eks/grant in (create,apply)'");
      expect(run.stderr).toContain(`    ${command}\n`);
    });
  });

  describe('--grant-manifest', () => {
    const manifestIn = (dir: string): string => {
      writeFileSync(join(dir, 'app.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n');
      return dir;
    };

    it("applies the grants npm run grants makes for the set, bound to the function's group", async () => {
      const run = await runScript(
        'deploy.sh',
        ['demo', '--namespace', 'team-a', '--grant-manifest', 'app.yaml', '--set', 'web', '--no-invoke'],
        { cluster: cluster('API') },
        { cwd: manifestIn },
      );

      expect(run.code).toBe(0);
      const grants = find(run.calls, 'npm run');
      expect(grants?.args.slice(0, 4)).toEqual(['run', '--silent', 'grants', '--']);
      expect(grants?.args[4]).toMatch(/^\/.*\/app\.yaml$/);
      expect(optionOf(grants, '--set')).toBe('web');
      expect(optionOf(grants, '--namespace')).toBe('team-a');
      expect(optionOf(grants, '--group')).toBe('lambda-deployers');
      expect(optionOf(grants, '--kubeconfig')).toEqual(expect.any(String));
      const applies = run.calls.filter((call) => names([call])[0]?.startsWith('kubectl apply'));
      expect(applies.map((call) => optionOf(call, '-l') ?? 'set grants')).toEqual([
        'lambda-eks/grant=create',
        'set grants',
      ]);
      expect(run.stderr).toContain('role.rbac.authorization.k8s.io/lambda-eks-set-web created');
      expect(run.stderr).toContain('warning: Deployment "web" in namespace "default" may run pods');
    });

    it('takes the set namespace from --set-namespace', async () => {
      const run = await runScript(
        'deploy.sh',
        ['demo', '--grant-manifest', 'app.yaml', '--set', 'web', '--set-namespace', 'apps', '--no-invoke'],
        { cluster: cluster('API') },
        { cwd: manifestIn },
      );

      expect(run.code).toBe(0);
      expect(optionOf(find(run.calls, 'npm run'), '--namespace')).toBe('apps');
    });

    it('prints the npm run grants command for a cluster admin when it may not apply them', async () => {
      const run = await runScript(
        'deploy.sh',
        ['demo', '--grant-manifest', 'app.yaml', '--set', 'web', '--no-invoke'],
        { cluster: cluster('API'), applyFails: true },
        { cwd: manifestIn },
      );

      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(
        /^ {4}npm run --silent grants -- \/\S+\/app\.yaml --set web --namespace default --group lambda-deployers \| kubectl apply -f -$/m,
      );
    });

    it('stops, saying what npm run grants said, when it cannot make the grants', async () => {
      const run = await runScript(
        'deploy.sh',
        ['demo', '--grant-manifest', 'app.yaml', '--set', 'web'],
        { cluster: cluster('API'), grantsFail: true },
        { cwd: manifestIn },
      );

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('does not serve kind Widget');
      expect(run.stderr).toContain('npm run grants failed');
      expect(invocations(run.calls)).toEqual([]);
    });

    it.each([
      [['--set', 'web'], '--set and --set-namespace go with --grant-manifest FILE'],
      [['--grant-manifest', 'app.yaml'], '--grant-manifest needs --set'],
      [['--grant-manifest', 'missing.yaml', '--set', 'web'], "--grant-manifest: cannot read file 'missing.yaml'"],
      [['--grant-manifest', 'app.yaml', '--set', 'Web'], "invalid --set 'Web'"],
    ])('refuses %j before doing anything', async (args, said) => {
      const run = await runScript('deploy.sh', ['demo', ...args], { cluster: cluster('API') }, { cwd: manifestIn });

      expect(run.code).toBe(2);
      expect(run.stderr).toContain(said);
      expect(run.calls).toEqual([]);
    });
  });

  describe('cluster access and RBAC that an admin must finish', () => {
    it('maps the role in aws-auth with eksctl on a CONFIG_MAP cluster and skips the access entry', async () => {
      const run = await runScript('deploy.sh', ['demo'], { cluster: cluster('CONFIG_MAP') });

      expect(run.code).toBe(0);
      expect(find(run.calls, 'sam deploy')?.args).toContain('CreateAccessEntry=false');
      expect(find(run.calls, 'eksctl create iamidentitymapping')?.args).toEqual(
        expect.arrayContaining(['--cluster', 'demo', '--arn', ROLE_ARN, '--group', 'lambda-deployers']),
      );
      expect(invocations(run.calls)).toHaveLength(1);
    });

    it('treats a cluster without accessConfig as CONFIG_MAP and does not map an already mapped role twice', async () => {
      const run = await runScript('deploy.sh', ['demo'], { cluster: cluster(null), mapped: true });

      expect(run.code).toBe(0);
      expect(find(run.calls, 'sam deploy')?.args).toContain('CreateAccessEntry=false');
      expect(find(run.calls, 'eksctl get iamidentitymapping')).toBeDefined();
      expect(find(run.calls, 'eksctl create iamidentitymapping')).toBeUndefined();
    });

    const EKSCTL = `eksctl create iamidentitymapping --cluster demo --region us-west-2 --arn ${ROLE_ARN} --group lambda-deployers --username lambda-eks`;
    const KUBECTL = "kubectl apply -n default -f permissions.yml -l 'lambda-eks/grant=create'";
    it.each([
      ['eksctl is not installed', { cluster: cluster('CONFIG_MAP') }, ['aws', 'sam', 'kubectl'], [EKSCTL]],
      ['eksctl cannot update aws-auth', { cluster: cluster('CONFIG_MAP'), mappingFails: true }, ALL_TOOLS, [EKSCTL]],
      ['kubectl is not installed', { cluster: cluster('API') }, ['aws', 'sam'], [KUBECTL]],
      [
        'neither eksctl nor kubectl is installed',
        { cluster: cluster('CONFIG_MAP') },
        ['aws', 'sam'],
        [EKSCTL, KUBECTL],
      ],
      ['the caller may not create Roles', { cluster: cluster('API'), canCreateRoles: false }, ALL_TOOLS, [KUBECTL]],
      ['kubectl apply is refused', { cluster: cluster('API'), applyFails: true }, ALL_TOOLS, [KUBECTL]],
      ['no kubeconfig can be written', { cluster: cluster('API'), kubeconfigFails: true }, ALL_TOOLS, [KUBECTL]],
    ])(
      'prints what an admin must run, exits 3 and does not invoke when %s',
      async (_label, scenario, tools, commands) => {
        const run = await runScript('deploy.sh', ['demo'], scenario, { tools });

        expect(run.code).toBe(EXIT_NEEDS_ADMIN);
        expect(invocations(run.calls)).toEqual([]);
        const printed = run.stderr.slice(run.stderr.indexOf('a cluster admin runs'));
        expect(printed.match(/^ {4}(eksctl|kubectl) .*$/gm)).toEqual(commands.map((command) => `    ${command}`));
        expect(run.stdout).toBe('');
      },
    );

    it('notes the Role of earlier versions, which keeps granting create, and how to remove it', async () => {
      const run = await runScript('deploy.sh', ['demo', '--grant', 'apply'], {
        cluster: cluster('API'),
        roles: ['lambda-eks-deployer'],
      });

      expect(run.code).toBe(0);
      expect(run.stderr).toContain('kubectl delete -n default role,rolebinding lambda-eks-deployer');
    });
  });

  describe('endpoint access', () => {
    const deployArgs = async (vpc: Record<string, unknown>) => {
      const run = await runScript('deploy.sh', ['demo', '--no-invoke'], { cluster: cluster('API', vpc) });
      return { run, args: find(run.calls, 'sam deploy')?.args ?? [] };
    };
    const IN_VPC = [
      'SubnetIds=subnet-0aaa,subnet-0bbb',
      'VpcId=vpc-0a1b2c3d4e5f60718',
      'ClusterSecurityGroupId=sg-0123456789abcdef0',
      'S3PrefixListId=pl-63a5400a',
    ];

    it('runs the function in the cluster VPC when the endpoint is private', async () => {
      const { run, args } = await deployArgs({ endpointPublicAccess: false, endpointPrivateAccess: true });
      expect(run.code).toBe(0);
      expect(args).toEqual(expect.arrayContaining(IN_VPC));
    });

    it('runs the function in the cluster VPC when the public endpoint is restricted and private access is on', async () => {
      const { run, args } = await deployArgs({
        endpointPrivateAccess: true,
        publicAccessCidrs: ['203.0.113.0/24', '198.51.100.7/32'],
      });
      expect(run.code).toBe(0);
      expect(args).toEqual(expect.arrayContaining(IN_VPC));
      expect(run.stderr).toContain('accepts only 203.0.113.0/24,198.51.100.7/32');
    });

    it.each([
      ['public and open to all', { publicAccessCidrs: ['0.0.0.0/0'] }],
      [
        'public, open to all and private',
        { endpointPrivateAccess: true, publicAccessCidrs: ['10.0.0.0/8', '0.0.0.0/0'] },
      ],
    ])('runs the function outside a VPC when the endpoint is %s', async (_label, vpc) => {
      const { run, args } = await deployArgs(vpc);
      expect(run.code).toBe(0);
      expect(args.filter((arg) => /^(SubnetIds|VpcId|ClusterSecurityGroupId|S3PrefixListId)=/.test(arg))).toEqual([]);
    });

    it('still deploys into the VPC, saying custom resources cannot answer, when the S3 prefix list cannot be read', async () => {
      const run = await runScript('deploy.sh', ['demo', '--no-invoke'], {
        cluster: cluster('API', { endpointPublicAccess: false, endpointPrivateAccess: true }),
        prefixListsFail: true,
      });
      const args = find(run.calls, 'sam deploy')?.args ?? [];
      expect(run.code).toBe(0);
      expect(args).toEqual(expect.arrayContaining(IN_VPC.slice(0, 3)));
      expect(args.filter((arg) => arg.startsWith('S3PrefixListId='))).toEqual([]);
      expect(run.stderr).toMatch(
        /could not find the S3 prefix list of us-west-2 .*UnauthorizedOperation.*cannot answer/s,
      );
    });

    describe('subnets', () => {
      const PRIVATE = { endpointPublicAccess: false, endpointPrivateAccess: true };
      const inSubnets = (run: Run) =>
        (find(run.calls, 'sam deploy')?.args ?? []).filter((arg) => arg.startsWith('SubnetIds='));

      it('places the function only in subnets without public IPs whose route table reaches S3', async () => {
        const run = await runScript('deploy.sh', ['demo', '--no-invoke'], {
          cluster: cluster('API', {
            ...PRIVATE,
            subnetIds: ['subnet-0aaa', 'subnet-0bbb', 'subnet-0ccc', 'subnet-0ddd', 'subnet-0eee'],
          }),
          subnets: [
            subnet('subnet-0aaa', false),
            subnet('subnet-0bbb', true),
            subnet('subnet-0ccc', false),
            subnet('subnet-0ddd', false),
            subnet('subnet-0eee', false),
          ],
          routeTables: [
            // subnet-0ccc has no association of its own: the main route table, with the S3 gateway endpoint, is its.
            routeTable('rtb-0main', [ROUTES.s3Endpoint], 'main'),
            routeTable('rtb-0private', [ROUTES.nat], ['subnet-0aaa']),
            routeTable('rtb-0public', [ROUTES.internet], ['subnet-0bbb', 'subnet-0eee']),
            routeTable('rtb-0stale', [ROUTES.natGone], ['subnet-0ddd']),
          ],
        });

        expect(run.code).toBe(0);
        expect(inSubnets(run)).toEqual(['SubnetIds=subnet-0aaa,subnet-0ccc']);
        expect(optionOf(find(run.calls, 'aws ec2 describe-route-tables'), '--filters')).toBe(
          `Name=vpc-id,Values=${VPC_ID}`,
        );
        expect(run.stderr).toMatch(/subnet-0bbb \(gives public IPs\)/);
        expect(run.stderr).toMatch(/subnet-0ddd \(rtb-0stale: no route to a NAT gateway or an S3 gateway endpoint\)/);
        expect(run.stderr).toMatch(/subnet-0eee \(rtb-0public: no route to a NAT gateway or an S3 gateway endpoint\)/);
        expect(run.stderr).not.toContain('warning');
      });

      it('warns, naming the subnets, and uses them all when none reaches S3 without public IPs', async () => {
        const run = await runScript('deploy.sh', ['demo', '--no-invoke'], {
          cluster: cluster('API', PRIVATE),
          subnets: [subnet('subnet-0aaa', true), subnet('subnet-0bbb', false)],
          routeTables: [routeTable('rtb-0public', [ROUTES.internet], 'main')],
        });

        expect(run.code).toBe(0);
        expect(inSubnets(run)).toEqual(['SubnetIds=subnet-0aaa,subnet-0bbb']);
        expect(run.stderr).toMatch(
          /deploy\.sh: warning: none of the cluster's subnets both gives no public IPs and reaches S3 .*subnet-0aaa \(gives public IPs\).*subnet-0bbb \(rtb-0public: no route to a NAT gateway or an S3 gateway endpoint\)/s,
        );
        expect(run.stderr).toMatch(/will not be able to answer CloudFormation custom resources/);
      });

      it('warns and uses all the cluster subnets when the route tables cannot be read', async () => {
        const run = await runScript('deploy.sh', ['demo', '--no-invoke'], {
          cluster: cluster('API', PRIVATE),
          routeTablesFail: true,
        });

        expect(run.code).toBe(0);
        expect(inSubnets(run)).toEqual(['SubnetIds=subnet-0aaa,subnet-0bbb']);
        expect(run.stderr).toMatch(
          /deploy\.sh: warning: cannot read the route tables of vpc-0a1b2c3d4e5f60718 \(.*UnauthorizedOperation.*\)/,
        );
        expect(run.stderr).toContain('ec2:DescribeRouteTables');
      });
    });

    it('stops before building when the public endpoint is restricted and private access is off', async () => {
      const { run } = await deployArgs({ endpointPrivateAccess: false, publicAccessCidrs: ['203.0.113.0/24'] });

      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /accepts public API traffic only from 203\.0\.113\.0\/24 and its private endpoint is off/,
      );
      expect(run.stderr).toMatch(/NAT gateway's Elastic IP is in publicAccessCidrs/);
      expect(run.stderr).toContain('endpointPrivateAccess=true');
      expect(names(run.calls)).not.toContain('build-handler.sh');
      expect(find(run.calls, 'sam deploy')).toBeUndefined();
    });
  });

  describe('stack names', () => {
    it('makes a valid default stack name from a cluster name with underscores, the one the example imports from', async () => {
      const run = await runScript('deploy.sh', ['my_cluster', '--no-invoke'], {
        cluster: cluster('API', {}, { name: 'my_cluster' }),
      });

      expect(run.code).toBe(0);
      const deploy = find(run.calls, 'sam deploy');
      expect(optionOf(deploy, '--stack-name')).toBe('lambda-eks-my-cluster');
      expect(deploy?.args).toContain('ClusterName=my_cluster');
      const example = readTemplate(join(PROJECT_ROOT, 'examples/custom-resource.yml'));
      expect(at(example, 'Parameters', 'FunctionStackName', 'Default')).toBe('lambda-eks-my-cluster');
    });

    it.each([
      ['my.cluster', "letters, digits, '-' and '_'"],
      ['my cluster', "letters, digits, '-' and '_'"],
      ['_demo', 'starts with a letter or digit'],
      [`c${'x'.repeat(100)}`, 'at most 100 characters'],
    ])('refuses cluster name %s as a usage error about the cluster name, before any call', async (name, reason) => {
      const run = await runScript('deploy.sh', [name], { cluster: cluster('API') });

      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`invalid cluster name '${name}'`);
      expect(run.stderr).toContain(reason);
      expect(run.stderr).not.toContain('stack name');
      expect(run.stderr).toMatch(/^usage: /m);
      expect(run.calls).toEqual([]);
    });

    it('accepts a 100-character cluster name that starts with a digit', async () => {
      const name = `1${'x'.repeat(99)}`;
      const run = await runScript('deploy.sh', [name, '--no-invoke'], { cluster: cluster('API', {}, { name }) });

      expect(run.code).toBe(0);
      expect(optionOf(find(run.calls, 'sam deploy'), '--stack-name')).toBe(`lambda-eks-${name}`);
    });

    it.each([
      ['my_stack', 'letters, digits and'],
      ['1stack', 'starts with a letter'],
      [`s${'x'.repeat(128)}`, 'at most 128 characters'],
    ])('refuses --stack-name %s with a clear message, before any call', async (name, reason) => {
      const run = await runScript('deploy.sh', ['demo', '--stack-name', name], { cluster: cluster('API') });

      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`invalid --stack-name '${name}'`);
      expect(run.stderr).toContain(reason);
      expect(run.calls).toEqual([]);
    });

    it('accepts a 128-character stack name', async () => {
      const name = `s${'x'.repeat(127)}`;
      const run = await runScript('deploy.sh', ['demo', '--stack-name', name, '--no-invoke'], {
        cluster: cluster('API'),
      });
      expect(run.code).toBe(0);
      expect(optionOf(find(run.calls, 'sam deploy'), '--stack-name')).toBe(name);
    });
  });

  describe('a stack that cannot be updated', () => {
    it('says to sam delete a stack left in ROLLBACK_COMPLETE by a failed first create, before building', async () => {
      const run = await runScript('deploy.sh', ['demo'], { cluster: cluster('API'), stackStatus: 'ROLLBACK_COMPLETE' });

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('stack lambda-eks-demo is in ROLLBACK_COMPLETE');
      expect(run.stderr).toContain('sam delete --stack-name lambda-eks-demo --region us-west-2');
      expect(find(run.calls, 'sam deploy')).toBeUndefined();
      expect(names(run.calls)).not.toContain('build-handler.sh');
    });

    it('says to sam delete the stack when its first create fails now', async () => {
      const run = await runScript('deploy.sh', ['demo'], { cluster: cluster('API'), samDeployFails: true });

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('the new stack rolled back');
      expect(run.stderr).toContain('sam delete --stack-name lambda-eks-demo --region us-west-2');
      expect(invocations(run.calls)).toEqual([]);
    });

    it('does not say to delete a stack whose update failed and rolled back', async () => {
      const run = await runScript('deploy.sh', ['demo'], {
        cluster: cluster('API'),
        stackStatus: 'UPDATE_COMPLETE',
        samDeployFails: true,
      });

      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/sam deploy failed; see the CloudFormation events/);
      expect(run.stderr).not.toContain('sam delete');
    });

    it('deploys a stack in REVIEW_IN_PROGRESS (a change set never executed), as sam deploy does', async () => {
      const run = await runScript('deploy.sh', ['demo'], {
        cluster: cluster('API'),
        stackStatus: 'REVIEW_IN_PROGRESS',
      });

      expect(run.code).toBe(0);
      expect(run.stderr).not.toContain('wait until it finishes');
      expect(find(run.calls, 'sam deploy')).toBeDefined();
      expect(JSON.parse(run.stdout)).toEqual(CREATED);
    });

    it('says to sam delete a REVIEW_IN_PROGRESS stack whose first create now fails', async () => {
      const run = await runScript('deploy.sh', ['demo'], {
        cluster: cluster('API'),
        stackStatus: 'REVIEW_IN_PROGRESS',
        samDeployFails: true,
      });

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('the new stack rolled back');
      expect(run.stderr).toContain('sam delete --stack-name lambda-eks-demo --region us-west-2');
    });

    it('waits for nothing and stops when the stack is being updated', async () => {
      const run = await runScript('deploy.sh', ['demo'], {
        cluster: cluster('API'),
        stackStatus: 'UPDATE_IN_PROGRESS',
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('stack lambda-eks-demo is UPDATE_IN_PROGRESS; wait until it finishes');
      expect(find(run.calls, 'sam deploy')).toBeUndefined();
    });
  });

  describe('the test invocation', () => {
    it('retries while the access entry propagates', async () => {
      const run = await runScript('deploy.sh', ['demo'], {
        cluster: cluster('API'),
        invokeResults: [NOT_MAPPED, NOT_MAPPED, CREATED],
      });

      expect(run.code).toBe(0);
      expect(invocations(run.calls)).toHaveLength(3);
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
      expect(run.stdout).toBe('');
    });

    it('does not retry a 403 that RBAC does not explain (KubernetesApiError)', async () => {
      const run = await runScript('deploy.sh', ['demo'], {
        cluster: cluster('API'),
        invokeResults: [QUOTA_EXCEEDED, CREATED],
      });

      expect(run.code).toBe(1);
      expect(invocations(run.calls)).toHaveLength(1);
      expect(run.stderr).toContain('exceeded quota');
    });
  });

  describe('usage', () => {
    it('prints every option with its default and every environment variable it reads with --help', async () => {
      const run = await runScript('deploy.sh', ['--help'], {});

      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.calls).toEqual([]);
      const source = readFileSync(join(PROJECT_ROOT, 'deploy.sh'), 'utf8');
      const options = [...source.matchAll(/^\s*((?:-[-a-z]+)(?:\s*\|\s*-[-a-z]+)*)\)/gm)].flatMap((match) =>
        (match[1] ?? '').split('|').map((option) => option.trim()),
      );
      expect(options).toEqual(
        expect.arrayContaining(['--region', '--stack-name', '--namespace', '--grant', '--no-invoke', '--help']),
      );
      for (const option of options) expect(run.stdout).toMatch(new RegExp(`^ +(-h, )?${option}\\b`, 'm'));
      for (const option of ['--region', '--stack-name', '--namespace', '--grant', '--no-invoke']) {
        expect(run.stdout).toMatch(new RegExp(`^ +${option}\\b.*\\(default: `, 'm'));
      }
      const assigned = new Set([...source.matchAll(/^(?:readonly |local )?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
      const read = new Set(
        [...source.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)]
          .map((match) => match[1] ?? '')
          .filter((name) => !assigned.has(name) && name !== 'SECONDS'),
      );
      expect([...read].sort()).toEqual(
        expect.arrayContaining(['AWS_DEFAULT_REGION', 'AWS_REGION', 'LAMBDA_EKS_INVOKE_WAIT_SECONDS']),
      );
      for (const variable of read) expect(run.stdout).toContain(variable);
    });

    it.each([
      [[], /deploy.sh: no cluster name/],
      [['demo', '--region'], /deploy.sh: --region needs a value/],
      [['demo', '--stack-name', '--no-invoke'], /deploy.sh: --stack-name needs a value/],
      [['demo', '--namespace', ''], /deploy.sh: --namespace needs a value/],
      [['demo', '--grant'], /deploy.sh: --grant needs a value/],
      [['demo', 'other'], /deploy.sh: unexpected argument 'other' \(the cluster name is already 'demo'\)/],
      [['demo', '--frobnicate'], /deploy.sh: unknown option --frobnicate/],
    ])('says what is wrong with %j on stderr, with the usage, and exits 2', async (args, message) => {
      const run = await runScript('deploy.sh', args, {});

      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toMatch(/^usage: .*deploy.sh <cluster-name>/m);
      expect(run.stdout).toBe('');
      expect(run.calls).toEqual([]);
    });
  });

  it('reports every missing tool at once', async () => {
    const run = await runScript('deploy.sh', ['demo'], { cluster: cluster('API') }, { tools: ['kubectl'] });

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /missing tools.*\n {2}aws \(the AWS CLI\): https:\/\/\S+\n {2}sam \(the AWS SAM CLI\): https:\/\/\S+/,
    );
    expect(run.calls).toEqual([]);
  });

  describe('a failing aws sts get-caller-identity', () => {
    it.each([
      ['EndpointConnectionError', 'Could not connect to the endpoint URL: "https://sts.us-west-2.amazonaws.com/"'],
      ['ConnectTimeoutError', 'Connect timeout on endpoint URL: "https://sts.us-west-2.amazonaws.com/"'],
      ['ProxyConnectionError', 'Failed to connect to proxy URL: "http://proxy.example.com:3128"'],
      ['SSLError', 'SSL validation failed for https://sts.us-west-2.amazonaws.com/ [SSL: CERTIFICATE_VERIFY_FAILED]'],
    ])('reports %s as a network problem, not as bad credentials', async (error, said) => {
      const run = await runScript('deploy.sh', ['demo'], { cluster: cluster('API'), stsError: error });

      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`deploy.sh: error: cannot reach AWS STS in us-west-2 (${said}`);
      expect(run.stderr).toMatch(/check your network connection and proxy/);
      expect(run.stderr).not.toMatch(/credentials/i);
      expect(names(run.calls)).toEqual(['aws sts get-caller-identity']);
    });

    it.each([
      ['ExpiredToken', 'An error occurred (ExpiredToken) when calling the GetCallerIdentity operation'],
      ['InvalidClientTokenId', 'An error occurred (InvalidClientTokenId)'],
      ['SignatureDoesNotMatch', 'An error occurred (SignatureDoesNotMatch)'],
      ['AccessDenied', 'An error occurred (AccessDenied) when calling the AssumeRole operation'],
    ])('reports %s as credentials that do not work', async (error, said) => {
      const run = await runScript('deploy.sh', ['demo'], { cluster: cluster('API'), stsError: error });

      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`deploy.sh: error: AWS credentials do not work (${said}`);
      expect(run.stderr).toMatch(/configure them \(aws configure, AWS_PROFILE or SSO login/);
      expect(run.stderr).not.toMatch(/network|proxy/);
      expect(names(run.calls)).toEqual(['aws sts get-caller-identity']);
    });
  });

  it.each([
    ['sam is missing', { cluster: cluster('API') }, ['aws', 'kubectl'], /missing tools.*\n.*sam \(the AWS SAM CLI\)/],
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
      { cluster: cluster('API', {}, { status: 'CREATING' }) },
      undefined,
      /CREATING, not ACTIVE/,
    ],
    ['sam deploy fails', { cluster: cluster('API'), samDeployFails: true }, undefined, /sam deploy failed/],
  ])('fails with a clear message and before invoking when %s', async (_label, scenario, tools, message) => {
    const run = await runScript('deploy.sh', ['demo'], scenario, tools ? { tools } : {});

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(invocations(run.calls)).toEqual([]);
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
    expect(names(run.calls)).toEqual(['docker info', 'build-handler.sh', 'sam local invoke']);
    expect(run.calls[2]?.args).toEqual([
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

  it('passes no region when AWS_REGION is not set', async () => {
    const run = await runScript(
      'local.sh',
      [],
      {},
      { env: { LAMBDA_EKS_ENV_VARS: 'events/env.example.json', AWS_REGION: '' } },
    );

    expect(run.code).toBe(0);
    expect(find(run.calls, 'sam local invoke')?.args).toEqual([
      'local',
      'invoke',
      'DeployerFunction',
      '--template-file',
      'template.yml',
      '--event',
      'events/default.json',
      '--env-vars',
      'events/env.example.json',
    ]);
  });

  it('explains how to make events/env.json when it is missing', async () => {
    const run = await runScript('local.sh', [], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('copy events/env.example.json to events/env.json');
  });

  it('names the missing event file, and the sample events (not the env-vars files)', async () => {
    const run = await runScript('local.sh', ['events/nope.json'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no event file events/nope.json (samples: events/apply-dry-run.json, ');
    expect(run.stderr).toContain('events/get.json');
    expect(run.stderr).not.toContain('env.example.json');
  });

  it('reads the event and env-vars files relative to where it is run, not to the project', async () => {
    const run = await runScript(
      'local.sh',
      ['mine.json'],
      {},
      {
        env: { LAMBDA_EKS_ENV_VARS: 'env.json' },
        cwd: (dir) => {
          const elsewhere = join(dir, 'elsewhere');
          mkdirSync(elsewhere);
          writeFileSync(join(elsewhere, 'mine.json'), '{"action":"get"}');
          writeFileSync(join(elsewhere, 'env.json'), '{"DeployerFunction":{"CLUSTER_NAME":"demo"}}');
          return elsewhere;
        },
      },
    );

    expect(run.code).toBe(0);
    const invoke = find(run.calls, 'sam local invoke');
    expect(optionOf(invoke, '--event')).toMatch(/\/elsewhere\/mine\.json$/);
    expect(optionOf(invoke, '--env-vars')).toMatch(/\/elsewhere\/env\.json$/);
  });

  it('says to start Docker, before building, when its daemon does not answer', async () => {
    const run = await runScript(
      'local.sh',
      [],
      { docker: 'stopped' },
      { env: { LAMBDA_EKS_ENV_VARS: 'events/env.example.json' } },
    );

    expect(run.code).toBe(1);
    expect(names(run.calls)).toEqual(['docker info']);
    expect(run.stderr).toContain(
      'local.sh: error: Docker does not answer (Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?)',
    );
    expect(run.stderr).toMatch(/start Docker Desktop .* or the docker service .*DOCKER_HOST/s);
  });

  it('gives up on a docker info that does not answer within LAMBDA_EKS_DOCKER_WAIT_SECONDS', async () => {
    const started = Date.now();
    const run = await runScript(
      'local.sh',
      [],
      { docker: 'hangs' },
      { env: { LAMBDA_EKS_ENV_VARS: 'events/env.example.json', LAMBDA_EKS_DOCKER_WAIT_SECONDS: '1' } },
    );

    expect(run.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(names(run.calls)).toEqual(['docker info']);
    expect(run.stderr).toContain('local.sh: error: Docker did not answer docker info within 1 s');
    expect(run.stderr).toMatch(/start Docker Desktop .* or the docker service .*DOCKER_HOST/s);
  });

  it('reports sam and docker missing at once', async () => {
    const run = await runScript(
      'local.sh',
      [],
      {},
      { tools: [], env: { LAMBDA_EKS_ENV_VARS: 'events/env.example.json' } },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/missing tools.*\n {2}sam .*\n {2}docker /);
    expect(run.calls).toEqual([]);
  });

  it('prints its usage, arguments and environment variables with --help', async () => {
    const run = await runScript('local.sh', ['--help'], {});

    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^usage: .*local.sh \[event-file\]/m);
    for (const text of [
      'events/default.json',
      'LAMBDA_EKS_ENV_VARS',
      'LAMBDA_EKS_DOCKER_WAIT_SECONDS',
      'events/env.json',
      'AWS_REGION',
      '--help',
    ]) {
      expect(run.stdout).toContain(text);
    }
    expect(run.calls).toEqual([]);
  });

  it.each([[['a.json', 'b.json']], [['--bogus']]])('exits 2 with the usage on stderr for %j', async (args) => {
    const run = await runScript('local.sh', args, {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^usage: /m);
    expect(run.calls).toEqual([]);
  });
});

describe.each(['build-handler.sh', '.ci/run'])('%s', (script) => {
  it('prints its usage to stdout and exits 0 with --help, doing nothing else', async () => {
    const { stdout, stderr } = await runFile(BASH, [join(PROJECT_ROOT, script), '--help'], {
      env: { PATH: '/nonexistent' },
    });
    expect(stdout).toMatch(/^usage: /);
    expect(stderr).toBe('');
  });

  it('exits 2 with the usage on stderr for an unknown argument', async () => {
    const error = await runFile(BASH, [join(PROJECT_ROOT, script), '--bogus'], { env: { PATH: '/nonexistent' } }).then(
      () => undefined,
      (failure: { code: number; stderr: string }) => failure,
    );
    expect(error?.code).toBe(2);
    expect(error?.stderr).toMatch(/^usage: /m);
  });
});

describe('release files', () => {
  const read = (file: string): string => readFileSync(join(PROJECT_ROOT, file), 'utf8');
  const version = (file: string, ...path: string[]): unknown => at(JSON.parse(read(file)), ...path);

  it("LICENSE is package.json's license, MIT No Attribution, with the project's copyright line", () => {
    expect(version('package.json', 'license')).toBe('MIT-0');
    const license = read('LICENSE');
    expect(license.split('\n').slice(0, 3)).toEqual([
      'MIT No Attribution',
      '',
      'Copyright 2026 the lambda-eks authors',
    ]);
    expect(license.replace(/\s+/g, ' ')).toContain(
      'to deal in the Software without restriction, including without limitation the rights to use, copy, modify, ' +
        'merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom ' +
        'the Software is furnished to do so. THE SOFTWARE IS PROVIDED "AS IS"',
    );
    expect(license).not.toMatch(/subject to the following conditions/);
  });

  it("the changelog's latest version is package.json's and package-lock.json's, and it lists every version", () => {
    const changelog = read('CHANGELOG.md');
    expect(changelog).toMatch(/^# Changelog\n/);
    expect(changelog).toContain('[Keep a Changelog](https://keepachangelog.com/en/1.1.0/)');
    const versions = [...changelog.matchAll(/^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$/gm)].map((m) => m[1]);
    expect(versions).toEqual(['0.3.0', '0.2.0', '0.1.0']);
    expect(version('package.json', 'version')).toBe(versions[0]);
    expect(version('package-lock.json', 'version')).toBe(versions[0]);
    expect(version('package-lock.json', 'packages', '', 'version')).toBe(versions[0]);
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
