import { describe, expect, it } from '@jest/globals';
import { uniqueName, useCluster } from '../support/cluster.js';
import { at } from '../support/json.js';
import { restPath } from '../support/kube-admin.js';
import type { Invocation, LambdaEnvironment } from '../support/lambda.js';
import { configMap, result, useSetIdentity, yamlOf } from '../support/sets.js';

// Readiness of a set's objects, by kstatus's rules, judged on what the real controllers (deployment, StatefulSet,
// DaemonSet, Job, PersistentVolume binder) and kwok's kubelet make of them; custom resources by the status their
// operator writes (the test writes it, through the status subresource, as an operator does).
const scope = useCluster({ namespaces: {} });
const setEnv = useSetIdentity(scope);
const environment = (): Promise<LambdaEnvironment> => scope.environment(setEnv());

/** Each object of a result as `<kind>/<name>: <ready>`. */
const readiness = (invocation: Invocation): string[] => {
  const objects = at(result(invocation), 'objects');
  return (Array.isArray(objects) ? objects : []).map(
    (object: unknown) => `${String(at(object, 'kind'))}/${String(at(object, 'name'))}: ${String(at(object, 'ready'))}`,
  );
};
const messageOf = (invocation: Invocation, name: string): string => {
  const objects = at(result(invocation), 'objects');
  const found: unknown = (Array.isArray(objects) ? objects : []).find((object: unknown) => at(object, 'name') === name);
  return String(at(found, 'readyMessage'));
};

/** A namespaced CRD with a status subresource, whose resources take any fields. */
function statusCrd(group: string): { document: string; plural: string } {
  return {
    plural: 'dials',
    document: `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: dials.${group}}
spec:
  group: ${group}
  names: {kind: Dial, plural: dials, singular: dial, listKind: DialList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}`,
  };
}

const workloads = (pv: string): string =>
  yamlOf(
    configMap('settings', {}),
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: nginx:1.30.0}]}`,
    `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: postgres, image: postgres:18}]}`,
    `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: fluent-bit:4.0}]}`,
    `apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: migrate:1.0}]`,
    `apiVersion: v1
kind: PersistentVolume
metadata: {name: ${pv}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  hostPath: {path: /tmp/${pv}}`,
    `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  volumeName: ${pv}
  resources: {requests: {storage: 1Gi}}`,
    'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: solo}\nspec: {containers: [{name: nginx, image: nginx:1.30.0}]}',
  );

describe('apply-manifest with wait', () => {
  it('returns when every object is current, by the rules of its kind', async () => {
    const lambda = await environment();
    const group = `${uniqueName('g')}.example.com`;
    const pv = uniqueName('pv');

    const applied = await lambda.invoke(
      {
        action: 'apply-manifest',
        set: 'stack',
        wait: true,
        manifest: yamlOf(workloads(pv), statusCrd(group).document),
      },
      60_000,
    );

    expect(readiness(applied).sort()).toEqual(
      [
        'ConfigMap/settings: current',
        'Deployment/web: current',
        'StatefulSet/db: current',
        'DaemonSet/agent: current',
        'Job/migrate: current',
        `PersistentVolume/${pv}: current`,
        'PersistentVolumeClaim/data: current',
        'Service/web: current',
        'Pod/solo: current',
        `CustomResourceDefinition/dials.${group}: current`,
      ].sort(),
    );
    const claim = await scope.admin.get(restPath('v1', 'persistentvolumeclaims', scope.ns('default'), 'data'));
    expect(at(claim, 'status', 'phase')).toBe('Bound');
    await lambda.invoke({ action: 'delete-manifest', set: 'stack', deleteCrdsAndNamespaces: true }, 30_000);
  }, 90_000);

  it('ends with RolloutFailedError naming the Deployment and its pods when its image does not exist', async () => {
    const lambda = await environment();

    const failed = await lambda.invoke(
      {
        action: 'apply-manifest',
        set: 'broken',
        wait: true,
        manifest: yamlOf(
          configMap('fine', {}),
          `apiVersion: apps/v1
kind: Deployment
metadata: {name: broken}
spec:
  selector: {matchLabels: {app: broken}}
  template:
    metadata: {labels: {app: broken}}
    spec: {containers: [{name: app, image: nginx:1.30.0-does-not-exist}]}`,
        ),
      },
      60_000,
    );

    expect(failed).toMatchObject({ ok: false, errorType: 'RolloutFailedError' });
    const message = !failed.ok ? failed.errorMessage : '';
    expect(message).toContain(
      `set "broken" is not ready: Deployment.apps "broken" in namespace "${scope.ns('default')}"`,
    );
    expect(message).toMatch(/pod broken-[a-z0-9]+-[a-z0-9]+ container app: (ErrImagePull|ImagePullBackOff)/);
    expect(message).toContain('The apply itself is done and stays');
    expect(await scope.admin.get(restPath('apps/v1', 'deployments', scope.ns('default'), 'broken'))).toBeDefined();
  }, 90_000);

  it('does not wait for an object whose readiness cannot be observed, and says so', async () => {
    const lambda = await environment();
    const group = `${uniqueName('g')}.example.com`;
    const crd = statusCrd(group);
    await lambda.invoke({ action: 'apply-manifest', set: 'defs', manifest: crd.document }, 30_000);

    const applied = await lambda.invoke(
      {
        action: 'apply-manifest',
        set: 'quiet',
        wait: true,
        manifest: yamlOf(configMap('c', {}), `apiVersion: ${group}/v1\nkind: Dial\nmetadata: {name: silent}\nspec: {}`),
      },
      30_000,
    );

    expect(readiness(applied)).toEqual(['ConfigMap/c: current', 'Dial/silent: unknown']);
    expect(messageOf(applied, 'silent')).toContain('readiness cannot be observed');
    expect(messageOf(applied, 'silent')).toContain('not waited for');
  }, 60_000);

  it('ends with RolloutTimeoutError naming what is not ready when the time runs out', async () => {
    const lambda = await environment();

    const timedOut = await lambda.invoke(
      {
        action: 'apply-manifest',
        set: 'pending',
        wait: true,
        manifest: `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: orphan}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  resources: {requests: {storage: 1Gi}}`,
      },
      6000,
    );

    expect(timedOut).toMatchObject({ ok: false, errorType: 'RolloutTimeoutError' });
    const message = !timedOut.ok ? timedOut.errorMessage : '';
    expect(message).toContain(`PersistentVolumeClaim "orphan" in namespace "${scope.ns('default')}"`);
    expect(message).toContain('Invoke get-manifest later');
  }, 30_000);
});

describe('get-manifest', () => {
  it("reports each custom resource's readiness from the status its operator writes", async () => {
    const lambda = await environment();
    const group = `${uniqueName('g')}.example.com`;
    const crd = statusCrd(group);
    const names = ['ready', 'not-ready', 'reconciling', 'stalled', 'stale', 'deleting', 'silent'];
    await lambda.invoke(
      {
        action: 'apply-manifest',
        set: 'dials',
        manifest: yamlOf(
          crd.document,
          ...names.map(
            (name) =>
              `apiVersion: ${group}/v1\nkind: Dial\nmetadata: {name: ${name}${name === 'deleting' ? ', finalizers: [example.com/hold]' : ''}}\nspec: {}`,
          ),
        ),
      },
      30_000,
    );
    const path = (name: string): string => restPath(`${group}/v1`, crd.plural, scope.ns('default'), name);
    const condition = (type: string, status: string) => ({
      type,
      status,
      reason: 'Test',
      message: `${type} is ${status}`,
    });
    const statuses: Record<string, unknown> = {
      ready: { observedGeneration: 1, conditions: [condition('Ready', 'True')] },
      'not-ready': { observedGeneration: 1, conditions: [condition('Ready', 'False')] },
      reconciling: { observedGeneration: 1, conditions: [condition('Reconciling', 'True')] },
      stalled: { observedGeneration: 1, conditions: [condition('Stalled', 'True')] },
      stale: { observedGeneration: 0, conditions: [condition('Ready', 'True')] },
    };
    for (const [name, status] of Object.entries(statuses)) {
      await scope.admin.mergePatch(`${path(name)}/status`, { status }, 'dial-operator');
    }
    await scope.admin.delete(path('deleting'));

    const found = await lambda.invoke({ action: 'get-manifest', set: 'dials' });

    expect(readiness(found)).toEqual([
      `CustomResourceDefinition/dials.${group}: current`,
      'Dial/ready: current',
      'Dial/not-ready: in-progress',
      'Dial/reconciling: in-progress',
      'Dial/stalled: failed',
      'Dial/stale: in-progress',
      'Dial/deleting: terminating',
      'Dial/silent: unknown',
    ]);
    expect(messageOf(found, 'stalled')).toContain('Stalled is True');
    await scope.admin.mergePatch(path('deleting'), { metadata: { finalizers: null } });
    await lambda.invoke({ action: 'delete-manifest', set: 'dials', deleteCrdsAndNamespaces: true }, 30_000);
  }, 60_000);
});
