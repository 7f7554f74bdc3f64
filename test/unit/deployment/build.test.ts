import { describe, expect, it } from '@jest/globals';
import { buildDeployment } from '../../../src/deployment/build.js';

describe('buildDeployment', () => {
  const deployment = buildDeployment({
    name: 'web',
    namespace: 'team-a',
    replicas: 3,
    image: 'nginx:1.30.0',
  });

  it('selects its own pods: every selector label is on the pod template', () => {
    const selector = deployment.spec?.selector.matchLabels ?? {};
    const labels = deployment.spec?.template.metadata?.labels ?? {};
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    for (const [key, value] of Object.entries(selector)) {
      expect(labels[key]).toBe(value);
    }
  });

  it('labels the Deployment and its pods with the standard app.kubernetes.io labels', () => {
    for (const labels of [deployment.metadata?.labels, deployment.spec?.template.metadata?.labels]) {
      expect(labels).toMatchObject({ 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/managed-by': 'lambda-eks' });
    }
  });

  it('runs the requested replicas of one container serving port 80', () => {
    expect(deployment).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'team-a' },
    });
    expect(deployment.spec?.replicas).toBe(3);
    expect(deployment.spec?.template.spec?.containers).toEqual([
      expect.objectContaining({ image: 'nginx:1.30.0', ports: [expect.objectContaining({ containerPort: 80 })] }),
    ]);
  });
});
