// The local control plane's EKS authentication: a TokenReview webhook that kube-apiserver calls for every bearer token
// (--authentication-token-webhook-config-file), as EKS calls aws-iam-authenticator's server
// (kubernetes-sigs/aws-iam-authenticator pkg/server/server.go). It verifies the k8s-aws-v1. token the way the
// authenticator's Verify does (pkg/token/token.go: prefix, STS host, action, signed x-k8s-aws-id, expiry), checks the
// SigV4 signature with the test credentials as STS would, then maps the role to a user name and groups as the access
// entry deploy.sh creates does. RBAC in kube-apiserver judges the rest.
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { verifyEksToken } from '../eks-token-verifier.js';
import { recordSecrets } from '../run-record.js';
import type { KeyPair } from '../pki.js';

/** An IAM identity as STS knows it, and what the cluster's access entry maps it to. */
export interface Identity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The session token STS issued with the key, if any; a token signed without it (or with another) is refused. */
  readonly sessionToken?: string;
  /** The ARN GetCallerIdentity answers (an assumed-role ARN for a Lambda function's role). */
  readonly arn: string;
  /** The Kubernetes user name the access entry maps it to. */
  readonly username: string;
  readonly groups: readonly string[];
}

const API_VERSION = 'authentication.k8s.io/v1';
const MAX_BODY_BYTES = 64 * 1024;

/** The webhook server; `start` answers its https URL. */
export class TokenWebhook {
  private readonly server: Server;

  constructor(
    private readonly options: {
      readonly tls: KeyPair;
      readonly clusterName: string;
      readonly identities: readonly Identity[];
      /** Where each refusal is written with its reason (never the token). */
      readonly logFile: string;
      /** A JSON file of `{ accessKeyId: count }`: the next `count` reviews of that key fail as if STS were down, so
       * that kube-apiserver answers its own 401 to a good token (see refuseTokenReviews). */
      readonly refusalsFile: string;
      /** A folder of JSON files, one Identity each: identities a test registers while the control plane runs (an IAM
       * role made in moto, and the access entry that maps it), besides `identities`. */
      readonly identitiesDir: string;
    },
  ) {
    this.server = createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => this.serve(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the token webhook is not listening');
    return `https://127.0.0.1:${address.port}/authenticate`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const review = this.review(size <= MAX_BODY_BYTES ? Buffer.concat(chunks).toString('utf8') : '');
      const body = JSON.stringify({ apiVersion: API_VERSION, kind: 'TokenReview', status: review });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
    });
  }

  /** The identities of the start, and those registered since. */
  private known(): Identity[] {
    const registered = existsSync(this.options.identitiesDir)
      ? readdirSync(this.options.identitiesDir)
          .filter((file) => file.endsWith('.json'))
          .map((file): Identity => JSON.parse(readFileSync(join(this.options.identitiesDir, file), 'utf8')))
      : [];
    return [...this.options.identities, ...registered];
  }

  private review(text: string): Record<string, unknown> {
    let token: unknown;
    try {
      token = (JSON.parse(text) as { spec?: { token?: unknown } }).spec?.token;
    } catch {
      return this.refuse('the TokenReview is not JSON');
    }
    if (typeof token !== 'string') {
      return this.refuse('the TokenReview has no token');
    }
    recordSecrets(token);
    const verdict = verifyEksToken(token, {
      clusterName: this.options.clusterName,
      partition: 'aws',
      now: Date.now(),
      secretFor: (id) => this.known().find((identity) => identity.accessKeyId === id)?.secretAccessKey,
    });
    if (!verdict.ok) {
      return this.refuse(verdict.reason);
    }
    const identity = this.known().find((candidate) => candidate.accessKeyId === verdict.accessKeyId);
    if (identity === undefined || identity.sessionToken !== verdict.sessionToken) {
      return this.refuse('STS: the security token included in the request is invalid');
    }
    if (this.takeRefusal(identity.accessKeyId)) {
      return this.refuse('STS: service unavailable (injected by the test)');
    }
    // arn:aws:sts::<account>:assumed-role/<role>/<session>
    const [, , , , account = '', resource = ''] = identity.arn.split(':');
    const [, roleName = '', sessionName = ''] = resource.split('/');
    return {
      authenticated: true,
      user: {
        username: identity.username,
        uid: `aws-iam-authenticator:${account}:${identity.accessKeyId}`,
        groups: [...identity.groups],
        extra: {
          accessKeyId: [identity.accessKeyId],
          arn: [identity.arn],
          canonicalArn: [`arn:aws:iam::${account}:role/${roleName}`],
          sessionName: [sessionName],
        },
      },
    };
  }

  private takeRefusal(accessKeyId: string): boolean {
    if (!existsSync(this.options.refusalsFile)) return false;
    const parsed: unknown = JSON.parse(readFileSync(this.options.refusalsFile, 'utf8'));
    const counts = new Map(Object.entries(typeof parsed === 'object' && parsed !== null ? parsed : {}));
    const left: unknown = counts.get(accessKeyId);
    if (typeof left !== 'number' || left <= 0) return false;
    counts.set(accessKeyId, left - 1);
    writeFileSync(this.options.refusalsFile, JSON.stringify(Object.fromEntries(counts)));
    return true;
  }

  private refuse(reason: string): Record<string, unknown> {
    appendFileSync(this.options.logFile, `${new Date().toISOString()} refused: ${reason}\n`);
    return { authenticated: false, error: reason };
  }
}
