// What the admission, grants, delete and apply tests set up on the real server as a cluster admin: a Deployment that
// another tool made, a finalizer of the tests that holds an object while it is being deleted (so that a deletion
// lasts exactly as long as a test needs), and a ValidatingAdmissionPolicy that refuses Deployments in one namespace.
import { uniqueName } from './cluster.js';
import { restPath, type AdminAnswer, type KubeAdmin, type KubeObject } from './kube-admin.js';

/** The finalizer the tests put on an object to keep it, deletionTimestamp set, until they take it off. */
export const HOLD_FINALIZER = 'lambda-eks.test/hold';

/** The REST path of a Deployment. */
export function deploymentPath(namespace: string, name: string): string {
  return restPath('apps/v1', 'deployments', namespace, name);
}

/** A valid Deployment of one nginx replica with these labels (selector: app.kubernetes.io/name), as another tool
 * (Helm, kubectl) would make it. */
export function foreignDeployment(
  namespace: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
  image = 'nginx:1.30.0',
): KubeObject {
  const selector = { 'app.kubernetes.io/name': name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { ...selector, ...labels } },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      template: { metadata: { labels: selector }, spec: { containers: [{ name: 'nginx', image }] } },
    },
  };
}

/** Adds HOLD_FINALIZER to the object at `path` (a strategic merge patch adds to the list, keeping the others). */
export async function hold(admin: KubeAdmin, path: string): Promise<void> {
  await expectPatched(
    admin,
    path,
    { metadata: { finalizers: [HOLD_FINALIZER] } },
    `adding the finalizer ${HOLD_FINALIZER}`,
  );
}

/** Takes HOLD_FINALIZER off the object at `path`, leaving the server's own (foregroundDeletion) in place; an object
 * already gone is fine. */
export async function release(admin: KubeAdmin, path: string): Promise<void> {
  await expectPatched(
    admin,
    path,
    { metadata: { '$deleteFromPrimitiveList/finalizers': [HOLD_FINALIZER] } },
    `removing the finalizer ${HOLD_FINALIZER}`,
    true,
  );
}

async function expectPatched(
  admin: KubeAdmin,
  path: string,
  patch: unknown,
  what: string,
  goneIsFine = false,
): Promise<AdminAnswer> {
  const answer = await admin.send('PATCH', path, {
    body: patch,
    contentType: 'application/strategic-merge-patch+json',
  });
  if (answer.status === 404 && goneIsFine) return answer;
  if (answer.status !== 200) {
    throw new Error(`${what} on ${path}: HTTP ${answer.status}: ${JSON.stringify(answer.body).slice(0, 500)}`);
  }
  return answer;
}

/** A ValidatingAdmissionPolicy and its binding, in force. */
export interface AdmissionPolicy {
  readonly policy: string;
  readonly binding: string;
  /** Deletes the binding and the policy (cluster-scoped: each test removes its own). */
  remove(): Promise<void>;
}

/** Installs a ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, CEL) that refuses every create or update
 * of a Deployment in `namespace` whose images are not in Amazon ECR, with `message`; with `reason` Forbidden the
 * server answers 403, as an admission webhook's denial does, without it the policy's default, 422 Invalid. Waits
 * until kube-apiserver enforces it (it compiles policies from its informers, a moment after they are stored). */
export async function denyNonEcrImages(
  admin: KubeAdmin,
  namespace: string,
  { message, reason }: { message: string; reason?: 'Forbidden' },
): Promise<AdmissionPolicy> {
  const policy = uniqueName('ecr-only');
  const binding = uniqueName('ecr-only-binding');
  const group = 'admissionregistration.k8s.io/v1';
  const policyPath = restPath(group, 'validatingadmissionpolicies', undefined, policy);
  const bindingPath = restPath(group, 'validatingadmissionpolicybindings', undefined, binding);
  const remove = async (): Promise<void> => {
    await admin.delete(bindingPath);
    await admin.delete(policyPath);
  };
  try {
    await admin.create(restPath(group, 'validatingadmissionpolicies'), {
      apiVersion: group,
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: policy },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] },
          ],
        },
        validations: [
          {
            expression: "object.spec.template.spec.containers.all(c, c.image.contains('.dkr.ecr.'))",
            message,
            ...(reason === undefined ? {} : { reason }),
          },
        ],
      },
    });
    await admin.create(restPath(group, 'validatingadmissionpolicybindings'), {
      apiVersion: group,
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: binding },
      spec: {
        policyName: policy,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } },
      },
    });
    // A server-side dry run goes through admission and stores nothing: the policy is in force once it refuses one.
    const expected = reason === undefined ? 422 : 403;
    const probe = `${restPath('apps/v1', 'deployments', namespace)}?dryRun=All`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const answer = await admin.send('POST', probe, { body: foreignDeployment(namespace, 'policy-probe') });
      if (answer.status === expected) break;
      if (Date.now() > deadline) {
        throw new Error(`the policy ${policy} was not enforced within 15 s: the dry run got HTTP ${answer.status}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { policy, binding, remove };
}
