// The one control plane of a jest run, shared by every worker: started by global-setup.mjs (compiled by esbuild, as
// jest's global hooks do not go through ts-jest), described to the workers by a file that LAMBDA_EKS_CONTROL_PLANE
// names, stopped by global-teardown.mjs, and killed with everything it started if the run ends any other way.
import { join } from 'node:path';
import { startLocalCluster, writeClusterInfo } from './local-cluster.js';

/** Starts the control plane; returns how to stop it. Sets LAMBDA_EKS_CONTROL_PLANE for the workers. */
export async function startTestRunCluster(runDir: string): Promise<() => Promise<void>> {
  const started = Date.now();
  const say = (line: string): void => void process.stderr.write(`control plane: ${line}\n`);
  const cluster = await startLocalCluster(say);
  const onExit = (): void => cluster.killNow();
  process.on('exit', onExit);
  const file = join(runDir, 'control-plane.json');
  writeClusterInfo(file, cluster.info);
  process.env['LAMBDA_EKS_CONTROL_PLANE'] = file;
  say(`kube-apiserver ${cluster.info.version} ready on ${cluster.info.endpoint} in ${Date.now() - started} ms`);
  return async () => {
    process.off('exit', onExit);
    await cluster.stop();
  };
}
