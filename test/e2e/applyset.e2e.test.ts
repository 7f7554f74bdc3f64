import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { groupKind, groupOf } from '../../src/manifests/identity.js';
import { applySetId, recordName } from '../../src/manifests/record.js';
import { uniqueName, useCluster } from '../support/cluster.js';
import { restPath, type KubeObject } from '../support/kube-admin.js';

// Our set's record is the parent of an ApplySet (KEP-3659). The reference is the real kubectl of the server's version,
// not our own formula: kubectl pkg/cmd/apply/applyset.go (k8s.io/kubectl v0.36.3). With KUBECTL_APPLYSET=true,
// `kubectl apply --server-side --applyset=<resource>/<name> --prune -n <namespace>` takes the parent's namespace from
// -n (apply.go: "the namespace flag is required when using a namespaced parent"), creates a missing ConfigMap or
// Secret parent itself (fetchParent: a NotFound built-in parent is no error), labels it applyset.kubernetes.io/id
// (ApplySet.ID: base64url(sha256("<name>.<namespace>.<Kind>.<group>")) in "applyset-%s-v1"), labels each member
// applyset.kubernetes.io/part-of with the same id, and writes contains-group-kinds (generateKindsAnnotation: each
// schema.GroupKind.String(), "Kind.group" or just "Kind" for the core group, sorted with sort.Strings, joined by ",").

const ID_LABEL = 'applyset.kubernetes.io/id';
const PART_OF_LABEL = 'applyset.kubernetes.io/part-of';
const GROUP_KINDS_ANNOTATION = 'applyset.kubernetes.io/contains-group-kinds';
const TOOLING_ANNOTATION = 'applyset.kubernetes.io/tooling';

const scope = useCluster({ namespaces: { other: [] } });
const run = promisify(execFile);

/** Namespaced members of the core group and of three named groups; "Role.rbac…" sorts before "RoleBinding.rbac…"
 * only when "." is compared against "B" byte by byte, as Go's sort.Strings does. */
const MEMBERS = [
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'test' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web' } },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'web-reader' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'web-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'web' }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'web-reader' },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'deny-ingress' },
    spec: { podSelector: {}, policyTypes: ['Ingress'] },
  },
  {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web' },
    spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } },
  },
];

/** What kubectl's generateKindsAnnotation makes of MEMBERS' kinds, worked out by hand from its rules. */
const KUBECTL_GROUP_KINDS =
  'ConfigMap,NetworkPolicy.networking.k8s.io,PodDisruptionBudget.policy,Role.rbac.authorization.k8s.io,' +
  'RoleBinding.rbac.authorization.k8s.io,ServiceAccount';

/** Runs `kubectl apply` with an ApplySet whose parent is the ConfigMap `parent` in `namespace`. */
async function kubectlApplySet(parent: string, namespace: string, members: readonly object[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'applyset-'));
  try {
    const file = join(dir, 'members.json');
    await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: members }));
    await run(
      scope.info.kubectl,
      [
        '--kubeconfig',
        scope.info.kubeconfig,
        'apply',
        '--server-side',
        `--applyset=configmap/${parent}`,
        '--prune',
        '-n',
        namespace,
        '-f',
        file,
      ],
      { env: { ...process.env, KUBECTL_APPLYSET: 'true' }, timeout: 30_000 },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function configMap(namespace: string, name: string): Promise<KubeObject | undefined> {
  return scope.admin.get(restPath('v1', 'configmaps', namespace, name));
}

describe("our ApplySet record, against kubectl's ApplySet", () => {
  it.each([
    ['default', 'web'],
    ['other', 'a-longer-set-name-0123456789'],
  ])(
    'computes the id kubectl labels the parent with when the parent is recordName(set) in namespace "%s"',
    async (alias, prefix) => {
      const namespace = scope.ns(alias);
      const set = uniqueName(prefix);
      const parent = recordName(set);
      expect(await configMap(namespace, parent)).toBeUndefined();

      await kubectlApplySet(parent, namespace, MEMBERS.slice(0, 2));

      const created = await configMap(namespace, parent);
      expect(created?.metadata?.labels?.[ID_LABEL]).toEqual(expect.stringMatching(/^applyset-[A-Za-z0-9_-]{43}-v1$/));
      expect(applySetId(set, namespace)).toBe(created?.metadata?.labels?.[ID_LABEL]);
    },
  );

  it("labels members with the id our code computes when kubectl applies them to the set's parent", async () => {
    const namespace = scope.ns('default');
    const set = uniqueName('members');

    await kubectlApplySet(recordName(set), namespace, MEMBERS);

    const id = applySetId(set, namespace);
    const serviceAccount = await scope.admin.get(restPath('v1', 'serviceaccounts', namespace, 'web'));
    const role = await scope.admin.get(restPath('rbac.authorization.k8s.io/v1', 'roles', namespace, 'web-reader'));
    expect(serviceAccount?.metadata?.labels?.[PART_OF_LABEL]).toBe(id);
    expect(role?.metadata?.labels?.[PART_OF_LABEL]).toBe(id);
  });

  it("writes contains-group-kinds in kubectl's format when groupKind() values are joined as record.ts joins them", async () => {
    const namespace = scope.ns('default');
    const set = uniqueName('kinds');

    await kubectlApplySet(recordName(set), namespace, MEMBERS);

    const annotations = (await configMap(namespace, recordName(set)))?.metadata?.annotations ?? {};
    expect(annotations[GROUP_KINDS_ANNOTATION]).toBe(KUBECTL_GROUP_KINDS);
    // record.ts: [...new Set(members.map((member) => groupKind(member)))].sort() joined with ','; the members in the
    // manifest's order, one kind twice, so that both the sort and the de-duplication are exercised.
    const refs = [...MEMBERS, ...MEMBERS.slice(0, 1)].map(({ apiVersion, kind }) => ({
      group: groupOf(apiVersion),
      kind,
    }));
    const ours = [...new Set(refs.map((ref) => groupKind(ref)))].sort().join(',');
    expect(ours).toBe(annotations[GROUP_KINDS_ANNOTATION]);
    expect(annotations[TOOLING_ANNOTATION]).toMatch(/^kubectl\/v1\.36\.\d+/);
  });
});
