// npm run demo: the function end to end on this machine, without an AWS account. It starts the tests' HTTPS stand-in
// for an EKS API server on 127.0.0.1 (a local simulation, not a cluster), runs the real bundle the way Lambda's
// Node.js runtime does, invokes it with sample events, and prints each event, result and log line. It stops
// everything it started.
import { startTestBed } from '../support/fixture.js';
import { LambdaEnvironment } from '../support/lambda.js';

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
  // The simulated deployment controller and kubelet run, with pods that take a second to become ready, so that
  // "wait" has a rollout to follow.
  const bed = await startTestBed({ cluster: { podReadyDelayMs: 1000 } });
  let lambda: LambdaEnvironment | undefined;
  try {
    console.log(
      bold('LOCAL SIMULATION') +
        `: an HTTPS stand-in for the API server of EKS cluster "demo" on ${bed.server.url} (real TLS, EKS token ` +
        'checks, RBAC, server-side apply and a simulated deployment controller); no AWS account, no cluster. The ' +
        'function is the real bundle (dist/), run as Lambda runs it.\n',
    );
    lambda = await LambdaEnvironment.start(bed.env);
    for (const [index, step] of STEPS.entries()) {
      const before = lambda.logs.length;
      console.log(bold(`${index + 1}. ${step.title}`));
      console.log(`   event:  ${JSON.stringify(step.event)}`);
      const invocation = await lambda.invoke(step.event, 30_000);
      console.log(
        invocation.ok
          ? `   result: ${JSON.stringify(invocation.result)}`
          : `   error:  ${invocation.errorType}: ${invocation.errorMessage}`,
      );
      for (const line of lambda.logs.slice(before)) console.log(`   log:    ${line}`);
      console.log('');
    }
    console.log('Stopped the function and the stand-in. Deploy to a real cluster with ./deploy.sh <cluster-name>.');
  } finally {
    await lambda?.stop();
    await bed.server.stop();
  }
}

await main();
