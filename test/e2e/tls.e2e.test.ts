import { describe, expect, it } from '@jest/globals';
import { useCluster } from '../support/cluster.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { TcpProxy } from '../support/tcp-proxy.js';

// The function trusts only the cluster CA, checks the host name and the validity dates, and does not retry a
// certificate it does not trust. Each bad certificate is served by a fault proxy in front of the real kube-apiserver;
// a TCP proxy in front of that counts the connections the function opens, so that a retry would show.
const stoppable: { stop(): Promise<void> }[] = [];
const scope = useCluster({
  cleanup: () => Promise.all(stoppable.splice(0).map((server) => server.stop())).then(() => undefined),
});

describe.each([
  ['a certificate from another CA', 'otherCaServer', /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/],
  ['a certificate for another host name', 'wrongHostServer', /ERR_TLS_CERT_ALTNAME_INVALID/],
  ['an expired certificate', 'expiredServer', /CERT_HAS_EXPIRED/],
] as const)('a server with %s', (_label, certificate, code) => {
  it('fails once with ClusterUnreachableError that says it is a TLS trust problem', async () => {
    const impostor = new FaultProxy(scope.info.endpoint, scope.info.pki.ca.cert, scope.info.pki[certificate]);
    stoppable.push(impostor);
    const connections = new TcpProxy(Number(new URL(await impostor.start()).port));
    stoppable.push(connections);
    const lambda = await scope.environment({ ...scope.env, CLUSTER_ENDPOINT: await connections.start() });

    const invocation = await lambda.invoke({}, 3000);

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'ClusterUnreachableError',
      errorMessage: expect.stringContaining('TLS trust problem'),
    });
    expect(!invocation.ok && invocation.errorMessage).toMatch(code);
    // One connection, whose handshake failed: no request, and no second try.
    expect(connections.connections).toBe(1);
    expect(impostor.handshakes).toBe(0);
    expect(impostor.requests).toHaveLength(0);
    expect(lambda.records().filter((record) => record['message'] === 'retrying')).toHaveLength(0);
  });
});
