// kwok's stages for the local control plane: what a kubelet would report for pods, without containers. kwok applies a
// stage's statusTemplate (a Go template with sprig) as a strategic merge patch on the object's status when the
// stage's selector (gojq expressions) matches; the selectors below are exclusive, so kwok never picks between two at
// random. Based on kwok's kustomize/stage/{node,pod}/fast stages (sigs.k8s.io/kwok v0.8.0).
//
// The wording is the kubelet's and containerd's, so that the function is tested against what kubelets say:
// - ErrImagePull: kubelet pkg/kubelet/images/image_manager.go, evalCRIPullErr: the CRI's error as it is. containerd's
//   CRI image service says 'failed to pull and unpack image %q: %w', 'failed to resolve reference %q: %w', then
//   '<ref>: not found' for a missing tag, or 'failed to do request: Head "...": dial tcp ...: i/o timeout' for a
//   registry that does not answer; gRPC wraps it as 'rpc error: code = <code> desc = <message>'.
// - ImagePullBackOff: image_manager.go, 'Back-off pulling image %q'; since Kubernetes 1.32 followed by ': %s: %s', the
//   last pull error's reason and message (kubernetes/kubernetes#127918), which earlier kubelets said only while the
//   pod was in ErrImagePull.
// - CrashLoopBackOff: pkg/kubelet/kuberuntime/kuberuntime_manager.go, 'back-off %s restarting failed container=%s
//   pod=%s', the pod as name_namespace(uid) (pkg/kubelet/util/format.Pod).
// - CreateContainerError: kuberuntime_container.go, the runtime's message.
// Images are named as containerd names them: docker's reference normalisation (a bare name is docker.io/library/...).
import { stringify } from 'yaml';

/** The test image conventions, by the suffix of an image's tag (README, Tests). */
export const IMAGE_CONVENTIONS = {
  '-does-not-exist':
    'the image is missing: ErrImagePull and ImagePullBackOff, alternating, in the words of a kubelet >= 1.32 (the ' +
    'back-off message repeats the pull error)',
  '-does-not-exist-kubelet-1.31':
    'the same in the words of a kubelet before 1.32, whose back-off message is only "Back-off pulling image ..."',
  '-transient-pull-error':
    'one pull times out (ErrImagePull, then ImagePullBackOff with the timeout), then the registry answers and the ' +
    'pod runs',
  '-crashloop': 'the container starts and exits with code 1: CrashLoopBackOff',
  '-create-container-error': 'CreateContainerError that lasts (the runtime cannot create the container)',
} as const;

const MISSING_IMAGE = '-does-not-exist(-kubelet-1\\\\.31)?$';
const ANY_CONVENTION = `-(does-not-exist(-kubelet-1\\\\.31)?|transient-pull-error|crashloop|create-container-error)$`;

/** A jq expression: does any container's image match the regular expression? */
const anyImage = (regex: string): string => `[.spec.containers[].image | test("${regex}")] | any`;
/** A jq expression: is any container waiting for `reason`? */
const anyWaiting = (reason: string): string =>
  `[.status.containerStatuses[]?.state.waiting.reason] | any(. == "${reason}")`;

const NOT_DELETED = { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' };
const PENDING = { key: '.status.phase', operator: 'In', values: ['Pending'] };
const is = (key: string, value: boolean) => ({ key, operator: 'In', values: [String(value)] });

/** containerd's name for an image: `$ref`, set from `.image`. */
const REFERENCE = `{{ $ref := .image }}
{{ if not (regexMatch "^([^/]*[.:][^/]*|localhost)/" $ref) }}{{ if contains "/" $ref }}{{ $ref = printf "docker.io/%s" $ref }}{{ else }}{{ $ref = printf "docker.io/library/%s" $ref }}{{ end }}{{ end }}`;

const NOT_READY_CONDITIONS = `{{ $names := list }}{{ range .spec.containers }}{{ $names = append $names .name }}{{ end }}
{{ $unready := printf "containers with unready status: [%s]" (join " " $names) }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  message: {{ $unready | Quote }}
  reason: ContainersNotReady
  status: "False"
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  message: {{ $unready | Quote }}
  reason: ContainersNotReady
  status: "False"
  type: ContainersReady`;

const HOST_IP = `{{ with NodeIPWith .spec.nodeName }}
hostIP: {{ . | Quote }}
{{ end }}`;

const RUNNING = `{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: ContainersReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: true
  restartCount: 0
  started: true
  state:
    waiting: null
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
initContainerStatuses:
{{ range .spec.initContainers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: true
  restartCount: 0
  state:
    terminated:
      exitCode: 0
      finishedAt: {{ $now | Quote }}
      reason: Completed
      startedAt: {{ $now | Quote }}
{{ end }}
${HOST_IP}
{{ with PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
podIP: {{ . | Quote }}
{{ end }}
phase: Running
startTime: {{ $now | Quote }}`;

const IMAGE_NOT_FOUND = `{{ $now := Now }}
${NOT_READY_CONDITIONS}
containerStatuses:
{{ range .spec.containers }}
${REFERENCE}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  restartCount: 0
  started: false
  state:
    waiting:
{{ if regexMatch "${MISSING_IMAGE}" .image }}
      reason: ErrImagePull
      message: {{ printf "rpc error: code = NotFound desc = failed to pull and unpack image %q: failed to resolve reference %q: %s: not found" $ref $ref $ref | Quote }}
{{ else }}
      reason: ContainerCreating
{{ end }}
{{ end }}
${HOST_IP}
phase: Pending
startTime: {{ $now | Quote }}`;

const PULL_TIMEOUT = `{{ $now := Now }}
${NOT_READY_CONDITIONS}
containerStatuses:
{{ range .spec.containers }}
${REFERENCE}
{{ $repository := regexReplaceAll ":[^:/]+$" (trimPrefix "docker.io/" $ref) "" }}
{{ $tag := regexReplaceAll "^.*:" $ref "" }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  restartCount: 0
  started: false
  state:
    waiting:
{{ if hasSuffix "-transient-pull-error" .image }}
      reason: ErrImagePull
      message: {{ printf "rpc error: code = Unknown desc = failed to pull and unpack image %q: failed to resolve reference %q: failed to do request: Head %q: dial tcp 203.0.113.10:443: i/o timeout" $ref $ref (printf "https://registry-1.docker.io/v2/%s/manifests/%s" $repository $tag) | Quote }}
{{ else }}
      reason: ContainerCreating
{{ end }}
{{ end }}
${HOST_IP}
phase: Pending
startTime: {{ $now | Quote }}`;

const BACK_OFF = `containerStatuses:
{{ range .status.containerStatuses }}
{{ if and .state.waiting (eq .state.waiting.reason "ErrImagePull") }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: false
  restartCount: 0
  state:
    waiting:
      reason: ImagePullBackOff
{{ if hasSuffix "-kubelet-1.31" .image }}
      message: {{ printf "Back-off pulling image %q" .image | Quote }}
{{ else }}
      message: {{ printf "Back-off pulling image %q: ErrImagePull: %s" .image .state.waiting.message | Quote }}
{{ end }}
{{ end }}
{{ end }}`;

const CONTAINER_EXITS = `{{ $now := Now }}
${NOT_READY_CONDITIONS}
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  restartCount: 0
  started: false
  state:
    terminated:
      exitCode: 1
      reason: Error
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
{{ end }}
${HOST_IP}
phase: Running
startTime: {{ $now | Quote }}`;

const CRASH_LOOP = `{{ $pod := printf "%s_%s(%s)" .metadata.name .metadata.namespace .metadata.uid }}
containerStatuses:
{{ range .status.containerStatuses }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: false
  restartCount: 1
  started: false
  lastState:
    terminated:
      exitCode: 1
      reason: Error
      startedAt: {{ .state.terminated.startedAt | Quote }}
      finishedAt: {{ .state.terminated.finishedAt | Quote }}
  state:
    terminated: null
    waiting:
      reason: CrashLoopBackOff
      message: {{ printf "back-off 10s restarting failed container=%s pod=%s" .name $pod | Quote }}
{{ end }}`;

const CREATE_CONTAINER_ERROR = `{{ $now := Now }}
${NOT_READY_CONDITIONS}
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  restartCount: 0
  started: false
  state:
    waiting:
      reason: CreateContainerError
      message: "failed to create containerd container: error unpacking image: failed to extract layer sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef: write /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/42/fs/usr/lib/libcrypto.so.3: no space left on device"
{{ end }}
${HOST_IP}
phase: Pending
startTime: {{ $now | Quote }}`;

const JOB_POD_COMPLETES = `{{ $now := Now }}
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  restartCount: 0
  started: false
  state:
    running: null
    terminated:
      exitCode: 0
      finishedAt: {{ $now | Quote }}
      reason: Completed
      startedAt: {{ $now | Quote }}
{{ end }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  reason: PodCompleted
  status: "False"
  type: Ready
phase: Succeeded`;

const NODE_READY = `{{ $now := Now }}
{{ $since := or .metadata.creationTimestamp $now }}
conditions:
{{ range NodeConditions }}
- lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $since | Quote }}
  message: {{ .message | Quote }}
  reason: {{ .reason | Quote }}
  status: {{ .status | Quote }}
  type: {{ .type | Quote }}
{{ end }}
addresses:
{{ with NodeIP }}
- address: {{ . | Quote }}
  type: InternalIP
{{ end }}
{{ with NodeName }}
- address: {{ . | Quote }}
  type: Hostname
{{ end }}
nodeInfo:
  architecture: arm64
  containerRuntimeVersion: {{ printf "kwok-%s" Version }}
  kernelVersion: {{ printf "kwok-%s" Version }}
  kubeletVersion: {{ printf "kwok-%s" Version }}
  operatingSystem: linux
phase: Running`;

interface StageSpec {
  readonly kind: 'Pod' | 'Node';
  readonly matchExpressions: readonly Record<string, unknown>[];
  readonly delayMs?: readonly [number, number];
  readonly next: { readonly statusTemplate: string } | { readonly delete: true };
}

const STAGES: Readonly<Record<string, StageSpec>> = {
  'node-initialize': {
    kind: 'Node',
    matchExpressions: [
      { key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: 'NotIn', values: ['True'] },
    ],
    next: { statusTemplate: NODE_READY },
  },
  'pod-ready': {
    kind: 'Pod',
    matchExpressions: [NOT_DELETED, PENDING, is(anyImage(ANY_CONVENTION), false)],
    delayMs: [500, 1500],
    next: { statusTemplate: RUNNING },
  },
  // A missing image: ErrImagePull, again after each back-off.
  'pod-image-not-found': {
    kind: 'Pod',
    matchExpressions: [NOT_DELETED, PENDING, is(anyImage(MISSING_IMAGE), true), is(anyWaiting('ErrImagePull'), false)],
    delayMs: [1000, 1000],
    next: { statusTemplate: IMAGE_NOT_FOUND },
  },
  // A registry that does not answer, once.
  'pod-transient-pull-error': {
    kind: 'Pod',
    matchExpressions: [
      NOT_DELETED,
      PENDING,
      is(anyImage('-transient-pull-error$'), true),
      { key: '.status.containerStatuses', operator: 'DoesNotExist' },
    ],
    delayMs: [1000, 1000],
    next: { statusTemplate: PULL_TIMEOUT },
  },
  // The kubelet backs off after a failed pull, and says so until it tries again.
  'pod-image-pull-back-off': {
    kind: 'Pod',
    matchExpressions: [NOT_DELETED, is(anyWaiting('ErrImagePull'), true)],
    delayMs: [1500, 1500],
    next: { statusTemplate: BACK_OFF },
  },
  // After its back-off, the registry answers again.
  'pod-transient-pull-recovers': {
    kind: 'Pod',
    matchExpressions: [
      NOT_DELETED,
      is(anyImage('-transient-pull-error$'), true),
      is(anyWaiting('ImagePullBackOff'), true),
    ],
    delayMs: [2000, 2000],
    next: { statusTemplate: RUNNING },
  },
  'pod-container-exits': {
    kind: 'Pod',
    matchExpressions: [NOT_DELETED, PENDING, is(anyImage('-crashloop$'), true)],
    delayMs: [1000, 1000],
    next: { statusTemplate: CONTAINER_EXITS },
  },
  // The kubelet backs off restarting the container that exited.
  'pod-crash-loop-back-off': {
    kind: 'Pod',
    matchExpressions: [
      NOT_DELETED,
      is(anyImage('-crashloop$'), true),
      is('[.status.containerStatuses[]?.state.terminated.reason] | any(. == "Error")', true),
    ],
    delayMs: [500, 500],
    next: { statusTemplate: CRASH_LOOP },
  },
  'pod-create-container-error': {
    kind: 'Pod',
    matchExpressions: [
      NOT_DELETED,
      PENDING,
      is(anyImage('-create-container-error$'), true),
      { key: '.status.containerStatuses', operator: 'DoesNotExist' },
    ],
    delayMs: [1000, 1000],
    next: { statusTemplate: CREATE_CONTAINER_ERROR },
  },
  // A Job's pod runs to completion.
  'pod-complete': {
    kind: 'Pod',
    matchExpressions: [
      NOT_DELETED,
      { key: '.status.phase', operator: 'In', values: ['Running'] },
      { key: '.metadata.ownerReferences.[].kind', operator: 'In', values: ['Job'] },
      is('[.status.containerStatuses[]?.ready] | any', true),
    ],
    delayMs: [1000, 1000],
    next: { statusTemplate: JOB_POD_COMPLETES },
  },
  // No kubelet confirms a deletion: the pod goes as soon as it is marked for deletion.
  'pod-delete': {
    kind: 'Pod',
    matchExpressions: [{ key: '.metadata.deletionTimestamp', operator: 'Exists' }],
    next: { delete: true },
  },
};

/** kwok's --config: the stages above, as a multi-document YAML. */
export function kwokStages(): string {
  return Object.entries(STAGES)
    .map(([name, stage]) =>
      stringify(
        {
          apiVersion: 'kwok.x-k8s.io/v1alpha1',
          kind: 'Stage',
          metadata: { name },
          spec: {
            resourceRef: { apiGroup: 'v1', kind: stage.kind },
            selector: { matchExpressions: stage.matchExpressions },
            ...(stage.delayMs === undefined
              ? {}
              : {
                  delay: { durationMilliseconds: stage.delayMs[0], jitterDurationMilliseconds: stage.delayMs[1] },
                }),
            next: stage.next,
          },
        },
        { lineWidth: 0 },
      ),
    )
    .join('---\n');
}
