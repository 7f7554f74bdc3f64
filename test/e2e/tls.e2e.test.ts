import { describe, expect, it } from '@jest/globals';
import { sleep } from '../../src/retry.js';
import { CLUSTER_NAME } from '../support/fixture.js';
import { useTestBed } from '../support/hooks.js';
import { KubeApiStandIn } from '../support/kube-apiserver.js';

// The function trusts only the cluster CA, checks the host name and the validity dates, and does not retry a
// certificate it does not trust.
const servers: KubeApiStandIn[] = [];
const scope = useTestBed({ cleanup: () => Promise.all(servers.map((server) => server.stop())).then(() => undefined) });

describe.each([
  ['a certificate from another CA', 'otherCaServer', /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/],
  ['a certificate for another host name', 'wrongHostServer', /ERR_TLS_CERT_ALTNAME_INVALID/],
  ['an expired certificate', 'expiredServer', /CERT_HAS_EXPIRED/],
] as const)('a server with %s', (_label, certificate, code) => {
  it('fails once with ClusterUnreachableError that says it is a TLS trust problem', async () => {
    const server = new KubeApiStandIn({
      tls: scope.bed.pki[certificate],
      clusterName: CLUSTER_NAME,
      identities: {},
      namespaces: ['default'],
    });
    servers.push(server);
    const lambda = await scope.environment({ ...scope.bed.env, CLUSTER_ENDPOINT: await server.start() });

    const invocation = await lambda.invoke({}, 3000);

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'ClusterUnreachableError',
      errorMessage: expect.stringContaining('TLS trust problem'),
    });
    expect(!invocation.ok && invocation.errorMessage).toMatch(code);
    // The server counts the failed handshake when the client's alert reaches it, which can be after the answer.
    for (let waited = 0; server.tlsFailures === 0 && waited < 1000; waited += 10) await sleep(10);
    expect(server.tlsFailures).toBe(1);
    expect(server.requests).toHaveLength(0);
    expect(lambda.records().filter((record) => record['message'] === 'retrying')).toHaveLength(0);
  });
});
