import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { at } from '../support/json.js';
import { offlineKubectl, selectWithKubectl, type OfflineKubectl } from '../support/kubectl-offline.js';
import { PROJECT_ROOT, readTemplate } from '../support/lambda.js';

const FILE = join(PROJECT_ROOT, 'permissions.yml');
const RBAC = 'rbac.authorization.k8s.io';

// The contract: what each capability of the function calls (the API verbs of its requests), and nothing more.
const GRANTS = {
  create: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'] }],
  apply: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] }],
  observe: [
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list'] },
  ],
  delete: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'delete'] }],
} as const;
type Grant = keyof typeof GRANTS;
const NAMES = Object.keys(GRANTS) as Grant[];

const named = (kind: string, name: string): string => `${kind.toLowerCase()}.${RBAC}/${name}`;
const objectsOf = (...grants: Grant[]): string[] =>
  grants.flatMap((grant) => [named('Role', `lambda-eks-${grant}`), named('RoleBinding', `lambda-eks-${grant}`)]).sort();

describe('permissions.yml', () => {
  let objects: unknown[];
  const find = (kind: string, grant: Grant): unknown =>
    objects.find((object) => at(object, 'kind') === kind && at(object, 'metadata', 'name') === `lambda-eks-${grant}`);

  beforeAll(() => {
    objects = parseAllDocuments(readFileSync(FILE, 'utf8')).map((document) => document.toJS());
  });

  it('holds exactly a Role and a RoleBinding per grant, named lambda-eks-<grant>', () => {
    expect(
      objects.map((object) => named(String(at(object, 'kind')), String(at(object, 'metadata', 'name')))).sort(),
    ).toEqual(objectsOf(...NAMES));
    for (const object of objects) expect(at(object, 'apiVersion')).toBe(`${RBAC}/v1`);
  });

  it.each(NAMES)('gives the %s grant exactly its rules', (grant) => {
    expect(at(find('Role', grant), 'rules')).toEqual(GRANTS[grant]);
  });

  it('grants no verb or resource beyond the four grants, and nothing cluster-wide', () => {
    const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : ['<not a list>']);
    const granted = new Set(
      objects.flatMap((object) => {
        const rules = at(object, 'rules');
        return (Array.isArray(rules) ? rules : []).flatMap((rule: unknown) =>
          list(at(rule, 'apiGroups')).flatMap((group) =>
            list(at(rule, 'resources')).flatMap((resource) =>
              list(at(rule, 'verbs')).map((verb) => `${group}/${resource}/${verb}`),
            ),
          ),
        );
      }),
    );
    expect([...granted].sort()).toEqual([
      '/pods/list',
      'apps/deployments/create',
      'apps/deployments/delete',
      'apps/deployments/get',
      'apps/deployments/patch',
      'apps/replicasets/list',
    ]);
    for (const object of objects) {
      expect(at(object, 'metadata', 'namespace')).toBeUndefined();
      expect(['Role', 'RoleBinding']).toContain(at(object, 'kind'));
    }
  });

  it.each(NAMES)('labels both objects of the %s grant as managed by lambda-eks and with their grant', (grant) => {
    for (const kind of ['Role', 'RoleBinding']) {
      expect(at(find(kind, grant), 'metadata', 'labels')).toEqual({
        'app.kubernetes.io/managed-by': 'lambda-eks',
        'lambda-eks/grant': grant,
      });
    }
  });

  it.each(NAMES)('binds the %s Role to the group the template maps the function to', (grant) => {
    expect(at(find('RoleBinding', grant), 'roleRef')).toEqual({
      apiGroup: RBAC,
      kind: 'Role',
      name: `lambda-eks-${grant}`,
    });
    expect(at(find('RoleBinding', grant), 'subjects')).toEqual([
      { apiGroup: RBAC, kind: 'Group', name: at(readTemplate(), 'Parameters', 'KubernetesGroup', 'Default') },
    ]);
  });

  describe('selected by label with the real kubectl', () => {
    let dir: string;
    let kubectl: OfflineKubectl;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'lambda-eks-kubectl-'));
      kubectl = offlineKubectl(dir);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each(NAMES)('lambda-eks/grant=%s selects exactly that grant', async (grant) => {
      expect((await selectWithKubectl(kubectl, FILE, `lambda-eks/grant=${grant}`)).sort()).toEqual(objectsOf(grant));
    });

    it.each([
      [['create', 'apply'] as Grant[]],
      [['observe', 'delete'] as Grant[]],
      [['create', 'apply', 'observe', 'delete'] as Grant[]],
    ])("'lambda-eks/grant in (...)' selects exactly the grants %j", async (grants) => {
      const selected = await selectWithKubectl(kubectl, FILE, `lambda-eks/grant in (${grants.join(',')})`);
      expect(selected.sort()).toEqual(objectsOf(...grants));
    });

    it('selects everything by app.kubernetes.io/managed-by=lambda-eks, and nothing for an unknown grant', async () => {
      expect((await selectWithKubectl(kubectl, FILE, 'app.kubernetes.io/managed-by=lambda-eks')).sort()).toEqual(
        objectsOf(...NAMES),
      );
      await expect(selectWithKubectl(kubectl, FILE, 'lambda-eks/grant=deployer')).rejects.toThrow(
        /no objects passed to create/,
      );
    });
  });
});
