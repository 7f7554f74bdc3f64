// Test certificates made with the real openssl at test time: a cluster CA, a server certificate for 127.0.0.1 signed
// by it, the bad cases a client must refuse (another CA, another host name, expired), and what the local control
// plane needs besides: an admin client certificate (group system:masters, which RBAC's bootstrap policy binds to
// cluster-admin) and the key pair that signs service account tokens.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './tools.js';

export interface KeyPair {
  readonly key: string;
  readonly cert: string;
}

export interface TestPki {
  readonly ca: KeyPair;
  /** base64 of the CA PEM, as CLUSTER_CA_DATA carries it. */
  readonly caData: string;
  /** Valid for 127.0.0.1 and localhost, signed by `ca`. */
  readonly server: KeyPair;
  /** Valid for 127.0.0.1, signed by another CA. */
  readonly otherCaServer: KeyPair;
  /** That other CA, as a cluster recreated with a new CA has one. */
  readonly otherCa: KeyPair;
  /** base64 of `otherCa`'s PEM, as CLUSTER_CA_DATA or DescribeCluster carries it. */
  readonly otherCaData: string;
  /** Signed by `ca`, but for another host name. */
  readonly wrongHostServer: KeyPair;
  /** Signed by `ca`, for 127.0.0.1, expired. */
  readonly expiredServer: KeyPair;
  /** A client certificate signed by `ca`: CN lambda-eks-admin, O system:masters. */
  readonly admin: KeyPair;
  /** The service account token signing key (`key`) and its public key (`cert` holds the PEM public key). */
  readonly serviceAccount: KeyPair;
}

function openssl(dir: string, args: string[], faketime?: string): void {
  const openssl = requireTool('openssl');
  const [command, fullArgs] = faketime ? [requireTool('faketime'), [faketime, openssl, ...args]] : [openssl, args];
  execFileSync(command, fullArgs, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A new P-256 key, unencrypted. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): void {
  const extensions = [
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ];
  openssl(dir, [
    'req',
    '-x509',
    ...NEW_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '31',
    '-subj',
    `/CN=${name}`,
    ...extensions,
  ]);
}

function makeLeaf(dir: string, name: string, ca: string, san: string, faketime?: string): void {
  issue(dir, name, ca, `/CN=${name}`, `subjectAltName=${san}\nextendedKeyUsage=serverAuth`, faketime);
}

function makeClient(dir: string, name: string, ca: string, subject: string): void {
  issue(dir, name, ca, subject, 'extendedKeyUsage=clientAuth');
}

function issue(dir: string, name: string, ca: string, subject: string, extensions: string, faketime?: string): void {
  openssl(dir, ['req', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  writeFileSync(join(dir, `${name}.ext`), `${extensions}\nbasicConstraints=CA:FALSE\n`);
  openssl(
    dir,
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      // The expired certificate is back-dated 10 days: one day of validity keeps it expired.
      faketime === undefined ? '30' : '1',
      '-extfile',
      `${name}.ext`,
    ],
    faketime,
  );
}

/** Makes a fresh PKI in a temporary directory (removed before returning). */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-eks-pki-'));
  try {
    makeCa(dir, 'cluster-ca');
    makeCa(dir, 'other-ca');
    // An expired CA would fail for the wrong reason: only the leaf is back-dated.
    makeLeaf(dir, 'server', 'cluster-ca', 'IP:127.0.0.1,DNS:localhost');
    makeLeaf(dir, 'other-ca-server', 'other-ca', 'IP:127.0.0.1,DNS:localhost');
    makeLeaf(dir, 'wrong-host', 'cluster-ca', 'DNS:kubernetes.example.com');
    makeLeaf(dir, 'expired', 'cluster-ca', 'IP:127.0.0.1,DNS:localhost', '10 days ago');
    makeClient(dir, 'admin', 'cluster-ca', '/O=system:masters/CN=lambda-eks-admin');
    // kube-apiserver signs service account tokens with RS256 or ES256; an EC key is quick to make.
    openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'sa.key']);
    openssl(dir, ['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
    const pair = (name: string): KeyPair => ({
      key: readFileSync(join(dir, `${name}.key`), 'utf8'),
      cert: readFileSync(join(dir, `${name}.crt`), 'utf8'),
    });
    const ca = pair('cluster-ca');
    const otherCa = pair('other-ca');
    return {
      ca,
      caData: Buffer.from(ca.cert).toString('base64'),
      server: pair('server'),
      otherCaServer: pair('other-ca-server'),
      otherCa,
      otherCaData: Buffer.from(otherCa.cert).toString('base64'),
      wrongHostServer: pair('wrong-host'),
      expiredServer: pair('expired'),
      admin: pair('admin'),
      serviceAccount: {
        key: readFileSync(join(dir, 'sa.key'), 'utf8'),
        cert: readFileSync(join(dir, 'sa.pub'), 'utf8'),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
