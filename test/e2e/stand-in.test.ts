import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mintEksToken } from '../../src/aws/token.js';
import { ACCESS_KEY_ID, CLUSTER_NAME, GROUP, ROLE_USER, SECRET_ACCESS_KEY, SESSION_TOKEN } from '../support/fixture.js';
import { useTestBed } from '../support/hooks.js';
import { at } from '../support/json.js';
import type { JsonObject } from '../support/kube-apiserver.js';
import { wire, type WireAnswer, type WireRequest } from '../support/kube-client.js';
import { kubectlFor, type Kubectl } from '../support/kubectl.js';
import { until } from '../support/until.js';

// The stand-in against the real kubectl (v1.32): what kubectl prints must be what it prints against a real cluster.
// Then the answers kubectl does not show in full, checked at the wire against the kube-apiserver sources.
// The stand-in's clock is this file's: the simulated cluster moves only when a test moves the clock.

let clock = Date.now();
const advance = (ms: number): void => {
  clock += ms;
};
// Timestamps have whole seconds: each test starts on one, so the ages kubectl prints do not depend on the start.
beforeEach(() => {
  clock = Math.ceil(clock / 1000) * 1000;
});

const IMAGE = 'nginx:1.27.0';
const MISSING_TAG = 'nginx:1.30.9';
const CRASHING = 'busybox:1.36';
const OBSERVE_MS = 100;
const READY_MS = 1000;

const scope = useTestBed({
  overrides: {
    now: () => clock,
    cluster: {
      observeDelayMs: OBSERVE_MS,
      podReadyDelayMs: READY_MS,
      images: {
        [MISSING_TAG]: { pull: 'not-found' },
        [CRASHING]: { crash: { exitCode: 1, afterMs: 500 } },
        'nginx:huge': { unschedulable: true },
      },
    },
  },
});

let kubectl: Kubectl;
let call: (method: string, path: string, options?: WireRequest) => Promise<WireAnswer>;

beforeAll(async () => {
  const token = await mintEksToken({
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SESSION_TOKEN },
    region: 'us-west-2',
    clusterName: CLUSTER_NAME,
    signingDate: new Date(clock),
  });
  kubectl = kubectlFor(scope.bed.server.url, scope.bed.pki.caData, token);
  call = wire(scope.bed.server.url, scope.bed.pki.ca.cert, token);
});

afterAll(() => {
  kubectl.close();
});

function deployment(name: string, image: string, replicas: number, extraSpec: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: image.startsWith('busybox') ? 'app' : 'nginx', image, ports: [{ containerPort: 80 }] }],
        },
      },
      ...extraSpec,
    },
  };
}

async function getJson(...args: string[]): Promise<unknown> {
  const result = await kubectl.run(['get', ...args, '-o', 'json', '--show-managed-fields']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout);
}

async function createWith(kubectlManifest: JsonObject, file: string): Promise<string> {
  const path = kubectl.manifest(file, kubectlManifest);
  expect(await kubectl.run(['create', '-f', path])).toMatchObject({ code: 0 });
  return path;
}

function managerNamed(object: unknown, manager: string): unknown {
  const entries = at(object, 'metadata', 'managedFields');
  return Array.isArray(entries) ? entries.find((entry: unknown) => at(entry, 'manager') === manager) : undefined;
}

describe('the API stand-in, as kubectl v1.32 sees it', () => {
  it('creates a Deployment, then refuses the same name with AlreadyExists as kubectl prints it', async () => {
    const path = kubectl.manifest('web.yaml', deployment('web', IMAGE, 2));

    const first = await kubectl.run(['create', '-f', path]);
    const second = await kubectl.run(['create', '-f', path]);

    expect(first).toEqual({ code: 0, stdout: 'deployment.apps/web created\n', stderr: '' });
    expect(second).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error from server (AlreadyExists): error when creating "${path}": deployments.apps "web" already exists\n`,
    });
  });

  it('refuses unknown fields: strictly on create, and as not in the schema on a server-side apply', async () => {
    const typo = deployment('web', IMAGE, 2, { replica: 2 });
    const path = kubectl.manifest('typo.yaml', typo);

    const created = await kubectl.run(['create', '-f', path]);
    const applied = await kubectl.run(['apply', '--server-side', '-f', path]);

    expect(created).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `Error from server (BadRequest): error when creating "${path}": Deployment in version "v1" cannot be handled ` +
        'as a Deployment: strict decoding error: unknown field "spec.replica"\n',
    });
    expect(applied).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'Error from server: failed to create typed patch object (default/web; apps/v1, Kind=Deployment): ' +
        '.spec.replica: field not declared in schema\n',
    });
  });

  it('reports a rollout waiting to be observed, then for available replicas, then complete', async () => {
    await createWith(deployment('web', IMAGE, 2), 'web.yaml');
    const status = (): ReturnType<Kubectl['run']> =>
      kubectl.run(['rollout', 'status', 'deployment/web', '--watch=false']);

    const unobserved = await status();
    advance(OBSERVE_MS);
    const waiting = await status();
    advance(READY_MS);
    const complete = await status();

    expect(unobserved).toEqual({
      code: 0,
      stdout: 'Waiting for deployment spec update to be observed...\n',
      stderr: '',
    });
    expect(waiting).toEqual({
      code: 0,
      stdout: 'Waiting for deployment "web" rollout to finish: 0 of 2 updated replicas are available...\n',
      stderr: '',
    });
    expect(complete).toEqual({ code: 0, stdout: 'deployment "web" successfully rolled out\n', stderr: '' });
  });

  it('rolls a new template out within maxSurge and maxUnavailable, as kubectl rollout status follows it', async () => {
    await createWith(deployment('web', IMAGE, 2), 'web.yaml');
    advance(OBSERVE_MS + READY_MS);
    const next = kubectl.manifest('web-next.yaml', deployment('web', 'nginx:1.27.1', 2));
    const status = (): ReturnType<Kubectl['run']> =>
      kubectl.run(['rollout', 'status', 'deployment/web', '--watch=false']);

    expect(await kubectl.run(['apply', '--server-side', '--force-conflicts', '-f', next])).toMatchObject({ code: 0 });
    advance(OBSERVE_MS);
    const surging = await status();
    advance(READY_MS);
    const draining = await status();
    const replicaSets = await kubectl.run([
      'get',
      'rs',
      '-l',
      'app=web',
      '--no-headers',
      '--sort-by=.metadata.annotations.deployment\\.kubernetes\\.io/revision',
    ]);
    advance(READY_MS);
    const complete = await status();
    const history = await kubectl.run(['rollout', 'history', 'deployment/web']);

    expect(surging.stdout).toBe(
      'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...\n',
    );
    expect(draining.stdout).toBe(
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...\n',
    );
    expect(replicaSets.stdout).toMatch(/^web-\S+\s+1\s+1\s+1\s+\S+\nweb-\S+\s+2\s+2\s+1\s+\S+\n$/);
    expect(complete.stdout).toBe('deployment "web" successfully rolled out\n');
    expect(history.stdout).toMatch(/^deployment\.apps\/web \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n\n$/);
  });

  it('shows the creator and the controller in managedFields, the defaults, and the status of a rollout', async () => {
    await createWith(deployment('web', IMAGE, 2), 'web.yaml');
    advance(OBSERVE_MS + READY_MS);

    const object = await getJson('deployment', 'web');
    const replicaSets = await getJson('replicasets', '-l', 'app=web');

    const rs = at(replicaSets, 'items', 0);
    const hash = at(rs, 'metadata', 'labels', 'pod-template-hash');
    expect(typeof hash).toBe('string');
    expect(at(rs, 'metadata', 'name')).toBe(`web-${String(hash)}`);
    expect(at(rs, 'metadata')).toMatchObject({
      annotations: {
        'deployment.kubernetes.io/revision': '1',
        'deployment.kubernetes.io/desired-replicas': '2',
        'deployment.kubernetes.io/max-replicas': '3',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'web',
          uid: at(object, 'metadata', 'uid'),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(managerNamed(object, 'kubectl-create')).toMatchObject({
      operation: 'Update',
      apiVersion: 'apps/v1',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': {
          'f:progressDeadlineSeconds': {},
          'f:replicas': {},
          'f:revisionHistoryLimit': {},
          'f:selector': {},
          'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} },
          'f:template': {
            'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
            'f:spec': {
              'f:containers': {
                'k:{"name":"nginx"}': {
                  '.': {},
                  'f:image': {},
                  'f:imagePullPolicy': {},
                  'f:name': {},
                  'f:ports': {
                    '.': {},
                    'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} },
                  },
                  'f:resources': {},
                  'f:terminationMessagePath': {},
                  'f:terminationMessagePolicy': {},
                },
              },
              'f:dnsPolicy': {},
              'f:restartPolicy': {},
              'f:schedulerName': {},
              'f:securityContext': {},
              'f:terminationGracePeriodSeconds': {},
            },
          },
        },
      },
    });
    expect(managerNamed(object, 'kube-controller-manager')).toMatchObject({
      operation: 'Update',
      subresource: 'status',
      fieldsV1: {
        'f:metadata': { 'f:annotations': { '.': {}, 'f:deployment.kubernetes.io/revision': {} } },
        'f:status': { 'f:availableReplicas': {}, 'f:observedGeneration': {}, 'f:replicas': {} },
      },
    });
    expect(object).toMatchObject({
      metadata: { generation: 1, annotations: { 'deployment.kubernetes.io/revision': '1' } },
      spec: {
        progressDeadlineSeconds: 600,
        revisionHistoryLimit: 10,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        template: {
          metadata: { creationTimestamp: null },
          spec: {
            containers: [
              {
                imagePullPolicy: 'IfNotPresent',
                resources: {},
                terminationMessagePath: '/dev/termination-log',
                terminationMessagePolicy: 'File',
                ports: [{ containerPort: 80, protocol: 'TCP' }],
              },
            ],
            dnsPolicy: 'ClusterFirst',
            restartPolicy: 'Always',
            schedulerName: 'default-scheduler',
            securityContext: {},
            terminationGracePeriodSeconds: 30,
          },
        },
      },
      status: {
        observedGeneration: 1,
        replicas: 2,
        updatedReplicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
        conditions: [
          {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: 'Deployment has minimum availability.',
          },
          {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            message: `ReplicaSet "web-${String(hash)}" has successfully progressed.`,
          },
        ],
      },
    });
    expect(at(object, 'status', 'unavailableReplicas')).toBeUndefined();
  });

  it('prints an apply conflict with the creator, takes the field with --force-conflicts, and lists conflicts per manager', async () => {
    await createWith(deployment('web', IMAGE, 2), 'web.yaml');
    const three = kubectl.manifest('web-3.yaml', deployment('web', IMAGE, 3));
    const other = kubectl.manifest('web-4.yaml', deployment('web', 'nginx:1.27.1', 4));

    const refused = await kubectl.run(['apply', '--server-side', '-f', three]);
    const forced = await kubectl.run(['apply', '--server-side', '--force-conflicts', '-f', three]);
    const object = await getJson('deployment', 'web');
    const twoManagers = await kubectl.run(['apply', '--server-side', '--field-manager', 'other', '-f', other]);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'error: Apply failed with 1 conflict: conflict with "kubectl-create" using apps/v1: .spec.replicas\n' +
        'Please review the fields above--they currently have other managers. Here\n' +
        'are the ways you can resolve this warning:\n' +
        '* If you intend to manage all of these fields, please re-run the apply\n' +
        '  command with the `--force-conflicts` flag.\n' +
        '* If you do not intend to manage all of the fields, please edit your\n' +
        '  manifest to remove references to the fields that should keep their\n' +
        '  current managers.\n' +
        '* You may co-own fields by updating your manifest to match the existing\n' +
        "  value; in this case, you'll become the manager if the other manager(s)\n" +
        '  stop managing the field (remove it from their configuration).\n' +
        'See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts\n',
    );
    expect(forced).toEqual({ code: 0, stdout: 'deployment.apps/web serverside-applied\n', stderr: '' });
    expect(at(object, 'spec', 'replicas')).toBe(3);
    expect(managerNamed(object, 'kubectl')).toMatchObject({
      operation: 'Apply',
      fieldsV1: { 'f:spec': { 'f:replicas': {} } },
    });
    expect(at(managerNamed(object, 'kubectl-create'), 'fieldsV1', 'f:spec', 'f:replicas')).toBeUndefined();
    expect(twoManagers.code).toBe(1);
    expect(twoManagers.stderr).toMatch(
      new RegExp(
        '^error: Apply failed with 3 conflicts: conflicts with "kubectl":\n' +
          '- \\.spec\\.replicas\n' +
          '- \\.spec\\.template\\.spec\\.containers\\[name="nginx"\\]\\.image\n' +
          'conflicts with "kubectl-create" using apps/v1:\n' +
          '- \\.spec\\.template\\.spec\\.containers\\[name="nginx"\\]\\.image\n' +
          'Please review the fields above',
      ),
    );
  });

  it('prints the pods of a rollout, running for one image and failing to pull for a missing tag', async () => {
    await createWith(deployment('web', IMAGE, 2), 'web.yaml');
    await createWith(deployment('broken', MISSING_TAG, 1), 'broken.yaml');
    advance(OBSERVE_MS + READY_MS);

    const running = await kubectl.run(['get', 'pods', '-l', 'app=web']);
    const pulling = await kubectl.run(['get', 'pods', '-l', 'app=broken', '--no-headers']);
    advance(1000);
    const backingOff = await kubectl.run(['get', 'pods', '-l', 'app=broken', '--no-headers']);
    const message = await kubectl.run([
      'get',
      'pods',
      '-l',
      'app=broken',
      '-o',
      'jsonpath={.items[0].status.containerStatuses[0].state.waiting.message}',
    ]);

    const lines = running.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines.slice(1)).toHaveLength(2);
    for (const line of lines.slice(1))
      expect(line).toMatch(/^web-[b-df-hj-np-tv-z2-9]+-[b-df-hj-np-tv-z2-9]{5}\s+1\/1\s+Running\s+0\s+1s$/);
    expect(pulling.stdout).toMatch(/^broken-\w+-\w{5}\s+0\/1\s+ErrImagePull\s+0\s+1s\n$/);
    expect(backingOff.stdout).toMatch(/^broken-\w+-\w{5}\s+0\/1\s+ImagePullBackOff\s+0\s+2s\n$/);
    expect(message.stdout).toBe(`Back-off pulling image "${MISSING_TAG}"`);
    // The first back-off is 10 s from the first failure, 1.1 s after creation; then the kubelet pulls again.
    advance(9500);
    const pullingAgain = await kubectl.run(['get', 'pods', '-l', 'app=broken', '--no-headers']);
    expect(pullingAgain.stdout).toMatch(/^broken-\w+-\w{5}\s+0\/1\s+ErrImagePull\s+0\s+11s\n$/);
  });

  it('fails kubectl rollout status once the progress deadline has passed', async () => {
    await createWith(deployment('broken', MISSING_TAG, 1, { progressDeadlineSeconds: 2 }), 'broken.yaml');
    advance(OBSERVE_MS + READY_MS);
    const before = await kubectl.run(['rollout', 'status', 'deployment/broken', '--watch=false']);
    advance(4000);

    const after = await kubectl.run(['rollout', 'status', 'deployment/broken', '--watch=false']);
    const object = await getJson('deployment', 'broken');

    expect(before).toEqual({
      code: 0,
      stdout: 'Waiting for deployment "broken" rollout to finish: 0 of 1 updated replicas are available...\n',
      stderr: '',
    });
    expect(after).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: deployment "broken" exceeded its progress deadline\n',
    });
    expect(at(object, 'status', 'conditions')).toEqual([
      expect.objectContaining({
        type: 'Available',
        status: 'False',
        reason: 'MinimumReplicasUnavailable',
        message: 'Deployment does not have minimum availability.',
      }),
      expect.objectContaining({
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: expect.stringMatching(/^ReplicaSet "broken-\w+" has timed out progressing\.$/),
      }),
    ]);
  });

  it('deletes in the foreground: pods, then ReplicaSets, then the Deployment, and NotFound after', async () => {
    await createWith(deployment('web', IMAGE, 2), 'web.yaml');
    advance(OBSERVE_MS + READY_MS);

    const deleted = await kubectl.run(['delete', 'deployment', 'web', '--cascade=foreground', '--wait=false']);
    const marked = await getJson('deployment', 'web');
    advance(25);
    const podsWhileDeleting = await kubectl.run(['get', 'pods', '-l', 'app=web', '--no-headers']);
    const replicaSetsWhileDeleting = await kubectl.run(['get', 'rs', '-l', 'app=web', '--no-headers']);
    const deploymentWhileDeleting = await kubectl.run(['get', 'deployment', 'web', '--no-headers']);
    advance(1000);
    const gone = await kubectl.run(['get', 'deployment', 'web']);
    const replicaSetsAfter = await kubectl.run(['get', 'rs', '-l', 'app=web']);

    expect(deleted).toEqual({ code: 0, stdout: 'deployment.apps "web" deleted\n', stderr: '' });
    expect(at(marked, 'metadata', 'finalizers')).toEqual(['foregroundDeletion']);
    expect(typeof at(marked, 'metadata', 'deletionTimestamp')).toBe('string');
    expect(podsWhileDeleting.stdout).toMatch(/^(web-\S+\s+\d\/1\s+Terminating\s+0\s+\S+\n){2}$/);
    expect(replicaSetsWhileDeleting.stdout).toMatch(/^web-\S+\s+2\s+0\s+\d\s+\S+\n$/);
    expect(deploymentWhileDeleting.code).toBe(0);
    expect(gone).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error from server (NotFound): deployments.apps "web" not found\n',
    });
    expect(replicaSetsAfter).toEqual({ code: 0, stdout: '', stderr: 'No resources found in default namespace.\n' });
  });

  it('prints a 403 in the real words for a verb the identity lacks, and for one revoked at run time', async () => {
    const lockedDelete = await kubectl.run(['delete', 'deployment', 'web', '-n', 'locked']);
    scope.bed.server.revoke('default', 'apps', 'deployments', ['list'], GROUP);
    const revokedList = await kubectl.run(['get', 'deployments']);

    expect(lockedDelete).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `Error from server (Forbidden): deployments.apps "web" is forbidden: User "${ROLE_USER}" cannot delete ` +
        'resource "deployments" in API group "apps" in the namespace "locked"\n',
    });
    expect(revokedList).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `Error from server (Forbidden): deployments.apps is forbidden: User "${ROLE_USER}" cannot list resource ` +
        '"deployments" in API group "apps" in the namespace "default"\n',
    });
  });
});

describe('the API stand-in at the wire', () => {
  const collection = (namespace = 'default'): string => `/apis/apps/v1/namespaces/${namespace}/deployments`;
  const post = (object: JsonObject, namespace = 'default'): Promise<WireAnswer> =>
    call('POST', `${collection(namespace)}?fieldManager=lambda-eks`, { body: object });
  const apply = (
    name: string,
    object: JsonObject,
    query = 'fieldManager=lambda-eks',
    namespace = 'default',
  ): Promise<WireAnswer> =>
    call('PATCH', `${collection(namespace)}/${name}?${query}`, {
      body: object,
      contentType: 'application/apply-patch+yaml',
    });
  const status = (code: number, reason: string, message: string, details?: JsonObject): JsonObject => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  });
  const managers = (answer: WireAnswer): unknown[] => {
    const entries = at(answer.body, 'metadata', 'managedFields');
    return Array.isArray(entries)
      ? entries.map((entry: unknown) => [at(entry, 'manager'), at(entry, 'operation')])
      : [];
  };

  it('conflicts with its own Update entry when an apply changes what its POST set, and co-owns what it leaves equal', async () => {
    await post(deployment('web', IMAGE, 2));

    const refused = await apply('web', deployment('web', IMAGE, 3));
    const shared = await apply('web', deployment('web', IMAGE, 2));
    const again = await apply('web', deployment('web', IMAGE, 2));

    expect(refused).toEqual({
      status: 409,
      contentType: 'application/json',
      body: status(
        409,
        'Conflict',
        'Apply failed with 1 conflict: conflict with "lambda-eks" using apps/v1: .spec.replicas',
        {
          causes: [
            {
              reason: 'FieldManagerConflict',
              message: 'conflict with "lambda-eks" using apps/v1',
              field: '.spec.replicas',
            },
          ],
        },
      ),
    });
    expect(shared.status).toBe(200);
    expect(managers(shared)).toEqual([
      ['lambda-eks', 'Apply'],
      ['lambda-eks', 'Update'],
    ]);
    expect(at(again.body, 'metadata', 'resourceVersion')).toBe(at(shared.body, 'metadata', 'resourceVersion'));
    expect(at(again.body, 'metadata', 'generation')).toBe(1);
  });

  it('lets a test apply as another manager, whose Apply entry conflicts without an API version', async () => {
    await post(deployment('web', IMAGE, 2));

    const refused = scope.bed.server.applyAs('helm', {
      ...deployment('web', IMAGE, 3),
      metadata: { name: 'web', namespace: 'default' },
    });
    const forced = scope.bed.server.applyAs(
      'helm',
      { ...deployment('web', IMAGE, 3), metadata: { name: 'web', namespace: 'default' } },
      { force: true },
    );
    const back = await apply('web', deployment('web', IMAGE, 2));

    expect(at(refused.body, 'message')).toBe(
      'Apply failed with 1 conflict: conflict with "lambda-eks" using apps/v1: .spec.replicas',
    );
    expect(forced.status).toBe(200);
    expect(back.body).toEqual(
      status(409, 'Conflict', 'Apply failed with 1 conflict: conflict with "helm": .spec.replicas', {
        causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "helm"', field: '.spec.replicas' }],
      }),
    );
  });

  it('answers 201 to an apply that creates, owns only what it sent, and bumps generation for spec and annotations', async () => {
    const created = await apply('api', deployment('api', IMAGE, 1));
    const scaled = await apply('api', deployment('api', IMAGE, 2));
    const labelled = await apply('api', {
      ...deployment('api', IMAGE, 2),
      metadata: { name: 'api', labels: { app: 'api', tier: 'web' } },
    });
    const annotated = await apply('api', {
      ...deployment('api', IMAGE, 2),
      metadata: { name: 'api', labels: { app: 'api' }, annotations: { team: 'a' } },
    });

    expect(created.status).toBe(201);
    expect(managers(created)).toEqual([['lambda-eks', 'Apply']]);
    expect(at(created.body, 'metadata', 'managedFields', 0, 'fieldsV1', 'f:spec', 'f:strategy')).toBeUndefined();
    expect(at(created.body, 'spec', 'strategy')).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
    });
    expect([scaled.status, at(scaled.body, 'metadata', 'generation')]).toEqual([200, 2]);
    expect([at(labelled.body, 'metadata', 'labels'), at(labelled.body, 'metadata', 'generation')]).toEqual([
      { app: 'api', tier: 'web' },
      2,
    ]);
    expect([at(annotated.body, 'metadata', 'labels'), at(annotated.body, 'metadata', 'generation')]).toEqual([
      { app: 'api' },
      3,
    ]);
  });

  it('refuses a stale resourceVersion, and answers a dry run with the live resourceVersion without storing it', async () => {
    const live = await apply('api', deployment('api', IMAGE, 1));
    const version = at(live.body, 'metadata', 'resourceVersion');

    const stale = await apply('api', {
      ...deployment('api', IMAGE, 1),
      metadata: { name: 'api', resourceVersion: '1' },
    });
    const dryRun = await apply('api', deployment('api', IMAGE, 5), 'fieldManager=lambda-eks&dryRun=All');
    const stored = await call('GET', `${collection()}/api`);

    expect(stale.body).toEqual(
      status(
        409,
        'Conflict',
        'Operation cannot be fulfilled on deployments.apps "api": the object has been modified; please apply your changes to the latest version and try again',
        { name: 'api', group: 'apps', kind: 'deployments' },
      ),
    );
    expect(dryRun.status).toBe(200);
    expect(at(dryRun.body, 'metadata', 'resourceVersion')).toBe(version);
    expect(at(dryRun.body, 'metadata', 'generation')).toBe(2);
    expect(at(dryRun.body, 'spec', 'replicas')).toBe(5);
    expect([at(stored.body, 'metadata', 'resourceVersion'), at(stored.body, 'spec', 'replicas')]).toEqual([version, 1]);
  });

  it('rejects an apply without fieldManager, force on a merge patch, and a name unlike the URL', async () => {
    const noManager = await apply('api', deployment('api', IMAGE, 1), '');
    const forced = await call('PATCH', `${collection()}/api?force=true`, {
      body: { spec: { replicas: 2 } },
      contentType: 'application/merge-patch+json',
    });
    const misnamed = await apply('other', deployment('api', IMAGE, 1));

    expect(noManager.body).toEqual(
      status(
        422,
        'Invalid',
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        {
          group: 'meta.k8s.io',
          kind: 'PatchOptions',
          causes: [
            {
              reason: 'FieldValueRequired',
              message: 'Required value: is required for apply patch',
              field: 'fieldManager',
            },
          ],
        },
      ),
    );
    expect(at(forced.body, 'message')).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    );
    expect(misnamed.body).toEqual(
      status(400, 'BadRequest', 'the name of the object (api) does not match the name on the URL (other)'),
    );
  });

  it('authorizes an apply that creates as a create too, and checks the namespace after', async () => {
    scope.bed.server.grant('locked', 'apps', 'deployments', ['patch'], GROUP);
    const patchOnly = await apply('api', deployment('api', IMAGE, 1), undefined, 'locked');
    scope.bed.server.revoke('locked', 'apps', 'deployments', ['patch'], GROUP);
    const nothing = await apply('api', deployment('api', IMAGE, 1), undefined, 'locked');
    const missing = await apply('api', deployment('api', IMAGE, 1), undefined, 'missing');

    expect(patchOnly.body).toEqual(
      status(403, 'Forbidden', 'deployments.apps "api" is forbidden: ', {
        name: 'api',
        group: 'apps',
        kind: 'deployments',
      }),
    );
    expect(at(nothing.body, 'message')).toBe(
      `deployments.apps "api" is forbidden: User "${ROLE_USER}" cannot patch resource "deployments" in API group "apps" in the namespace "locked"`,
    );
    expect(missing.body).toEqual(
      status(404, 'NotFound', 'namespaces "missing" not found', { name: 'missing', kind: 'namespaces' }),
    );
  });

  it('lists ReplicaSets and Pods by label selector, items without kind, and answers 404 for a missing Deployment', async () => {
    await post(deployment('web', IMAGE, 2));
    advance(OBSERVE_MS + READY_MS);

    const replicaSets = await call('GET', '/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb');
    const hash = String(at(replicaSets.body, 'items', 0, 'metadata', 'labels', 'pod-template-hash'));
    const pods = await call(
      'GET',
      `/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(`app=web,pod-template-hash=${hash}`)}`,
    );
    const none = await call(
      'GET',
      `/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent('app notin (web)')}`,
    );
    const absent = await call('GET', `${collection()}/nope`);

    expect(replicaSets.body).toMatchObject({
      kind: 'ReplicaSetList',
      apiVersion: 'apps/v1',
      metadata: { resourceVersion: expect.any(String) },
    });
    expect(at(replicaSets.body, 'items', 0, 'kind')).toBeUndefined();
    expect(at(replicaSets.body, 'items', 0, 'status')).toMatchObject({
      replicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    });
    expect(pods.body).toMatchObject({ kind: 'PodList', apiVersion: 'v1' });
    expect(at(pods.body, 'items', 'length')).toBe(2);
    expect(at(pods.body, 'items', 0, 'metadata', 'ownerReferences', 0)).toMatchObject({
      kind: 'ReplicaSet',
      name: `web-${hash}`,
      controller: true,
      blockOwnerDeletion: true,
    });
    expect(at(none.body, 'items')).toEqual([]);
    expect(absent.body).toEqual(
      status(404, 'NotFound', 'deployments.apps "nope" not found', {
        name: 'nope',
        group: 'apps',
        kind: 'deployments',
      }),
    );
  });

  it('deletes: a UID precondition that fails, a dry run, Background at once, Foreground kept with its finalizer', async () => {
    const created = await post(deployment('web', IMAGE, 1));
    const uid = String(at(created.body, 'metadata', 'uid'));
    await post(deployment('api', IMAGE, 1));
    const other = '00000000-0000-0000-0000-000000000000';

    const precondition = await call('DELETE', `${collection()}/web`, { body: { preconditions: { uid: other } } });
    const dryRun = await call('DELETE', `${collection()}/web?dryRun=All`);
    const stillThere = await call('GET', `${collection()}/web`);
    const background = await call('DELETE', `${collection()}/web`);
    const gone = await call('GET', `${collection()}/web`);
    advance(1000);
    const dependents = await call('GET', '/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb');
    const foreground = await call('DELETE', `${collection()}/api`, {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' },
    });
    const recreate = await post(deployment('api', IMAGE, 1));
    const sideways = await call('DELETE', `${collection()}/api?propagationPolicy=Sideways`);

    expect(precondition.body).toEqual(
      status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on Deployment.apps "web": the UID in the precondition (${other}) does not match the UID in record (${uid}). The object might have been deleted and then recreated`,
        { name: 'web', group: 'apps', kind: 'Deployment' },
      ),
    );
    expect(dryRun.status).toBe(200);
    expect(stillThere.status).toBe(200);
    expect(background).toEqual({
      status: 200,
      contentType: 'application/json',
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name: 'web', group: 'apps', kind: 'deployments', uid },
      },
    });
    expect(gone.status).toBe(404);
    expect(at(dependents.body, 'items')).toEqual([]);
    expect(foreground.status).toBe(200);
    expect(foreground.body).toMatchObject({
      kind: 'Deployment',
      metadata: { name: 'api', generation: 2, finalizers: ['foregroundDeletion'] },
    });
    expect(typeof at(foreground.body, 'metadata', 'deletionTimestamp')).toBe('string');
    expect(recreate.body).toEqual(
      status(409, 'AlreadyExists', 'object is being deleted: deployments.apps "api" already exists', {
        name: 'api',
        group: 'apps',
        kind: 'deployments',
      }),
    );
    expect(at(sideways.body, 'message')).toBe(
      'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan"',
    );
  });

  it('orphans the ReplicaSets of a Deployment deleted with Orphan, which the garbage collector then releases', async () => {
    await post(deployment('web', IMAGE, 1));
    advance(OBSERVE_MS + READY_MS);

    const orphaning = await call('DELETE', `${collection()}/web?propagationPolicy=Orphan`);
    advance(100);
    const deployment_ = await call('GET', `${collection()}/web`);
    const replicaSets = await call('GET', '/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb');

    expect(at(orphaning.body, 'metadata', 'finalizers')).toEqual(['orphan']);
    expect(deployment_.status).toBe(404);
    expect(at(replicaSets.body, 'items', 'length')).toBe(1);
    expect(at(replicaSets.body, 'items', 0, 'metadata', 'ownerReferences')).toBeUndefined();
  });

  it('answers admission refusals: quota (as a fault and as state), a terminating namespace, a webhook, a quota conflict', async () => {
    scope.bed.server.inject({ kind: 'quota-exceeded' });
    const quotaFault = await post(deployment('web', IMAGE, 1));
    const afterFault = await post(deployment('web', IMAGE, 1));
    scope.bed.server.setQuotas('team-a', { name: 'deployments', hard: { 'count/deployments.apps': 1 } });
    await post(deployment('a', IMAGE, 1), 'team-a');
    const quotaState = await post(deployment('b', IMAGE, 1), 'team-a');
    scope.bed.server.setQuotas('team-a');
    scope.bed.server.terminateNamespace('team-a');
    const terminating = await post(deployment('c', IMAGE, 1), 'team-a');
    scope.bed.server.inject(
      { kind: 'webhook-denied', webhook: 'validate.policy.example.com', message: 'images must come from our registry' },
      { kind: 'quota-conflict', quota: 'deployments' },
    );
    const webhook = await post(deployment('d', IMAGE, 1));
    const quotaConflict = await post(deployment('d', IMAGE, 1));

    expect(quotaFault.body).toEqual(
      status(
        403,
        'Forbidden',
        'deployments.apps "web" is forbidden: exceeded quota: object-counts, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1',
        { name: 'web', group: 'apps', kind: 'deployments' },
      ),
    );
    expect(afterFault.status).toBe(201);
    expect(at(quotaState.body, 'message')).toBe(
      'deployments.apps "b" is forbidden: exceeded quota: deployments, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1',
    );
    expect(terminating.body).toEqual(
      status(
        403,
        'Forbidden',
        'deployments.apps "c" is forbidden: unable to create new content in namespace team-a because it is being terminated',
        {
          name: 'c',
          group: 'apps',
          kind: 'deployments',
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: 'namespace team-a is being terminated',
              field: 'metadata.namespace',
            },
          ],
        },
      ),
    );
    expect(webhook.body).toEqual(
      status(
        403,
        'Forbidden',
        'admission webhook "validate.policy.example.com" denied the request: images must come from our registry',
      ),
    );
    expect(quotaConflict.body).toEqual(
      status(
        409,
        'Conflict',
        'Operation cannot be fulfilled on resourcequotas "deployments": the object has been modified; please apply your changes to the latest version and try again',
        { name: 'deployments', kind: 'resourcequotas' },
      ),
    );
  });

  it('reports what the kubelet and the scheduler say: a crash loop, an unschedulable pod, an invalid image name', async () => {
    await post(deployment('crash', CRASHING, 1));
    await post(deployment('huge', 'nginx:huge', 1));
    await post(deployment('upper', 'Nginx:1.27', 1));
    advance(OBSERVE_MS + READY_MS + 500 + 500);

    const pod = async (app: string): Promise<unknown> =>
      at((await call('GET', `/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).body, 'items', 0);
    const crash = await pod('crash');
    const huge = await pod('huge');
    const upper = await pod('upper');

    const name = String(at(crash, 'metadata', 'name'));
    expect(at(crash, 'status', 'phase')).toBe('Running');
    expect(at(crash, 'status', 'containerStatuses', 0)).toMatchObject({
      name: 'app',
      ready: false,
      restartCount: 1,
      started: false,
      state: {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off 10s restarting failed container=app pod=${name}_default(${String(at(crash, 'metadata', 'uid'))})`,
        },
      },
      lastState: { terminated: { exitCode: 1, reason: 'Error' } },
    });
    expect(at(huge, 'status')).toMatchObject({
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message:
            '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
        },
      ],
    });
    expect(at(upper, 'status', 'containerStatuses', 0, 'state', 'waiting')).toEqual({
      reason: 'InvalidImageName',
      message:
        'Failed to apply default image tag "Nginx:1.27": couldn\'t parse image name "Nginx:1.27": invalid reference format: repository name (library/Nginx) must be lowercase',
    });
  });

  it('streams a rollout to kubectl rollout status over a watch, as the cluster moves', async () => {
    await post(deployment('web', IMAGE, 2));
    const watching = kubectl.run(['rollout', 'status', 'deployment/web', '--timeout=15s']);
    await until(
      () => scope.bed.server.requests.some((request) => request.query.includes('watch=true')),
      'kubectl opened its watch',
    );
    advance(OBSERVE_MS + READY_MS);

    const result = await watching;

    expect(result.code).toBe(0);
    expect(result.stdout.endsWith('deployment "web" successfully rolled out\n')).toBe(true);
    expect(result.stdout.startsWith('Waiting for deployment spec update to be observed...\n')).toBe(true);
  });
});
