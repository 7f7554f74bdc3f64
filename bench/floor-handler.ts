// The floor: the least a function can do to create a Deployment. The same token code as ours, cached the same way,
// and one hand-written node:https POST over a keep-alive agent; no client library, no validation, no retries, no
// logging. What separates our figures from these is what the function does beyond the physical minimum.
import { Agent, request } from 'node:https';
import type { Context } from 'aws-lambda';
import { issueEksToken } from '../src/aws/token-cache.js';

const agent = new Agent({
  keepAlive: true,
  ca: Buffer.from(process.env['CLUSTER_CA_DATA'] ?? '', 'base64').toString('utf8'),
});

export async function handler(
  event: { name?: string; replicas?: number } | null,
  _context: Context,
): Promise<{ status: number }> {
  const name = event?.name ?? 'nginx-deployment';
  const { token } = await issueEksToken(
    {
      accessKeyId: process.env['AWS_ACCESS_KEY_ID'] ?? '',
      secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] ?? '',
      sessionToken: process.env['AWS_SESSION_TOKEN'] ?? '',
    },
    process.env['AWS_REGION'] ?? '',
    process.env['CLUSTER_NAME'] ?? '',
    Date.now(),
  );
  const labels = { app: name };
  const body = JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: event?.replicas ?? 2,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.30.0' }] } },
    },
  });
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      `${process.env['CLUSTER_ENDPOINT'] ?? ''}/apis/apps/v1/namespaces/${process.env['NAMESPACE'] ?? 'default'}/deployments`,
      {
        method: 'POST',
        agent,
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  return { status };
}
