import { describe, expect, it } from '@jest/globals';
import {
  currentReplicaSet,
  currentReplicaSetName,
  deploymentRollout,
  failingPods,
  pullErrors,
  withFailingPods,
} from '../../../src/actions/rollout.js';
import type { V1Deployment, V1Pod } from '../../../src/kube/client.js';

type PodStatus = NonNullable<V1Pod['status']>;

interface StatusRow {
  generation: number;
  observed: number;
  desired: number;
  replicas: number;
  updated: number;
  available: number;
  progressing?: string;
}

function deployment(row: StatusRow): V1Deployment {
  return {
    metadata: {
      name: 'web',
      generation: row.generation,
      uid: 'u-web',
      annotations: { 'deployment.kubernetes.io/revision': '2' },
    },
    spec: { replicas: row.desired, selector: {}, template: {} },
    status: {
      observedGeneration: row.observed,
      replicas: row.replicas,
      updatedReplicas: row.updated,
      readyReplicas: row.available,
      availableReplicas: row.available,
      conditions: row.progressing
        ? [
            {
              type: 'Progressing',
              status: 'True',
              reason: row.progressing,
              message: 'ReplicaSet "web-5d8f7c9b6" is progressing.',
            },
          ]
        : [],
    },
  };
}

// Each row is a case of kubectl's DeploymentStatusViewer (kubectl pkg/polymorphichelpers/rollout_status.go), checked
// in its order: observed generation, deadline, updated, old pending termination, available.
describe('deploymentRollout', () => {
  it.each<[string, StatusRow, string, string]>([
    [
      'the controller has not seen the new generation',
      { generation: 3, observed: 2, desired: 2, replicas: 2, updated: 2, available: 2 },
      'progressing',
      'observe generation 3',
    ],
    [
      'the progress deadline passed',
      {
        generation: 2,
        observed: 2,
        desired: 2,
        replicas: 3,
        updated: 1,
        available: 2,
        progressing: 'ProgressDeadlineExceeded',
      },
      'failed',
      'exceeded its progress deadline',
    ],
    [
      'fewer replicas are updated than desired',
      { generation: 2, observed: 2, desired: 3, replicas: 4, updated: 1, available: 3 },
      'progressing',
      '1 out of 3 new replicas have been updated',
    ],
    [
      'old replicas are still terminating',
      { generation: 2, observed: 2, desired: 2, replicas: 3, updated: 2, available: 2 },
      'progressing',
      '1 old replicas are pending termination',
    ],
    [
      'updated replicas are not all available',
      { generation: 2, observed: 2, desired: 2, replicas: 2, updated: 2, available: 1 },
      'progressing',
      '1 of 2 updated replicas are available',
    ],
    [
      'everything is updated and available',
      { generation: 2, observed: 2, desired: 2, replicas: 2, updated: 2, available: 2 },
      'complete',
      'successfully rolled out',
    ],
    [
      'scaled to zero',
      { generation: 1, observed: 1, desired: 0, replicas: 0, updated: 0, available: 0 },
      'complete',
      'successfully rolled out',
    ],
    [
      'observed ahead of the generation (kubectl: <=)',
      { generation: 1, observed: 2, desired: 1, replicas: 1, updated: 1, available: 1 },
      'complete',
      'successfully rolled out',
    ],
  ])('is %s → %s', (_label, row, state, message) => {
    const rollout = deploymentRollout(deployment(row));
    expect(rollout.state).toBe(state);
    expect(rollout.message).toContain(message);
    expect(rollout).toMatchObject({ desired: row.desired, updated: row.updated, available: row.available });
  });

  it('counts a Deployment without replicas as one desired replica, the API default', () => {
    expect(deploymentRollout({ metadata: { generation: 1 }, status: { observedGeneration: 1 } }).desired).toBe(1);
  });
});

describe('currentReplicaSetName', () => {
  it.each([
    ['NewReplicaSetCreated', 'Created new replica set "web-5d8f7c9b6"', 'web-5d8f7c9b6'],
    ['FoundNewReplicaSet', 'Found new replica set "web-5d8f7c9b6"', 'web-5d8f7c9b6'],
    ['ReplicaSetUpdated', 'ReplicaSet "web-5d8f7c9b6" is progressing.', 'web-5d8f7c9b6'],
    ['NewReplicaSetAvailable', 'ReplicaSet "web-5d8f7c9b6" has successfully progressed.', 'web-5d8f7c9b6'],
    ['ProgressDeadlineExceeded', 'ReplicaSet "web-5d8f7c9b6" has timed out progressing.', 'web-5d8f7c9b6'],
    ['ReplicaSetUpdated', 'ReplicaSet "other-5d8f7c9b6" is progressing.', undefined],
  ])('reads the ReplicaSet from a %s condition: %s', (reason, message, expected) => {
    const observed: V1Deployment = {
      metadata: { name: 'web', generation: 2 },
      status: { observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'True', reason, message }] },
    };
    expect(currentReplicaSetName(observed)).toBe(expected);
  });

  it('names none before the controller has observed the current generation', () => {
    const stale: V1Deployment = {
      metadata: { name: 'web', generation: 3 },
      status: {
        observedGeneration: 2,
        conditions: [
          { type: 'Progressing', status: 'True', message: 'ReplicaSet "web-old" has successfully progressed.' },
        ],
      },
    };
    expect(currentReplicaSetName(stale)).toBeUndefined();
  });

  it('finds the current ReplicaSet by revision annotation and owner when the condition names none', () => {
    const owned = (name: string, revision: string) => ({
      metadata: {
        name,
        annotations: { 'deployment.kubernetes.io/revision': revision },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-web' }],
      },
    });
    const subject = deployment({ generation: 2, observed: 2, desired: 1, replicas: 1, updated: 0, available: 0 });
    expect(currentReplicaSet(subject, [owned('web-old', '1'), owned('web-new', '2')])).toBe('web-new');
  });
});

function pod(name: string, replicaSet: string, status: PodStatus): V1Pod {
  return {
    metadata: {
      name,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSet, uid: replicaSet }],
    },
    status,
  };
}

function waiting(reason: string, message: string): PodStatus {
  return {
    containerStatuses: [
      {
        name: 'nginx',
        image: 'nginx:1.30.9',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { waiting: { reason, message } },
      },
    ],
  };
}

describe('failingPods', () => {
  it.each([
    'ImagePullBackOff',
    'InvalidImageName',
    'ErrImageNeverPull',
    'CrashLoopBackOff',
    'CreateContainerConfigError',
    'CreateContainerError',
    'RunContainerError',
  ])('fails at once on %s', (reason) => {
    expect(failingPods([pod('web-new-a', 'web-new', waiting(reason, 'kubelet says'))], 'web-new', new Map())).toEqual([
      { name: 'web-new-a', container: 'nginx', reason, message: 'kubelet says' },
    ]);
  });

  it('gives a first ErrImagePull another chance, and fails it once the kubelet has retried', () => {
    const pulling = [pod('web-new-a', 'web-new', waiting('ErrImagePull', 'not found'))];
    expect(failingPods(pulling, 'web-new', new Map())).toEqual([]);
    expect(failingPods(pulling, 'web-new', pullErrors(pulling))).toEqual([
      { name: 'web-new-a', container: 'nginx', reason: 'ErrImagePull', message: 'not found' },
    ]);
  });

  it('explains a back-off with the pull error seen before it, which the back-off message omits', () => {
    const pulled = pullErrors([pod('web-new-a', 'web-new', waiting('ErrImagePull', 'nginx:1.30.9: not found'))]);
    const backingOff = [
      pod('web-new-a', 'web-new', waiting('ImagePullBackOff', 'Back-off pulling image "nginx:1.30.9"')),
    ];
    expect(failingPods(backingOff, 'web-new', pulled)[0]?.message).toBe(
      'Back-off pulling image "nginx:1.30.9": nginx:1.30.9: not found',
    );
    // A back-off seen first keeps the count of pull failures without inventing a cause.
    expect(pullErrors(backingOff).get('web-new-a/nginx')).toBe('');
  });

  it('reports an unschedulable pod with the scheduler message', () => {
    const pending = pod('web-new-b', 'web-new', {
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/3 nodes are available: 3 Insufficient cpu.',
        },
      ],
    });
    expect(failingPods([pending], 'web-new', new Map())).toEqual([
      {
        name: 'web-new-b',
        container: '',
        reason: 'Unschedulable',
        message: '0/3 nodes are available: 3 Insufficient cpu.',
      },
    ]);
  });

  it('adds the last exit of a crash-looping container', () => {
    const crashing = pod('web-new-c', 'web-new', {
      containerStatuses: [
        {
          name: 'nginx',
          image: 'nginx',
          imageID: '',
          ready: false,
          restartCount: 4,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error' } },
        },
      ],
    });
    expect(failingPods([crashing], 'web-new', new Map())[0]?.message).toBe(
      'back-off 40s restarting failed container (last exit code 1, Error)',
    );
  });

  it('ignores the failures of pods of an older revision', () => {
    expect(
      failingPods([pod('web-old-a', 'web-old', waiting('ImagePullBackOff', 'old image'))], 'web-new', new Map()),
    ).toEqual([]);
  });
});

describe('withFailingPods', () => {
  const progressing = deploymentRollout(
    deployment({ generation: 2, observed: 2, desired: 2, replicas: 2, updated: 2, available: 0 }),
  );

  it('fails a progressing rollout with the first pod reason and at most five pods', () => {
    const many = Array.from({ length: 7 }, (_, i) => ({
      name: `p${i}`,
      container: 'nginx',
      reason: 'ImagePullBackOff',
      message: '',
    }));
    const failed = withFailingPods(progressing, many);
    expect(failed).toMatchObject({ state: 'failed', reason: 'ImagePullBackOff' });
    expect(failed.pods).toHaveLength(5);
  });

  it('leaves a rollout without failing pods as it is', () => {
    expect(withFailingPods(progressing, [])).toEqual(progressing);
  });
});
