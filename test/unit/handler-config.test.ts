import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { resetWarmState } from '../../src/state.js';
import { functionEnv, IDENTITY_SECRETS } from '../support/fixture.js';
import { CountingTlsListener } from '../support/counting-listener.js';
import { invokeInProcess } from '../support/in-process.js';
import { makeTestPki } from '../support/pki.js';
import { recordSecrets } from '../support/run-record.js';

// A malformed environment is reported at the first invocation, naming the variable, before any network call; the
// module itself loads (a throw at import would surface as Runtime.ImportModuleError, not ConfigurationError). Only
// "nothing was sent" matters here, so the endpoint is a listener of the test's own that counts connections; the
// function's answers from a real API server are the end-to-end tests' business.
const pki = makeTestPki();
const listener = new CountingTlsListener(pki.server);
let env: Record<string, string>;

beforeAll(async () => {
  env = functionEnv(await listener.start(), pki.caData);
  recordSecrets(...IDENTITY_SECRETS);
});

beforeEach(() => {
  resetWarmState();
  listener.requests.length = 0;
  listener.connections = 0;
  listener.handshakes = 0;
});

afterAll(async () => {
  resetWarmState();
  await listener.stop();
});

describe('the handler with a malformed environment', () => {
  it.each([
    ['CLUSTER_ENDPOINT', 'http://127.0.0.1:6443', 'must start with https://'],
    ['CLUSTER_ENDPOINT', 'not a url', 'is not a URL'],
    ['CLUSTER_CA_DATA', 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t!', 'not valid base64'],
    ['CLUSTER_CA_DATA', Buffer.from('just some text').toString('base64'), 'not a PEM certificate'],
    ['AWS_REGION', '', 'is not set'],
    ['AWS_REGION', 'moon-base-1a', "is not a region in the AWS SDK's partition table"],
    ['CLUSTER_NAME', 'demo cluster!', 'is not an EKS cluster name'],
    ['CLUSTER_NAME', '', 'is not set'],
    ['NAMESPACE', 'Team_A', 'is not a Kubernetes namespace name'],
    ['AWS_SECRET_ACCESS_KEY', '', 'is not set'],
  ])('names %s (%j) and sends nothing', async (variable, value, says) => {
    const invocation = await invokeInProcess({}, { ...env, [variable]: value });

    expect(invocation).toMatchObject({ ok: false, errorType: 'ConfigurationError' });
    expect(invocation.errorMessage?.startsWith(`${variable}: `)).toBe(true);
    expect(invocation.errorMessage).toContain(says);
    expect(listener.requests).toHaveLength(0);
    expect(listener.connections).toBe(0);
  });

  it('reaches the endpoint when the same environment is well-formed', async () => {
    // The control for the cases above: with nothing malformed the function does connect and send, so their zero
    // counts mean it stopped early, not that the listener could not see it.
    const invocation = await invokeInProcess({}, env);

    expect(invocation.errorType).not.toBe('ConfigurationError');
    expect(listener.connections).toBe(1);
    expect(listener.handshakes).toBe(1);
    expect(listener.requests).toEqual([
      { method: 'POST', path: expect.stringMatching(/^\/apis\/apps\/v1\/namespaces\/default\/deployments\?/) },
    ]);
  });
});
