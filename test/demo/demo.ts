// npm run demo: the function end to end on this machine, without an AWS account. It starts a real Kubernetes control
// plane on 127.0.0.1 (kube-apiserver, etcd, the controllers, the scheduler and kwok's pods; built from Go modules on
// first use), runs the real bundle the way Lambda's Node.js runtime does, invokes it with sample events as the
// function's own identity (EKS token authentication, RBAC from permissions.yml), and prints each event, result and
// log line. It stops everything it started.
import { restPath } from '../support/kube-admin.js';
import { LambdaEnvironment } from '../support/lambda.js';
import { functionEnv } from '../support/fixture.js';
import { adminOf, applyGrants, GRANTS, startLocalCluster } from '../support/local-cluster.js';

interface Step {
  readonly title: string;
  readonly event: unknown;
}

const STEPS: readonly Step[] = [
  { title: 'Create the default Deployment (two nginx replicas)', event: {} },
  { title: 'The same again: it is there already, nothing changes', event: {} },
  {
    title: 'A server-side dry run: validated and authorised, nothing stored',
    event: { name: 'preview', dryRun: true },
  },
  {
    title: 'Converge it to three replicas with server-side apply, and wait for the rollout',
    event: { action: 'apply', replicas: 3, wait: true },
  },
  { title: 'Read it back as the cluster has it', event: { action: 'get' } },
  { title: 'Delete it (only Deployments this function made)', event: { action: 'delete' } },
  {
    title: 'An error, and its fix: a namespace where RBAC grants the function nothing',
    event: { name: 'web', namespace: 'locked' },
  },
];

const bold = (text: string): string => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[0m` : text);

async function main(): Promise<void> {
  console.log(
    'Starting a local Kubernetes control plane (the first time, it is built from Go modules: tens of minutes)',
  );
  const cluster = await startLocalCluster((line) => console.log(`   ${line}`));
  let lambda: LambdaEnvironment | undefined;
  try {
    const admin = adminOf(cluster.info);
    await applyGrants(admin, 'default', GRANTS);
    await admin.create(restPath('v1', 'namespaces'), { metadata: { name: 'locked' } });
    admin.close();
    console.log(
      `\n${bold('A REAL KUBE-APISERVER')} ${cluster.info.version} of cluster "${cluster.info.clusterName}" on ` +
        `${cluster.info.endpoint}, on this machine (etcd, kube-controller-manager, kube-scheduler, and kwok for the ` +
        'nodes and pods): no AWS account, no containers. The function is the real bundle (dist/), run as Lambda runs ' +
        'it, as its own identity: an EKS token checked by a webhook, and only the RBAC grants of permissions.yml in ' +
        'namespace default.\n',
    );
    lambda = await LambdaEnvironment.start({
      ...functionEnv(cluster.info.endpoint, cluster.info.pki.caData),
      NAMESPACE: 'default',
    });
    for (const [index, step] of STEPS.entries()) {
      const before = lambda.logs.length;
      console.log(bold(`${index + 1}. ${step.title}`));
      console.log(`   event:  ${JSON.stringify(step.event)}`);
      const invocation = await lambda.invoke(step.event, 60_000);
      console.log(
        invocation.ok
          ? `   result: ${JSON.stringify(invocation.result)}`
          : `   error:  ${invocation.errorType}: ${invocation.errorMessage}`,
      );
      for (const line of lambda.logs.slice(before)) console.log(`   log:    ${line}`);
      console.log('');
    }
  } finally {
    await lambda?.stop();
    await cluster.stop();
  }
  console.log(
    'Stopped the function and the control plane. Keep one running with npm run cluster and try your own events with ' +
      'npm run invoke; deploy to a real cluster with ./deploy.sh <cluster-name>.',
  );
}

await main();
