// npm run cluster: the local control plane in the foreground, for trying the function without AWS. It builds the
// control plane if needed, starts it on 127.0.0.1, applies the grants of permissions.yml in namespace default, prints
// the admin kubeconfig, the kubectl of the server's version and the function's environment (NAME=value lines, also
// written to the state file npm run invoke reads), and stops everything it started on Ctrl-C (SIGINT) or SIGTERM.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { adminOf, applyGrants, clusterEnvLines, GRANTS, startLocalCluster } from '../support/local-cluster.js';
import { CLUSTER_STATE_FILE } from '../support/paths.js';

const USAGE = `usage: npm run cluster [-- --help]

Starts a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok,
built from the Go modules in control-plane/ on first use: tens of minutes, once) on 127.0.0.1, with EKS token
authentication for the test credentials and the grants of permissions.yml (${GRANTS.join(', ')}) in namespace
default. When it is ready it prints KUBECONFIG (an admin kubeconfig), KUBECTL (kubectl of the server's version) and
the function's environment, one NAME=value per line, and writes them to ${CLUSTER_STATE_FILE}, where npm run
invoke finds them. Ctrl-C stops everything it started.`;

function alreadyRunning(): number | undefined {
  if (!existsSync(CLUSTER_STATE_FILE)) return undefined;
  const pid = Number(/^CLUSTER_PID=(\d+)$/m.exec(readFileSync(CLUSTER_STATE_FILE, 'utf8'))?.[1]);
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  if (args.length > 0) {
    console.error(`npm run cluster: unexpected argument ${args[0]}\n${USAGE}`);
    return 2;
  }
  const running = alreadyRunning();
  if (running !== undefined) {
    console.error(
      `npm run cluster: a local cluster is already running (process ${running}); its settings are in ` +
        `${CLUSTER_STATE_FILE}. Stop it with Ctrl-C in its terminal, or kill ${running}.`,
    );
    return 1;
  }
  const say = (line: string): void => void process.stderr.write(`npm run cluster: ${line}\n`);
  const cluster = await startLocalCluster(say);
  const stop = async (): Promise<void> => {
    rmSync(CLUSTER_STATE_FILE, { force: true });
    await cluster.stop();
  };
  process.on('exit', () => {
    rmSync(CLUSTER_STATE_FILE, { force: true });
    cluster.killNow();
  });
  try {
    const admin = adminOf(cluster.info);
    await applyGrants(admin, 'default', GRANTS);
    admin.close();
    say(`applied the grants ${GRANTS.join(', ')} of permissions.yml in namespace default (nothing else is granted)`);
    const lines = [...clusterEnvLines(cluster.info, 'default'), `CLUSTER_PID=${process.pid}`];
    mkdirSync(dirname(CLUSTER_STATE_FILE), { recursive: true });
    writeFileSync(CLUSTER_STATE_FILE, `${lines.join('\n')}\n`, { mode: 0o600 });
    say(
      `a real kube-apiserver ${cluster.info.version} is serving on ${cluster.info.endpoint} (127.0.0.1 only); ` +
        `logs in ${cluster.info.dir}. Try: npm run invoke -- events/default.json. Ctrl-C stops it.`,
    );
    console.log(lines.join('\n'));
  } catch (error) {
    await stop();
    throw error;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say(`${signal}: stopping the control plane`);
  await stop();
  say('stopped');
  return 0;
}

process.exitCode = await main();
