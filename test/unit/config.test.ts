import { describe, expect, it } from '@jest/globals';
import { readConfig, readCredentials } from '../../src/config.js';
import { ConfigurationError } from '../../src/errors.js';
import { makeTestPki } from '../support/pki.js';

const pki = makeTestPki();
const base = { CLUSTER_NAME: 'demo', AWS_REGION: 'eu-west-1' };

function errorFor(env: Record<string, string>): ConfigurationError {
  try {
    readConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('readConfig accepted the environment');
}

describe('readConfig', () => {
  it('defaults the namespace and leaves the endpoint to DescribeCluster when only the name and region are set', () => {
    expect(readConfig(base)).toEqual({
      clusterName: 'demo',
      region: 'eu-west-1',
      namespace: 'default',
      cluster: undefined,
      listPageSize: 100,
    });
  });

  it.each([
    ['7', 7],
    [' 500 ', 500],
  ])('reads LAMBDA_EKS_LIST_PAGE_SIZE %j as %d pods a page', (value, size) => {
    expect(readConfig({ ...base, LAMBDA_EKS_LIST_PAGE_SIZE: value }).listPageSize).toBe(size);
  });

  it('decodes the CA and trims the endpoint when both are set', () => {
    const config = readConfig({
      ...base,
      NAMESPACE: 'team-a',
      CLUSTER_ENDPOINT: 'https://abc.gr7.eu-west-1.eks.amazonaws.com/',
      CLUSTER_CA_DATA: pki.caData,
    });
    expect(config.namespace).toBe('team-a');
    expect(config.cluster).toEqual({ endpoint: 'https://abc.gr7.eu-west-1.eks.amazonaws.com', caPem: pki.ca.cert });
  });

  it('falls back to AWS_DEFAULT_REGION when AWS_REGION is absent', () => {
    expect(readConfig({ CLUSTER_NAME: 'demo', AWS_DEFAULT_REGION: 'cn-north-1' }).region).toBe('cn-north-1');
  });

  it('accepts a region of the AWS European Sovereign Cloud', () => {
    expect(readConfig({ CLUSTER_NAME: 'demo', AWS_REGION: 'eusc-de-east-1' }).region).toBe('eusc-de-east-1');
  });

  it('names AWS_REGION, the variable Lambda sets, when no region is set at all', () => {
    const error = errorFor({ CLUSTER_NAME: 'demo' });
    expect(error.variable).toBe('AWS_REGION');
    expect(error.message).toMatch(/^AWS_REGION: is not set; Lambda sets it to the region the function runs in/);
  });

  it.each([
    ['CLUSTER_NAME', { AWS_REGION: 'eu-west-1' }],
    ['CLUSTER_NAME', { ...base, CLUSTER_NAME: 'has space' }],
    ['AWS_REGION', { ...base, AWS_REGION: '' }],
    ['AWS_REGION', { ...base, AWS_REGION: 'Europe' }],
    ['AWS_REGION', { ...base, AWS_REGION: 'xx-nowhere-1' }],
    ['AWS_REGION', { ...base, AWS_REGION: 'aws-global' }],
    ['NAMESPACE', { ...base, NAMESPACE: 'Team_A' }],
    ['LAMBDA_EKS_LIST_PAGE_SIZE', { ...base, LAMBDA_EKS_LIST_PAGE_SIZE: '0' }],
    ['LAMBDA_EKS_LIST_PAGE_SIZE', { ...base, LAMBDA_EKS_LIST_PAGE_SIZE: '501' }],
    ['LAMBDA_EKS_LIST_PAGE_SIZE', { ...base, LAMBDA_EKS_LIST_PAGE_SIZE: '2.5' }],
    ['LAMBDA_EKS_LIST_PAGE_SIZE', { ...base, LAMBDA_EKS_LIST_PAGE_SIZE: 'many' }],
    ['CLUSTER_CA_DATA', { ...base, CLUSTER_ENDPOINT: 'https://example.com' }],
    ['CLUSTER_ENDPOINT', { ...base, CLUSTER_CA_DATA: pki.caData }],
    ['CLUSTER_ENDPOINT', { ...base, CLUSTER_ENDPOINT: 'http://example.com', CLUSTER_CA_DATA: pki.caData }],
    ['CLUSTER_ENDPOINT', { ...base, CLUSTER_ENDPOINT: 'example.com', CLUSTER_CA_DATA: pki.caData }],
    ['CLUSTER_CA_DATA', { ...base, CLUSTER_ENDPOINT: 'https://example.com', CLUSTER_CA_DATA: pki.ca.cert }],
    ['CLUSTER_CA_DATA', { ...base, CLUSTER_ENDPOINT: 'https://example.com', CLUSTER_CA_DATA: 'not base64!' }],
    [
      'CLUSTER_CA_DATA',
      { ...base, CLUSTER_ENDPOINT: 'https://example.com', CLUSTER_CA_DATA: Buffer.from('hello').toString('base64') },
    ],
    [
      'CLUSTER_CA_DATA',
      {
        ...base,
        CLUSTER_ENDPOINT: 'https://example.com',
        CLUSTER_CA_DATA: Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString(
          'base64',
        ),
      },
    ],
  ])('names %s when it is missing or malformed', (variable, env) => {
    const error = errorFor(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });
});

describe('readCredentials', () => {
  it('includes the session token only when there is one', () => {
    expect(readCredentials({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' })).toEqual({
      accessKeyId: 'AKID',
      secretAccessKey: 'secret',
    });
    expect(
      readCredentials({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'session' }),
    ).toEqual({
      accessKeyId: 'AKID',
      secretAccessKey: 'secret',
      sessionToken: 'session',
    });
  });

  it('says in a sentence where the credentials come from when they are missing', () => {
    expect(() => readCredentials({})).toThrow(
      /^AWS_ACCESS_KEY_ID: is not set; Lambda sets it from the function's execution role; when you run the function yourself, export your AWS credentials/,
    );
  });

  it('names the missing variable without echoing the ones that are set', () => {
    expect(() => readCredentials({ AWS_ACCESS_KEY_ID: 'AKIDVISIBLE', AWS_SESSION_TOKEN: 'session-secret' })).toThrow(
      /^AWS_SECRET_ACCESS_KEY: /,
    );
    try {
      readCredentials({ AWS_ACCESS_KEY_ID: 'AKIDVISIBLE', AWS_SESSION_TOKEN: 'session-secret' });
    } catch (error) {
      expect(String(error)).not.toContain('session-secret');
    }
  });
});
