import { describe, expect, it } from '@jest/globals';
import { readinessOf, type Readiness } from '../../../src/status/kstatus.js';

// Cases ported from kstatus's own tables (kubernetes-sigs/cli-utils pkg/kstatus/status/status_compute_test.go and
// core_test.go): same objects, same names, and the expected status upstream gives them (Current -> 'current',
// InProgress -> 'in-progress', Failed -> 'failed'), except where a row says DEPARTURE. Rows marked "rule" cover a
// branch of core.go or generic.go that upstream's tables do not.

type Manifest = Readonly<Record<string, unknown>>;
type Row = [name: string, object: Manifest, ready: Readiness, phrase: string];

const NOW = Date.parse('2025-06-01T12:00:00Z');

function builtIn(object: Manifest): ReturnType<typeof readinessOf> {
  return readinessOf(object, { custom: false, now: NOW });
}

function custom(object: Manifest): ReturnType<typeof readinessOf> {
  return readinessOf(object, { custom: true, now: NOW });
}

function expectReport(report: ReturnType<typeof readinessOf>, ready: Readiness, phrase: string): void {
  expect(report.ready).toBe(ready);
  expect(report.message).toContain(phrase);
}

describe('Pod (core.go podConditions)', () => {
  const meta = { name: 'test', namespace: 'qual', generation: 1 };
  it.each<Row>([
    [
      'podNoStatus',
      { apiVersion: 'v1', kind: 'Pod', metadata: { generation: 1, name: 'test' } },
      'in-progress',
      'no phase',
    ],
    [
      'podReady',
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: meta,
        status: { conditions: [{ type: 'Ready', status: 'True' }], phase: 'Running' },
      },
      'current',
      'Pod is Ready',
    ],
    [
      'podCompletedSuccessfully',
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: meta,
        status: { phase: 'Succeeded', conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted' }] },
      },
      'current',
      'completed successfully',
    ],
    [
      'podCompletedFailed',
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: meta,
        status: { phase: 'Failed', conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted' }] },
      },
      'current',
      'not successfully',
    ],
    [
      'podCrashLooping',
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: meta,
        status: {
          phase: 'Running',
          conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }],
          containerStatuses: [{ name: 'nginx', state: { waiting: { reason: 'CrashLoopBackOff' } } }],
        },
      },
      'failed',
      'CrashLoopBackOff: nginx',
    ],
    [
      'rule: running, not Ready, not crash looping',
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: meta,
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
          containerStatuses: [{ name: 'nginx', state: { running: { startedAt: '2025-06-01T11:59:50Z' } } }],
        },
      },
      'in-progress',
      'running but is not Ready',
    ],
    [
      'rule: pending, scheduled, pulling its image',
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: meta,
        status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
      },
      'in-progress',
      'Pending phase',
    ],
    [
      'rule: phase Unknown (kstatus returns an error)',
      { apiVersion: 'v1', kind: 'Pod', metadata: meta, status: { phase: 'Unknown' } },
      'unknown',
      'phase Unknown',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });

  // DEPARTURE (b): kstatus reports podBeingScheduled InProgress and podUnschedulable (older than 15 s) Failed; both
  // stay in progress here, whatever their age, and the message quotes the scheduler.
  const unschedulable = (creationTimestamp?: string, message?: string): Manifest => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...(creationTimestamp ? { creationTimestamp } : {}), generation: 1, name: 'test', namespace: 'qual' },
    status: {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', ...(message ? { message } : {}) }],
    },
  });
  it.each<Row>([
    ['podBeingScheduled (5 s old)', unschedulable('2025-06-01T11:59:55Z'), 'in-progress', 'unschedulable for 5 s'],
    ['podUnschedulable (kstatus: Failed)', unschedulable(), 'in-progress', 'waiting for a node'],
    [
      'unschedulable for an hour, waiting on Karpenter',
      unschedulable('2025-06-01T11:00:00Z', '0/3 nodes are available: 3 Insufficient cpu.'),
      'in-progress',
      'for 60 min, waiting for a node to fit it; the scheduler says: "0/3 nodes are available: 3 Insufficient cpu."',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });
});

describe('PersistentVolumeClaim (core.go pvcConditions)', () => {
  it.each<Row>([
    [
      'pvcNoStatus',
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { generation: 1, name: 'test' } },
      'in-progress',
      'not Bound yet (phase unknown)',
    ],
    [
      'pvcBound',
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { generation: 1, name: 'test', namespace: 'qual' },
        status: { phase: 'Bound' },
      },
      'current',
      'is Bound',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });
});

describe('StatefulSet (core.go stsConditions)', () => {
  const sts = (spec: Manifest, status: Manifest): Manifest => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { generation: 1, name: 'test', namespace: 'qual' },
    spec,
    status: { observedGeneration: 1, ...status },
  });
  it.each<Row>([
    [
      'stsNoStatus',
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { generation: 1, name: 'test' } },
      'in-progress',
      'Replicas: 0/1 created',
    ],
    ['stsBadStatus', sts({}, { currentReplicas: 1 }), 'in-progress', 'Replicas: 0/1 created'],
    [
      'stsOK',
      sts({ replicas: 4 }, { currentReplicas: 4, readyReplicas: 4, replicas: 4 }),
      'current',
      'StatefulSet is ready. Replicas: 4',
    ],
    [
      'stsLessReady',
      sts({ replicas: 4 }, { currentReplicas: 4, readyReplicas: 2, replicas: 4 }),
      'in-progress',
      'Replicas: 2/4 ready',
    ],
    [
      'stsLessCurrent',
      sts({ replicas: 4 }, { currentReplicas: 2, readyReplicas: 4, replicas: 4 }),
      'in-progress',
      'Replicas: 2/4 at the current revision',
    ],
    [
      'stsExtraPods',
      sts({ replicas: 4 }, { currentReplicas: 4, readyReplicas: 4, replicas: 8 }),
      'in-progress',
      'Pending termination: 4',
    ],
    [
      'rule: OnDelete update strategy',
      sts({ replicas: 4, updateStrategy: { type: 'OnDelete' } }, { replicas: 0 }),
      'current',
      'OnDelete',
    ],
    [
      'rule: partitioned rollout under way',
      sts(
        { replicas: 4, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
        { currentReplicas: 3, readyReplicas: 4, updatedReplicas: 1, replicas: 4 },
      ),
      'in-progress',
      'Partitioned rollout: 1/2 replicas updated',
    ],
    [
      'rule: partitioned rollout complete',
      sts(
        { replicas: 4, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
        { currentReplicas: 2, readyReplicas: 4, updatedReplicas: 2, replicas: 4 },
      ),
      'current',
      'Partitioned rollout complete. Updated: 2',
    ],
    [
      'rule: update revision not yet current',
      sts(
        { replicas: 2 },
        {
          currentReplicas: 2,
          readyReplicas: 2,
          replicas: 2,
          currentRevision: 'test-6d4f8b7c9',
          updateRevision: 'test-7f9c6d5b8',
        },
      ),
      'in-progress',
      'update revision test-7f9c6d5b8',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });
});

describe('DaemonSet (core.go daemonsetConditions)', () => {
  const ds = (generation: number, status: Manifest): Manifest => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'test', namespace: 'qual', generation },
    status,
  });
  const counts = {
    desiredNumberScheduled: 4,
    currentNumberScheduled: 4,
    updatedNumberScheduled: 4,
    numberAvailable: 4,
    numberReady: 4,
  };
  it.each<Row>([
    [
      'dsNoStatus',
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'test', generation: 1 } },
      'in-progress',
      'no status.observedGeneration',
    ],
    [
      'dsBadStatus',
      ds(1, { observedGeneration: 1, currentReplicas: 1 }),
      'in-progress',
      'no status.desiredNumberScheduled',
    ],
    ['dsOK', ds(1, { ...counts, observedGeneration: 1 }), 'current', 'DaemonSet is ready. Pods: 4'],
    ['dsLessReady', ds(1, { ...counts, observedGeneration: 1, numberReady: 2 }), 'in-progress', 'Pods: 2/4 ready'],
    [
      'dsDifferentGeneration',
      ds(2, { ...counts, observedGeneration: 1 }),
      'in-progress',
      'generation is 2, but its controller has observed generation 1',
    ],
    [
      'dsLessAvailable',
      ds(1, { ...counts, observedGeneration: 1, numberAvailable: 2 }),
      'in-progress',
      'Pods: 2/4 available',
    ],
    [
      'rule: no metadata.generation',
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'test' },
        status: { ...counts, observedGeneration: 1 },
      },
      'in-progress',
      'no metadata.generation',
    ],
    [
      'rule: not on every node yet',
      ds(1, { ...counts, observedGeneration: 1, currentNumberScheduled: 3 }),
      'in-progress',
      'Pods: 3/4 scheduled',
    ],
    [
      'rule: old pods not replaced yet',
      ds(1, { ...counts, observedGeneration: 1, updatedNumberScheduled: 1 }),
      'in-progress',
      'Pods: 1/4 updated',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });
});

describe('Deployment (core.go deploymentConditions)', () => {
  const deployment = (spec: Manifest, status: Manifest, apiVersion = 'apps/v1'): Manifest => ({
    apiVersion,
    kind: 'Deployment',
    metadata: { name: 'test', generation: 1, namespace: 'qual' },
    spec,
    status: { observedGeneration: 1, ...status },
  });
  const one = { updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1, replicas: 1 };
  const newReplicaSetAvailable = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' };
  it.each<Row>([
    [
      'depNoStatus',
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'test', generation: 1 } },
      'in-progress',
      'Replicas: 0/1 created',
    ],
    [
      'depOK',
      deployment({}, { ...one, conditions: [newReplicaSetAvailable, { type: 'Available', status: 'True' }] }),
      'current',
      'Deployment is available. Replicas: 1',
    ],
    [
      'depNotProgressing',
      deployment(
        { progressDeadlineSeconds: 45 },
        {
          ...one,
          conditions: [
            { type: 'Progressing', status: 'False', reason: 'Some reason' },
            { type: 'Available', status: 'True' },
          ],
        },
      ),
      'in-progress',
      'new ReplicaSet is not reported available',
    ],
    [
      'depNoProgressDeadlineSeconds',
      deployment({}, { ...one, conditions: [{ type: 'Available', status: 'True' }] }),
      'current',
      'Deployment is available',
    ],
    [
      'depNotAvailable',
      deployment({}, { ...one, conditions: [newReplicaSetAvailable, { type: 'Available', status: 'False' }] }),
      'in-progress',
      'not Available yet',
    ],
    [
      'rule: progress deadline exceeded',
      deployment(
        { replicas: 3, progressDeadlineSeconds: 600 },
        {
          replicas: 3,
          updatedReplicas: 1,
          readyReplicas: 2,
          availableReplicas: 2,
          conditions: [
            {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: 'ReplicaSet "test-5d8f7c9b6" has timed out progressing.',
            },
          ],
        },
      ),
      'failed',
      'exceeded its progress deadline (Progressing=False, reason ProgressDeadlineExceeded): ReplicaSet "test-5d8f7c9b6"',
    ],
    [
      'rule: new pods not updated yet',
      deployment({ replicas: 3 }, { replicas: 3, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 }),
      'in-progress',
      'Replicas: 1/3 updated',
    ],
    [
      'rule: old pods pending termination',
      deployment({ replicas: 3 }, { replicas: 4, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }),
      'in-progress',
      'Pending termination: 1',
    ],
    [
      'rule: updated pods not available yet',
      deployment({ replicas: 3 }, { replicas: 3, updatedReplicas: 3, readyReplicas: 1, availableReplicas: 1 }),
      'in-progress',
      'Replicas: 1/3 available',
    ],
    [
      'rule: the extensions group has the same rules',
      deployment({ replicas: 3 }, { replicas: 1 }, 'extensions/v1beta1'),
      'in-progress',
      'Replicas: 1/3 created',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });
});

describe('ReplicaSet (core.go replicasetConditions)', () => {
  const rs = (replicas: number, status: Manifest): Manifest => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'test', namespace: 'qual', generation: 1 },
    spec: { replicas },
    status: { observedGeneration: 1, ...status },
  });
  it.each<Row>([
    [
      'rsNoStatus',
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'test', generation: 1 } },
      'in-progress',
      'Replicas: 0/1 fully labelled',
    ],
    [
      'rsOK1',
      rs(2, {
        replicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
        fullyLabeledReplicas: 2,
        conditions: [{ type: 'ReplicaFailure', status: 'False' }],
      }),
      'current',
      'ReplicaSet is available. Replicas: 2',
    ],
    [
      'rsOK2',
      rs(2, { fullyLabeledReplicas: 2, replicas: 2, readyReplicas: 2, availableReplicas: 2 }),
      'current',
      'ReplicaSet is available. Replicas: 2',
    ],
    [
      'rsLessAvailable',
      rs(4, { replicas: 4, readyReplicas: 4, availableReplicas: 2, fullyLabeledReplicas: 4 }),
      'in-progress',
      'Replicas: 2/4 available',
    ],
    [
      'rsLessReady',
      rs(4, { replicas: 4, readyReplicas: 2, availableReplicas: 4, fullyLabeledReplicas: 4 }),
      'in-progress',
      'Replicas: 2/4 ready',
    ],
    [
      'rsReplicaFailure',
      rs(4, {
        replicas: 4,
        readyReplicas: 4,
        fullyLabeledReplicas: 4,
        availableReplicas: 4,
        conditions: [
          {
            type: 'ReplicaFailure',
            status: 'True',
            reason: 'FailedCreate',
            message: 'pods "test-x7k2p" is forbidden: exceeded quota: compute',
          },
        ],
      }),
      'in-progress',
      'cannot create all its pods (ReplicaFailure=True, reason FailedCreate): pods "test-x7k2p" is forbidden',
    ],
    [
      'rule: extra replicas pending termination',
      rs(2, { replicas: 3, readyReplicas: 3, availableReplicas: 3, fullyLabeledReplicas: 3 }),
      'in-progress',
      'Pending termination: 1',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });
});

describe('PodDisruptionBudget (core.go pdbConditions)', () => {
  const pdb = (generation: number): Manifest => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { generation, name: 'test', namespace: 'qual' },
    status: { observedGeneration: 1 },
  });
  it.each<Row>([
    ['pdbNotObserved', pdb(2), 'in-progress', 'generation is 2, but its controller has observed generation 1'],
    ['pdbObserved', pdb(1), 'current', 'allowed disruptions have been computed'],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });
});

describe('Job (core.go jobConditions, core_test.go)', () => {
  const job = (spec: Manifest, status: Manifest): Manifest => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'test', namespace: 'qual', generation: 1 },
    spec,
    status,
  });
  it.each<Row>([
    [
      'jobNoStatus',
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'test', namespace: 'qual', generation: 1 } },
      'in-progress',
      'not started',
    ],
    [
      'jobComplete',
      job({}, { succeeded: 1, active: 0, conditions: [{ type: 'Complete', status: 'True' }] }),
      'current',
      'Job completed. Succeeded: 1/1',
    ],
    [
      'jobFailed',
      job(
        { completions: 4 },
        { succeeded: 3, failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'JobFailed' }] },
      ),
      'failed',
      'Job failed. Failed: 1/4 (Failed=True, reason JobFailed)',
    ],
    [
      'jobInProgress',
      job(
        { completions: 10, parallelism: 2 },
        {
          startTime: '2019-06-04T01:17:13Z',
          succeeded: 3,
          failed: 1,
          active: 2,
          conditions: [
            { type: 'Failed', status: 'False' },
            { type: 'Complete', status: 'False' },
          ],
        },
      ),
      'current',
      'Succeeded: 3, active: 2, failed: 1',
    ],
    [
      'TestSuspendedJobConditions: Suspended=True',
      job({}, { conditions: [{ type: 'Suspended', status: 'True', reason: 'JobSuspended' }] }),
      'current',
      'suspended',
    ],
    [
      'TestSuspendedJobConditions: Suspended=False',
      job({}, { conditions: [{ type: 'Suspended', status: 'False', reason: 'JobSuspended' }] }),
      'in-progress',
      'not started',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });
});

describe('kinds kstatus calls always ready (core.go alwaysReady)', () => {
  it.each<Row>([
    [
      'cronjobNoStatus',
      { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'test', namespace: 'qual', generation: 1 } },
      'current',
      'CronJob is ready once it exists',
    ],
    [
      'cronjobWithStatus',
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'test', namespace: 'qual', generation: 1 },
        status: null,
      },
      'current',
      'CronJob is ready once it exists',
    ],
    [
      'rule: ConfigMap',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: 'qual' },
        data: { mode: 'blue' },
      },
      'current',
      'ConfigMap is ready once it exists',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });

  it('says a Secret is ready without quoting any of its data', () => {
    const report = builtIn({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'qual' },
      type: 'Opaque',
      data: { password: 'aHVudGVyMg==' },
      stringData: { token: 'hunter2' },
    });
    expectReport(report, 'current', 'Secret is ready once it exists');
    expect(report.message).not.toMatch(/aHVudGVyMg|hunter2|password|token/);
  });
});

describe('Service (core.go serviceConditions)', () => {
  const service = (spec?: Manifest): Manifest => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'test', namespace: 'qual', generation: 1 },
    ...(spec ? { spec } : {}),
  });
  it.each<Row>([
    ['serviceDefault', service(), 'current', 'Service is ready (type ClusterIP)'],
    ['serviceNodePort', service({ type: 'NodePort' }), 'current', 'Service is ready (type NodePort)'],
    ['serviceLBnok', service({ type: 'LoadBalancer' }), 'in-progress', 'no cluster IP yet'],
    ['serviceLBok', service({ type: 'LoadBalancer', clusterIP: '1.2.3.4' }), 'current', 'type LoadBalancer'],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });
});

describe('CustomResourceDefinition (core.go crdConditions)', () => {
  const crd = (conditions?: readonly Manifest[]): Manifest => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { generation: 1 },
    ...(conditions ? { status: { conditions } } : {}),
  });
  const namesAccepted = { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts' };
  it.each<Row>([
    ['crdNoConditions', crd(), 'in-progress', 'being installed'],
    [
      'crdInstalling',
      crd([namesAccepted, { type: 'Established', status: 'False', reason: 'Installing' }]),
      'in-progress',
      'being installed',
    ],
    [
      'crdNamesNotAccepted',
      crd([{ type: 'NamesAccepted', status: 'False', reason: 'SomeReason' }]),
      'failed',
      'names are not accepted (NamesAccepted=False, reason SomeReason)',
    ],
    [
      'crdEstablished',
      crd([namesAccepted, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted' }]),
      'current',
      'is established',
    ],
    [
      'rule: establishing failed for another reason',
      crd([
        namesAccepted,
        { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' },
      ]),
      'failed',
      'could not be established (Established=False, reason NotAccepted): not all names are accepted',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });
});

describe('custom resources (generic.go, status.go checkReadyCondition)', () => {
  const myCR = (metadata: Manifest, status?: Manifest): Manifest => ({
    apiVersion: 'something/v1',
    kind: 'MyCR',
    metadata: { name: 'test', namespace: 'qual', ...metadata },
    ...(status ? { status } : {}),
  });
  it.each<Row>([
    [
      'crdNoStatus (DEPARTURE (a); kstatus: Current)',
      myCR({ generation: 1 }),
      'unknown',
      'MyCR readiness cannot be observed: it reports no conditions and no observedGeneration, so it is not waited for',
    ],
    [
      'status without conditions or observedGeneration (DEPARTURE (a))',
      myCR({ generation: 1 }, { phase: 'Running', conditions: [] }),
      'unknown',
      'readiness cannot be observed',
    ],
    [
      'crdReady',
      myCR(
        { generation: 1 },
        { conditions: [{ type: 'Ready', status: 'True', message: 'All looks ok', reason: 'AllOk' }] },
      ),
      'current',
      'MyCR is Ready (Ready=True, reason AllOk): All looks ok',
    ],
    [
      'crdNotReady',
      myCR(
        { generation: 1 },
        { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False', reason: 'NotReadyYet' }] },
      ),
      'in-progress',
      'not Ready yet (Ready=False, reason NotReadyYet)',
    ],
    [
      'rule: Ready=Unknown',
      myCR(
        { generation: 1 },
        { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'Unknown', reason: 'Pending' }] },
      ),
      'in-progress',
      'not decided yet (Ready=Unknown, reason Pending)',
    ],
    [
      'crdNoCondition',
      myCR({ generation: 1 }, { conditions: [{ type: 'SomeCondition', status: 'False' }] }),
      'current',
      'none of its conditions (SomeCondition) is Ready, Reconciling or Stalled',
    ],
    [
      'crdMismatchStatusGeneration',
      myCR({ generation: 2 }, { observedGeneration: 1 }),
      'in-progress',
      'MyCR generation is 2, but its controller has observed generation 1',
    ],
    [
      'rule: observedGeneration caught up, no conditions',
      myCR({ generation: 3 }, { observedGeneration: 3 }),
      'current',
      'observed generation 3',
    ],
    [
      'rule: Reconciling=True',
      myCR(
        { generation: 1 },
        {
          observedGeneration: 1,
          conditions: [
            { type: 'Ready', status: 'True' },
            { type: 'Reconciling', status: 'True', reason: 'Progressing', message: 'creating the bucket' },
          ],
        },
      ),
      'in-progress',
      'MyCR is reconciling (Reconciling=True, reason Progressing): creating the bucket',
    ],
    [
      'rule: Stalled=True',
      myCR(
        { generation: 1 },
        {
          observedGeneration: 1,
          conditions: [{ type: 'Stalled', status: 'True', reason: 'InvalidSpec', message: 'region is not set' }],
        },
      ),
      'failed',
      'MyCR is stalled (Stalled=True, reason InvalidSpec): region is not set',
    ],
    [
      'rule: being deleted',
      myCR(
        { generation: 1, deletionTimestamp: '2025-06-01T11:58:00Z', finalizers: ['example.com/cleanup'] },
        { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] },
      ),
      'terminating',
      'MyCR is being deleted (deletionTimestamp 2025-06-01T11:58:00Z); waiting on finalizers: example.com/cleanup',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(custom(object), ready, phrase);
  });
});

describe('built-in kinds without rules (status.go fallback)', () => {
  const nothingToJudge = 'is current: Kubernetes defines no readiness for it beyond existing';
  it.each<Row>([
    [
      'ServiceAccount',
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'app', namespace: 'qual' } },
      'current',
      `ServiceAccount ${nothingToJudge}`,
    ],
    [
      'Role',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'reader', namespace: 'qual' },
        rules: [],
      },
      'current',
      `Role ${nothingToJudge}`,
    ],
    [
      'RoleBinding',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'reader', namespace: 'qual' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
      },
      'current',
      `RoleBinding ${nothingToJudge}`,
    ],
    [
      'ClusterRole',
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' } },
      'current',
      `ClusterRole ${nothingToJudge}`,
    ],
    [
      'HorizontalPodAutoscaler (rules proposed upstream in cli-utils#634, never merged)',
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web', namespace: 'qual', generation: 1 },
        status: { conditions: [{ type: 'AbleToScale', status: 'True' }] },
      },
      'current',
      'HorizontalPodAutoscaler is current: none of its conditions (AbleToScale)',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(builtIn(object), ready, phrase);
  });

  it('judges the same empty object unknown only when a CRD serves its kind', () => {
    const object = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'app', namespace: 'qual' } };
    expectReport(builtIn(object), 'current', 'no readiness for it beyond existing');
    expectReport(
      custom({ ...object, apiVersion: 'example.com/v1', kind: 'Widget' }),
      'unknown',
      'Widget readiness cannot be observed',
    );
  });
});

describe('the order of the rules (status.go Compute, generic.go)', () => {
  it.each<Row>([
    [
      'deletion before everything else',
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', generation: 2, deletionTimestamp: '2025-06-01T11:59:00Z' },
        status: { observedGeneration: 1, conditions: [{ type: 'Stalled', status: 'True' }] },
      },
      'terminating',
      'Deployment is being deleted',
    ],
    [
      'an unobserved generation before the conditions',
      {
        apiVersion: 'something/v1',
        kind: 'MyCR',
        metadata: { name: 'test', generation: 5 },
        status: { observedGeneration: 4, conditions: [{ type: 'Ready', status: 'True' }] },
      },
      'in-progress',
      'generation is 5',
    ],
    [
      'the first of Stalled and Reconciling in list order',
      {
        apiVersion: 'something/v1',
        kind: 'MyCR',
        metadata: { name: 'test', generation: 1 },
        status: {
          conditions: [
            { type: 'Stalled', status: 'True', reason: 'Broken' },
            { type: 'Reconciling', status: 'True', reason: 'Retrying' },
          ],
        },
      },
      'failed',
      'reason Broken',
    ],
    [
      'the generic conditions before the kind rules',
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', generation: 1 },
        spec: { replicas: 1 },
        status: {
          observedGeneration: 1,
          replicas: 1,
          updatedReplicas: 1,
          readyReplicas: 1,
          availableReplicas: 1,
          conditions: [
            { type: 'Available', status: 'True' },
            { type: 'Reconciling', status: 'True', reason: 'Rolling' },
          ],
        },
      },
      'in-progress',
      'Deployment is reconciling',
    ],
    [
      'the kind rules before the Ready condition',
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', generation: 1 },
        status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'True' }] },
      },
      'in-progress',
      'Pending phase',
    ],
  ])('%s', (_name, object, ready, phrase) => {
    expectReport(readinessOf(object, { custom: false, now: NOW }), ready, phrase);
  });

  it('reads the clock when no time is given', () => {
    const created = new Date(Date.now() - 30_000).toISOString();
    const report = readinessOf(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', creationTimestamp: created },
        status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
      },
      { custom: false },
    );
    expect(report.ready).toBe('in-progress');
    expect(report.message).toMatch(/unschedulable for (29|30|31) s/);
  });
});
