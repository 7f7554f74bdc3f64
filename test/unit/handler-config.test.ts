import { describe, expect, it } from '@jest/globals';
import { useTestBed } from '../support/hooks.js';
import { invokeInProcess } from '../support/in-process.js';

// A malformed environment is reported at the first invocation, naming the variable, before any network call; the
// module itself loads (a throw at import would surface as Runtime.ImportModuleError, not ConfigurationError).
const scope = useTestBed();

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
    const invocation = await invokeInProcess({}, { ...scope.bed.env, [variable]: value });

    expect(invocation).toMatchObject({ ok: false, errorType: 'ConfigurationError' });
    expect(invocation.errorMessage?.startsWith(`${variable}: `)).toBe(true);
    expect(invocation.errorMessage).toContain(says);
    expect(scope.bed.server.requests).toHaveLength(0);
    expect(scope.bed.server.handshakes).toBe(0);
  });
});
