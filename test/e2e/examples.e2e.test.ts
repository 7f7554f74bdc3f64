import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CfnReceiver } from '../support/cfn-receiver.js';
import { cfnRequests } from '../support/cfn-requests.js';
import { evaluateTemplate, entriesOf } from '../support/cloudformation.js';
import { registerIdentity, useCluster } from '../support/cluster.js';
import { SETS_GROUP } from '../support/fixture.js';
import { at } from '../support/json.js';
import { restPath } from '../support/kube-admin.js';
import { PROJECT_ROOT, readTemplate, type LambdaEnvironment } from '../support/lambda.js';
import { MotoS3 } from '../support/moto-s3.js';
import { recordMembers, useSetIdentity } from '../support/sets.js';

// The Custom::KubernetesManifest examples of examples/, as CloudFormation would send their resources: the template's
// properties with its parameters resolved, every value a string, to the built bundle as Lambda runs it, against the
// real control plane (and moto's S3, signatures checked, for the manifest from S3).
const receiver = new CfnReceiver();
const scope = useCluster({ namespaces: {}, cleanup: () => receiver.stop() });
const setEnv = useSetIdentity(scope);
const { request, send } = cfnRequests(receiver, 'Custom::KubernetesManifest');
let s3: MotoS3 | undefined;

beforeAll(async () => {
  await receiver.start();
});
afterAll(async () => {
  await s3?.stop();
});
beforeEach(() => {
  receiver.reset();
});

/** The properties of the example's one Custom::KubernetesManifest, as CloudFormation sends them: parameters resolved,
 * every scalar a string, ServiceToken left to the request. */
function exampleProperties(file: string, parameters: Record<string, string>): Record<string, unknown> {
  const evaluated = evaluateTemplate(readTemplate(join(PROJECT_ROOT, 'examples', file)), parameters);
  const [resource] = entriesOf(evaluated.resources).filter(
    ([, value]) => at(value, 'Type') === 'Custom::KubernetesManifest',
  );
  const properties = at(resource?.[1], 'Properties');
  const asSent = (value: unknown): unknown =>
    typeof value === 'object' && value !== null
      ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, asSent(inner)]))
      : String(value);
  const { ServiceToken: _token, ...rest } = Object(asSent(properties));
  return rest;
}

const environment = (extra: Record<string, string> = {}): Promise<LambdaEnvironment> =>
  scope.environment({ ...setEnv(), ...extra });
const home = (): string => scope.ns('default');

describe('examples/', () => {
  it('app-manifest.yml: applies the application, waits for it, reads its outputs, and deletes it', async () => {
    const lambda = await environment();
    const properties = exampleProperties('app-manifest.yml', { Namespace: home() });

    const created = await send(lambda, request('Create', properties), 60_000);
    const deleted = await send(
      lambda,
      request('Delete', properties, { PhysicalResourceId: String(created['PhysicalResourceId']) }),
    );

    const service = await scope.admin.get(restPath('v1', 'services', home(), 'web'));
    expect(service).toBeUndefined();
    expect(created).toMatchObject({
      Status: 'SUCCESS',
      Data: {
        SetName: 'web',
        Objects: '5',
        Created: '5',
        Greeting: 'hello',
        ClusterIp: expect.stringMatching(/^10\./),
      },
    });
    expect(deleted).toMatchObject({ Status: 'SUCCESS' });
    expect(await recordMembers(scope, 'web', home())).toBeUndefined();
  }, 90_000);

  it('crd-manifest.yml: applies the CRD and its resource in one go, and deletes both', async () => {
    const lambda = await environment();
    const properties = exampleProperties('crd-manifest.yml', { Namespace: home() });

    const created = await send(lambda, request('Create', properties), 60_000);
    const widget = await scope.admin.get(restPath('example.com/v1', 'widgets', home(), 'first'));
    const deleted = await send(
      lambda,
      request('Delete', properties, { PhysicalResourceId: String(created['PhysicalResourceId']) }),
      60_000,
    );

    expect(created).toMatchObject({ Status: 'SUCCESS', Data: { Created: '2', Color: 'blue' } });
    expect(at(widget, 'spec', 'size')).toBe(3);
    expect(deleted).toMatchObject({ Status: 'SUCCESS' });
    // The CRD's own finalizer (customresourcecleanup.apiextensions.k8s.io) removes it a moment after its delete.
    await scope.admin.waitFor(
      restPath('apiextensions.k8s.io/v1', 'customresourcedefinitions', undefined, 'widgets.example.com'),
      (object) => object === undefined,
      'the CRD to be gone',
    );
  }, 90_000);

  describe('s3-manifest.yml', () => {
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-s3}\ndata: {source: s3}\n';
    const sha256 = createHash('sha256').update(manifest).digest('hex');
    let reader: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;

    beforeAll(async () => {
      s3 = await MotoS3.start();
      await s3.aws([
        's3api',
        'create-bucket',
        '--bucket',
        'team-manifests',
        '--create-bucket-configuration',
        'LocationConstraint=us-west-2',
      ]);
      await s3.putObject('team-manifests', 'web/web.yaml', manifest);
      // The function's role, with the policy template.yml gives it for ManifestBucket=team-manifests, assumed as
      // Lambda assumes it; the cluster's access entry maps it to the set tests' group.
      reader = await s3.assumeRole('lambda-eks-examples', {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:GetObjectVersion'],
            Resource: 'arn:aws:s3:::team-manifests/*',
          },
        ],
      });
      const arn = 'arn:aws:sts::123456789012:assumed-role/lambda-eks-examples/lambda-eks-examples';
      registerIdentity({
        accessKeyId: reader.accessKeyId,
        secretAccessKey: reader.secretAccessKey,
        ...(reader.sessionToken === undefined ? {} : { sessionToken: reader.sessionToken }),
        arn,
        username: arn,
        groups: [SETS_GROUP],
      });
      await s3.authenticate();
    }, 60_000);

    const functionWithS3 = (): Promise<LambdaEnvironment> =>
      environment({
        AWS_ENDPOINT_URL_S3: s3?.url ?? '',
        AWS_ACCESS_KEY_ID: reader?.accessKeyId ?? '',
        AWS_SECRET_ACCESS_KEY: reader?.secretAccessKey ?? '',
        AWS_SESSION_TOKEN: reader?.sessionToken ?? '',
      });

    it('applies the manifest it reads from S3 with a good hash', async () => {
      const lambda = await functionWithS3();
      const properties = exampleProperties('s3-manifest.yml', {
        Namespace: home(),
        ManifestUrl: 's3://team-manifests/web/web.yaml',
        ManifestSha256: sha256,
      });

      const created = await send(lambda, request('Create', properties), 60_000);

      expect(created).toMatchObject({ Status: 'SUCCESS', Data: { Created: '1' } });
      const applied = await scope.admin.get(restPath('v1', 'configmaps', home(), 'from-s3'));
      expect(at(applied, 'data', 'source')).toBe('s3');
      await send(lambda, request('Delete', properties, { PhysicalResourceId: String(created['PhysicalResourceId']) }));
    }, 60_000);

    it('refuses a manifest whose hash is not the one given, applying nothing', async () => {
      const lambda = await functionWithS3();
      const properties = exampleProperties('s3-manifest.yml', {
        Namespace: home(),
        ManifestUrl: 's3://team-manifests/web/web.yaml',
        ManifestSha256: '0'.repeat(64),
      });

      const refused = await send(lambda, request('Create', properties), 60_000);

      expect(refused).toMatchObject({ Status: 'FAILED' });
      expect(String(refused['Reason'])).toMatch(
        new RegExp(
          `^InvalidManifestError: s3://team-manifests/web/web.yaml is not the manifest its SHA-256 names: its bytes hash to ${sha256}`,
        ),
      );
      expect(await scope.admin.get(restPath('v1', 'configmaps', home(), 'from-s3'))).toBeUndefined();
    }, 60_000);

    it('fails with ManifestFetchError, quoting S3, for an object it cannot read', async () => {
      const lambda = await functionWithS3();
      const properties = exampleProperties('s3-manifest.yml', {
        Namespace: home(),
        ManifestUrl: 's3://team-manifests/web/missing.yaml',
        ManifestSha256: sha256,
      });

      const refused = await send(lambda, request('Create', properties), 60_000);

      expect(refused).toMatchObject({ Status: 'FAILED' });
      expect(String(refused['Reason'])).toMatch(/^ManifestFetchError: .*NoSuchKey/);
    }, 60_000);
  });
});
