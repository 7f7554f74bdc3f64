import { X509Certificate } from 'node:crypto';
import { lookUpRegion } from './aws/regions.js';
import {
  CLUSTER_NAME_PATTERN,
  DEFAULT_LIST_PAGE_SIZE,
  DEFAULT_NAMESPACE,
  DNS1123_LABEL,
  DNS1123_LABEL_MAX,
  MAX_LIST_PAGE_SIZE,
} from './constants.js';
import { ConfigurationError } from './errors.js';

/** Where the Kubernetes API server is and the CA that signs its certificate. */
export interface ClusterEndpoint {
  /** https URL of the API server, without a trailing slash. */
  readonly endpoint: string;
  /** The CA certificate(s), PEM. */
  readonly caPem: string;
}

/** What the function reads from its environment once per execution environment. */
export interface FunctionConfig {
  readonly clusterName: string;
  readonly region: string;
  readonly namespace: string;
  /** How many pods one list request asks for (LAMBDA_EKS_LIST_PAGE_SIZE). */
  readonly listPageSize: number;
  /** Set when CLUSTER_ENDPOINT and CLUSTER_CA_DATA are; otherwise the function asks DescribeCluster. */
  readonly cluster: ClusterEndpoint | undefined;
  /** AWS_ENDPOINT_URL_S3, the AWS SDKs' variable for another S3 endpoint (an emulator): where manifests in S3 are read. */
  readonly s3Endpoint: string | undefined;
}

/** The function's AWS credentials, as Lambda puts them in the environment. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the function's configuration; throws ConfigurationError naming the variable at fault. */
export function readConfig(env: Env): FunctionConfig {
  const clusterName = required(env, 'CLUSTER_NAME', 'set it to the name of the EKS cluster to deploy to.');
  if (!CLUSTER_NAME_PATTERN.test(clusterName)) {
    throw new ConfigurationError(
      `"${clusterName}" is not an EKS cluster name (1 to 100 letters, digits, "-" or "_", starting with a letter or digit)`,
      { variable: 'CLUSTER_NAME' },
    );
  }
  return {
    clusterName,
    region: readRegion(env),
    namespace: readNamespace(env),
    cluster: readClusterEndpoint(env),
    listPageSize: readListPageSize(env),
    s3Endpoint: readS3Endpoint(env),
  };
}

function readS3Endpoint(env: Env): string | undefined {
  const value = env['AWS_ENDPOINT_URL_S3'];
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError('is not a URL; leave it unset for AWS S3, or give http(s)://host:port', {
      variable: 'AWS_ENDPOINT_URL_S3',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigurationError(`must be an http:// or https:// URL, not ${url.protocol}`, {
      variable: 'AWS_ENDPOINT_URL_S3',
    });
  }
  return value.replace(/\/+$/, '');
}

/** Reads the credentials Lambda provides; throws ConfigurationError when they are missing. Never echoes a value. */
export function readCredentials(env: Env): AwsCredentials {
  const hint =
    "Lambda sets it from the function's execution role; when you run the function yourself, export your AWS " +
    'credentials (for example with "aws configure export-credentials --format env").';
  const accessKeyId = required(env, 'AWS_ACCESS_KEY_ID', hint);
  const secretAccessKey = required(env, 'AWS_SECRET_ACCESS_KEY', hint);
  const sessionToken = env['AWS_SESSION_TOKEN'];
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

/** Decodes CLUSTER_CA_DATA-style base64 into PEM and checks it holds a certificate; throws ConfigurationError. */
export function decodeCaData(data: string, variable: string): string {
  const compact = data.replace(/\s+/g, '');
  if (compact.startsWith('-----BEGIN')) {
    throw new ConfigurationError(
      'this is a PEM certificate; the variable takes it base64-encoded, exactly as kubeconfig certificate-authority-data ' +
        'and DescribeCluster certificateAuthority.data carry it (base64 -w0 ca.crt)',
      { variable },
    );
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new ConfigurationError(
      'not valid base64; use the value of certificateAuthority.data from "aws eks describe-cluster"',
      { variable },
    );
  }
  const pem = Buffer.from(compact, 'base64').toString('utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigurationError(
      'decodes to something that is not a PEM certificate; use the value of certificateAuthority.data from ' +
        '"aws eks describe-cluster"',
      { variable },
    );
  }
  try {
    new X509Certificate(pem);
  } catch (error) {
    throw new ConfigurationError('decodes to a PEM block that is not a valid X.509 certificate', {
      variable,
      cause: error,
    });
  }
  return pem;
}

/** Checks an API server URL: https, a host, no credentials, query or fragment; throws ConfigurationError. */
export function parseEndpoint(value: string, variable: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new ConfigurationError(
      `"${value}" is not a URL; use the cluster's API server endpoint, e.g. https://ABC123.gr7.us-east-1.eks.amazonaws.com`,
      { variable, cause: error },
    );
  }
  if (url.protocol !== 'https:') {
    throw new ConfigurationError(
      `"${value}" must start with https:// (the API server is only reached over verified TLS)`,
      {
        variable,
      },
    );
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigurationError('the endpoint must not carry credentials, a query or a fragment', { variable });
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** The trimmed value of a variable; throws ConfigurationError "<VARIABLE>: is not set; <fix>" when it is empty. */
function required(env: Env, variable: string, fix: string): string {
  const value = env[variable]?.trim();
  if (!value) {
    throw new ConfigurationError(`is not set; ${fix}`, { variable });
  }
  return value;
}

/** AWS_REGION, which Lambda sets; AWS_DEFAULT_REGION only as the AWS CLI's fallback when running elsewhere. */
function readRegion(env: Env): string {
  const variable =
    env['AWS_REGION']?.trim() || !env['AWS_DEFAULT_REGION']?.trim() ? 'AWS_REGION' : 'AWS_DEFAULT_REGION';
  const region = required(
    env,
    variable,
    "Lambda sets it to the region the function runs in, which must be the cluster's; when you run the function " +
      "yourself, set it to the cluster's region, e.g. us-east-1.",
  );
  if (lookUpRegion(region) === undefined) {
    throw new ConfigurationError(
      `"${region}" is not a region in the AWS SDK's partition table (such as us-east-1, cn-north-1, us-gov-west-1 ` +
        'or eusc-de-east-1); use the region code the cluster is in. A region newer than this build needs a newer ' +
        '@aws-sdk/core.',
      { variable },
    );
  }
  return region;
}

function readNamespace(env: Env): string {
  const namespace = env['NAMESPACE']?.trim();
  if (!namespace) {
    return DEFAULT_NAMESPACE;
  }
  if (namespace.length > DNS1123_LABEL_MAX || !DNS1123_LABEL.test(namespace)) {
    throw new ConfigurationError(
      `"${namespace}" is not a Kubernetes namespace name (lower-case letters, digits and "-", at most 63 characters)`,
      { variable: 'NAMESPACE' },
    );
  }
  return namespace;
}

function readListPageSize(env: Env): number {
  const value = env['LAMBDA_EKS_LIST_PAGE_SIZE']?.trim();
  if (!value) {
    return DEFAULT_LIST_PAGE_SIZE;
  }
  const size = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(size >= 1 && size <= MAX_LIST_PAGE_SIZE)) {
    throw new ConfigurationError(
      `"${value}" is not a page size: give a whole number of pods from 1 to ${MAX_LIST_PAGE_SIZE}, or leave it unset ` +
        `for ${DEFAULT_LIST_PAGE_SIZE}`,
      { variable: 'LAMBDA_EKS_LIST_PAGE_SIZE' },
    );
  }
  return size;
}

function readClusterEndpoint(env: Env): ClusterEndpoint | undefined {
  const endpoint = env['CLUSTER_ENDPOINT']?.trim();
  const caData = env['CLUSTER_CA_DATA']?.trim();
  if (!endpoint && !caData) {
    return undefined;
  }
  if (!endpoint || !caData) {
    const [set, missing] = endpoint ? ['CLUSTER_ENDPOINT', 'CLUSTER_CA_DATA'] : ['CLUSTER_CA_DATA', 'CLUSTER_ENDPOINT'];
    throw new ConfigurationError(
      `is not set but ${set} is; set both (from "aws eks describe-cluster") or neither (the function then calls DescribeCluster)`,
      { variable: missing },
    );
  }
  return {
    endpoint: parseEndpoint(endpoint, 'CLUSTER_ENDPOINT'),
    caPem: decodeCaData(caData, 'CLUSTER_CA_DATA'),
  };
}
