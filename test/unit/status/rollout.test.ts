import { describe, expect, it } from '@jest/globals';
import {
  currentReplicaSet,
  currentReplicaSetName,
  deploymentRollout,
  judgePods,
  NO_MEMORY,
  withPods,
  type PodReport,
} from '../../../src/status/rollout.js';
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
    expect(currentReplicaSet(subject, [owned('web-old', '1'), owned('web-new', '2')])?.metadata?.name).toBe('web-new');
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

const PERSIST_MS = 30_000;
const T0 = 1_800_000_000_000;
const judge = (pods: V1Pod[], memory = NO_MEMORY, now = T0) => judgePods(pods, 'web-new', memory, now, PERSIST_MS);

// The kubelet's and containerd's own words (kubelet pkg/kubelet/images/image_manager.go; containerd's CRI image
// service; the distribution spec's error codes), as they reach a pod's status.
const NOT_FOUND =
  'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.30.9": failed to ' +
  'resolve reference "docker.io/library/nginx:1.30.9": docker.io/library/nginx:1.30.9: not found';
const TIMEOUT =
  'rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/nginx:1.30.9": failed to ' +
  'resolve reference "docker.io/library/nginx:1.30.9": failed to do request: Head ' +
  '"https://registry-1.docker.io/v2/library/nginx/manifests/1.30.9": dial tcp 203.0.113.10:443: i/o timeout';
const backOff = (pullError?: string): string =>
  `Back-off pulling image "nginx:1.30.9"${pullError === undefined ? '' : `: ErrImagePull: ${pullError}`}`;

describe('judgePods', () => {
  it.each(['CrashLoopBackOff', 'CreateContainerConfigError', 'InvalidImageName', 'ErrImageNeverPull'])(
    'fails at once on %s',
    (reason) => {
      expect(judge([pod('web-new-a', 'web-new', waiting(reason, 'kubelet says'))]).failing).toEqual([
        { name: 'web-new-a', container: 'nginx', reason, message: 'kubelet says' },
      ]);
    },
  );

  it.each<[string, string, string, 'failing' | 'waiting']>([
    ['a missing tag (containerd)', 'ErrImagePull', NOT_FOUND, 'failing'],
    ['a missing tag, backing off (kubelet >= 1.32)', 'ImagePullBackOff', backOff(NOT_FOUND), 'failing'],
    ['an unknown manifest', 'ErrImagePull', 'manifest unknown: manifest unknown', 'failing'],
    [
      'a private repository',
      'ErrImagePull',
      'failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized',
      'failing',
    ],
    [
      'denied access',
      'ErrImagePull',
      'pull access denied, repository does not exist or may require authorization',
      'failing',
    ],
    ['an invalid reference', 'ErrImagePull', 'invalid reference format', 'failing'],
    ['a registry timeout', 'ErrImagePull', TIMEOUT, 'waiting'],
    ['a registry timeout, backing off', 'ImagePullBackOff', backOff(TIMEOUT), 'waiting'],
    ['a rate limit', 'ErrImagePull', 'toomanyrequests: You have reached your pull rate limit.', 'waiting'],
    ['a 5xx', 'ErrImagePull', 'unexpected status from HEAD request: 503 Service Unavailable', 'waiting'],
    ['a back-off that says nothing more (kubelet < 1.32)', 'ImagePullBackOff', backOff(), 'waiting'],
  ])('judges a pull that failed with %s as %s', (_label, reason, message, verdict) => {
    const verdicts = judge([pod('web-new-a', 'web-new', waiting(reason, message))]);

    expect(verdicts[verdict]).toEqual([{ name: 'web-new-a', container: 'nginx', reason, message }]);
    expect(verdicts[verdict === 'failing' ? 'waiting' : 'failing']).toEqual([]);
  });

  it("explains a kubelet < 1.32's back-off with the pull error it saw before, and fails on it", () => {
    const pulled = judge([pod('web-new-a', 'web-new', waiting('ErrImagePull', NOT_FOUND))]);

    const backingOff = judge([pod('web-new-a', 'web-new', waiting('ImagePullBackOff', backOff()))], pulled.memory);

    expect(backingOff.failing).toEqual([
      { name: 'web-new-a', container: 'nginx', reason: 'ImagePullBackOff', message: `${backOff()}: ${NOT_FOUND}` },
    ]);
  });

  it("does not repeat the pull error a kubelet >= 1.32's back-off already carries", () => {
    const pulled = judge([pod('web-new-a', 'web-new', waiting('ErrImagePull', NOT_FOUND))]);

    const backingOff = judge(
      [pod('web-new-a', 'web-new', waiting('ImagePullBackOff', backOff(NOT_FOUND)))],
      pulled.memory,
    );

    expect(backingOff.failing[0]?.message).toBe(backOff(NOT_FOUND));
  });

  it.each(['CreateContainerError', 'RunContainerError'])(
    'waits on %s until it has lasted the persistence time, then fails',
    (reason) => {
      const stuck = [pod('web-new-a', 'web-new', waiting(reason, 'failed to reserve container name'))];

      const first = judge(stuck, NO_MEMORY, T0);
      const before = judge(stuck, first.memory, T0 + PERSIST_MS - 1);
      const after = judge(stuck, before.memory, T0 + PERSIST_MS);

      expect(first).toMatchObject({ failing: [], waiting: [expect.objectContaining({ reason })] });
      expect(before).toMatchObject({ failing: [], waiting: [expect.objectContaining({ reason })] });
      expect(after).toMatchObject({ waiting: [], failing: [expect.objectContaining({ reason })] });
    },
  );

  it('starts the persistence time again for a container that got past the error in between', () => {
    const stuck = [pod('web-new-a', 'web-new', waiting('CreateContainerError', 'name is reserved'))];
    const first = judge(stuck, NO_MEMORY, T0);
    const cleared = judge([pod('web-new-a', 'web-new', waiting('ContainerCreating', ''))], first.memory, T0 + 1000);

    const again = judge(stuck, cleared.memory, T0 + PERSIST_MS);

    expect(again.failing).toEqual([]);
    expect(again.waiting).toHaveLength(1);
  });

  it('lets an unschedulable pod wait, with the scheduler message', () => {
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

    expect(judge([pending])).toMatchObject({
      failing: [],
      waiting: [
        {
          name: 'web-new-b',
          container: '',
          reason: 'Unschedulable',
          message: '0/3 nodes are available: 3 Insufficient cpu.',
        },
      ],
    });
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
    expect(judge([crashing]).failing[0]?.message).toBe(
      'back-off 40s restarting failed container (last exit code 1, Error)',
    );
  });

  it('ignores the pods of an older revision', () => {
    expect(judge([pod('web-old-a', 'web-old', waiting('CrashLoopBackOff', 'old image'))])).toMatchObject({
      failing: [],
      waiting: [],
    });
  });
});

describe('withPods', () => {
  const progressing = deploymentRollout(
    deployment({ generation: 2, observed: 2, desired: 2, replicas: 2, updated: 2, available: 0 }),
  );
  const reports = (count: number, reason: string): PodReport[] =>
    Array.from({ length: count }, (_, i) => ({ name: `p${i}`, container: 'nginx', reason, message: '' }));

  it('fails a progressing rollout with the first failing pod reason and at most five pods', () => {
    const failed = withPods(progressing, {
      failing: reports(7, 'ImagePullBackOff'),
      waiting: reports(2, 'Unschedulable'),
    });

    expect(failed).toMatchObject({ state: 'failed', reason: 'ImagePullBackOff' });
    expect(failed.pods).toHaveLength(5);
    expect(failed.pods?.every((pod) => pod.reason === 'ImagePullBackOff')).toBe(true);
  });

  it('keeps a rollout with only waiting pods progressing, and names them', () => {
    const waited = withPods(progressing, { failing: [], waiting: reports(6, 'Unschedulable') });

    expect(waited).toMatchObject({
      state: 'progressing',
      message: expect.stringContaining('6 pods waiting (Unschedulable)'),
    });
    expect(waited.pods).toHaveLength(5);
  });

  it('names the waiting pods of a rollout past its progress deadline', () => {
    const expired = deploymentRollout(
      deployment({
        generation: 2,
        observed: 2,
        desired: 2,
        replicas: 2,
        updated: 2,
        available: 0,
        progressing: 'ProgressDeadlineExceeded',
      }),
    );

    expect(withPods(expired, { failing: [], waiting: reports(1, 'Unschedulable') })).toMatchObject({
      state: 'failed',
      reason: 'ProgressDeadlineExceeded',
      pods: [expect.objectContaining({ reason: 'Unschedulable' })],
    });
  });

  it('leaves a rollout without pods to report as it is', () => {
    expect(withPods(progressing, { failing: [], waiting: [] })).toEqual(progressing);
  });
});
