import { describe, expect, it } from '@jest/globals';
import { createRetries } from '../../../src/deployment/create.js';
import type { Rejected } from '../../../src/kube/client.js';

const rejected = (httpStatus: number, reason: string, message: string): Rejected => ({
  kind: 'rejected',
  httpStatus,
  status: { reason, message, causes: [] },
  retryAfterMs: undefined,
});
const BEING_DELETED = rejected(409, 'AlreadyExists', 'object is being deleted: deployments.apps "web" already exists');
const EXISTS = rejected(409, 'AlreadyExists', 'deployments.apps "web" already exists');

describe('createRetries', () => {
  it('retries an optimistic-lock Conflict with backoff (a quota updated by a concurrent create)', () => {
    expect(createRetries()(rejected(409, 'Conflict', 'Operation cannot be fulfilled on resourcequotas "q"'))).toBe(
      'backoff',
    );
  });

  it('retries an object on its way out until the deadline', () => {
    expect(createRetries()(BEING_DELETED)).toBe('until-deadline');
  });

  it('gives a plain AlreadyExists after a deletion was seen one more attempt, and no more', () => {
    const retries = createRetries();
    retries(BEING_DELETED);

    expect([retries(EXISTS), retries(EXISTS)]).toEqual(['backoff', undefined]);
  });

  it('does not retry a plain AlreadyExists: the name is taken', () => {
    expect(createRetries()(EXISTS)).toBeUndefined();
  });

  it.each([
    [403, 'Forbidden'],
    [422, 'Invalid'],
  ])('does not retry %d %s', (code, reason) => {
    expect(createRetries()(rejected(code, reason, 'no'))).toBeUndefined();
  });
});
