// The fields an apps/v1 Deployment may have (k8s.io/api apps/v1 and core/v1 types.go, as of 1.32), down to the
// container; below that (probes, security contexts, affinity, volumes) anything is accepted. Used for field
// validation: `fieldValidation=Strict` refuses unknown fields, Warn (the default) drops them with a warning, and an
// apply refuses them while converting the configuration to its schema.
import { isObject, type Json, type JsonObject } from './json.js';

type Shape = 'any' | 'map' | { readonly fields: Readonly<Record<string, Shape>> } | { readonly items: Shape };

const struct = (fields: Record<string, Shape>): Shape => ({ fields });
const list = (items: Shape): Shape => ({ items });
const anyOf = (...names: string[]): Record<string, Shape> => Object.fromEntries(names.map((name) => [name, 'any']));

const OBJECT_META = struct({
  ...anyOf(
    'name',
    'generateName',
    'namespace',
    'selfLink',
    'uid',
    'resourceVersion',
    'generation',
    'creationTimestamp',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'ownerReferences',
    'finalizers',
    'managedFields',
  ),
  labels: 'map',
  annotations: 'map',
});

const CONTAINER = struct({
  ...anyOf(
    'name',
    'image',
    'command',
    'args',
    'workingDir',
    'envFrom',
    'resizePolicy',
    'restartPolicy',
    'volumeMounts',
    'volumeDevices',
    'livenessProbe',
    'readinessProbe',
    'startupProbe',
    'lifecycle',
    'terminationMessagePath',
    'terminationMessagePolicy',
    'imagePullPolicy',
    'securityContext',
    'stdin',
    'stdinOnce',
    'tty',
  ),
  ports: list(struct(anyOf('name', 'hostPort', 'containerPort', 'protocol', 'hostIP'))),
  env: list(struct(anyOf('name', 'value', 'valueFrom'))),
  resources: struct({ limits: 'map', requests: 'map', claims: 'any' }),
});

const POD_SPEC = struct({
  ...anyOf(
    'volumes',
    'ephemeralContainers',
    'restartPolicy',
    'terminationGracePeriodSeconds',
    'activeDeadlineSeconds',
    'dnsPolicy',
    'serviceAccountName',
    'serviceAccount',
    'automountServiceAccountToken',
    'nodeName',
    'hostNetwork',
    'hostPID',
    'hostIPC',
    'shareProcessNamespace',
    'securityContext',
    'imagePullSecrets',
    'hostname',
    'subdomain',
    'affinity',
    'schedulerName',
    'tolerations',
    'hostAliases',
    'priorityClassName',
    'priority',
    'dnsConfig',
    'readinessGates',
    'runtimeClassName',
    'enableServiceLinks',
    'preemptionPolicy',
    'overhead',
    'topologySpreadConstraints',
    'setHostnameAsFQDN',
    'os',
    'hostUsers',
    'schedulingGates',
    'resourceClaims',
    'resources',
  ),
  nodeSelector: 'map',
  initContainers: list(CONTAINER),
  containers: list(CONTAINER),
});

const DEPLOYMENT = struct({
  ...anyOf('apiVersion', 'kind', 'status'),
  metadata: OBJECT_META,
  spec: struct({
    ...anyOf('replicas', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds'),
    selector: struct({
      matchLabels: 'map',
      matchExpressions: list(struct(anyOf('key', 'operator', 'values'))),
    }),
    template: struct({ metadata: OBJECT_META, spec: POD_SPEC }),
    strategy: struct({ type: 'any', rollingUpdate: struct(anyOf('maxUnavailable', 'maxSurge')) }),
  }),
});

export interface UnknownField {
  /** As the strict decoder names it: `spec.template.spec.containers[0].imagee`. */
  readonly decoderPath: string;
  /** As structured-merge-diff names it: `.spec.template.spec.containers[name="nginx"].imagee`. */
  readonly schemaPath: string;
}

/** The fields of a Deployment its schema does not declare, in document order. */
export function unknownFields(object: JsonObject): UnknownField[] {
  const found: UnknownField[] = [];
  const visit = (value: Json, shape: Shape, decoderPath: string, schemaPath: string): void => {
    if (shape === 'any' || shape === 'map') return;
    if ('fields' in shape) {
      if (!isObject(value)) return;
      for (const [name, child] of Object.entries(value)) {
        const next = decoderPath === '' ? name : `${decoderPath}.${name}`;
        const known = shape.fields[name];
        if (known === undefined) found.push({ decoderPath: next, schemaPath: `${schemaPath}.${name}` });
        else visit(child, known, next, `${schemaPath}.${name}`);
      }
      return;
    }
    if (!Array.isArray(value)) return;
    value.forEach((item, index) => {
      const itemName =
        isObject(item) && typeof item['name'] === 'string' ? `[name=${JSON.stringify(item['name'])}]` : `[${index}]`;
      visit(item, shape.items, `${decoderPath}[${index}]`, `${schemaPath}${itemName}`);
    });
  };
  visit(object, DEPLOYMENT, '', '');
  return found;
}

/** The object without the unknown fields (what the non-strict decoder keeps). */
export function withoutUnknownFields(object: JsonObject): JsonObject {
  const strip = (value: Json, shape: Shape): Json => {
    if (shape === 'any' || shape === 'map') return value;
    if ('fields' in shape) {
      if (!isObject(value)) return value;
      const out: JsonObject = {};
      for (const [name, child] of Object.entries(value)) {
        const known = shape.fields[name];
        if (known !== undefined) out[name] = strip(child, known);
      }
      return out;
    }
    return Array.isArray(value) ? value.map((item) => strip(item, shape.items)) : value;
  };
  const stripped = strip(object, DEPLOYMENT);
  return isObject(stripped) ? stripped : object;
}
