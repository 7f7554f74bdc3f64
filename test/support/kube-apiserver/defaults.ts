// Defaulting as kube-apiserver applies it when it decodes an apps/v1 Deployment (pkg/apis/apps/v1/defaults.go,
// SetDefaults_Deployment; pkg/apis/core/v1/defaults.go, SetDefaults_PodSpec, SetDefaults_Container,
// SetDefaults_ContainerPort, SetDefaults_Probe, SetDefaults_Pod), plus the empty structs Go always renders
// (`resources: {}`, `creationTimestamp: null` in a template, `status: {}`).
import { ensureObject, isObject, type Json, type JsonObject } from './json.js';

/** Fills the defaults of a Deployment in place. */
export function defaultDeployment(deployment: JsonObject): void {
  const spec = ensureObject(deployment, 'spec');
  if (spec['replicas'] === undefined) spec['replicas'] = 1;
  const strategy = ensureObject(spec, 'strategy');
  if (strategy['type'] === undefined) strategy['type'] = 'RollingUpdate';
  if (strategy['type'] === 'RollingUpdate') {
    const rollingUpdate = ensureObject(strategy, 'rollingUpdate');
    if (rollingUpdate['maxUnavailable'] === undefined) rollingUpdate['maxUnavailable'] = '25%';
    if (rollingUpdate['maxSurge'] === undefined) rollingUpdate['maxSurge'] = '25%';
  }
  if (spec['revisionHistoryLimit'] === undefined) spec['revisionHistoryLimit'] = 10;
  if (spec['progressDeadlineSeconds'] === undefined) spec['progressDeadlineSeconds'] = 600;
  defaultPodTemplate(ensureObject(spec, 'template'));
  if (!isObject(deployment['status'])) deployment['status'] = {};
}

/** Fills the defaults of a pod template (a Deployment's or a ReplicaSet's) in place. */
export function defaultPodTemplate(template: JsonObject): void {
  const metadata = ensureObject(template, 'metadata');
  if (metadata['creationTimestamp'] === undefined) metadata['creationTimestamp'] = null;
  defaultPodSpec(ensureObject(template, 'spec'));
}

export function defaultPodSpec(spec: JsonObject): void {
  for (const list of ['initContainers', 'containers']) {
    const containers = spec[list];
    if (Array.isArray(containers)) containers.forEach((container) => defaultContainer(container));
  }
  if (spec['restartPolicy'] === undefined) spec['restartPolicy'] = 'Always';
  if (spec['terminationGracePeriodSeconds'] === undefined) spec['terminationGracePeriodSeconds'] = 30;
  if (spec['dnsPolicy'] === undefined) spec['dnsPolicy'] = 'ClusterFirst';
  if (spec['securityContext'] === undefined) spec['securityContext'] = {};
  if (spec['schedulerName'] === undefined) spec['schedulerName'] = 'default-scheduler';
}

function defaultContainer(container: Json): void {
  if (!isObject(container)) return;
  const ports = container['ports'];
  if (Array.isArray(ports)) {
    for (const port of ports) if (isObject(port) && port['protocol'] === undefined) port['protocol'] = 'TCP';
  }
  if (!isObject(container['resources'])) container['resources'] = {};
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(container[probe]);
  if (container['terminationMessagePath'] === undefined) {
    container['terminationMessagePath'] = '/dev/termination-log';
  }
  if (container['terminationMessagePolicy'] === undefined) container['terminationMessagePolicy'] = 'File';
  if (container['imagePullPolicy'] === undefined) {
    container['imagePullPolicy'] = pullsAlways(container['image']) ? 'Always' : 'IfNotPresent';
  }
}

/** SetDefaults_Container: `Always` for an image without a tag or with the tag `latest`, unless it has a digest. */
function pullsAlways(image: Json | undefined): boolean {
  if (typeof image !== 'string' || image.includes('@')) return false;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  return colon < 0 || lastSegment.slice(colon + 1) === 'latest';
}

function defaultProbe(probe: Json | undefined): void {
  if (!isObject(probe)) return;
  const defaults: Record<string, number> = {
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
  };
  for (const [field, value] of Object.entries(defaults)) if (probe[field] === undefined) probe[field] = value;
  const httpGet = probe['httpGet'];
  if (isObject(httpGet) && httpGet['scheme'] === undefined) httpGet['scheme'] = 'HTTP';
}
