import { errorMatches, findRule, retryDelayMs } from './policies.js';

describe('policies', () => {
  it.each([
    ['*', 'anything', true],
    ['http.*', 'http.status.503', true],
    ['http.status.5*', 'http.status.503', true],
    ['http.status.5*', 'http.status.404', false],
    ['node.timeout', 'node.timeout', true],
    ['node.timeout', 'node.timeout.x', false],
  ])('%s matches %s: %s', (pattern, code, expected) => {
    expect(errorMatches(pattern, code)).toBe(expected);
  });

  it('uses the first rule that matches', () => {
    const rules = [{ errors: ['http.status.429'], id: 1 }, { errors: ['http.*'], id: 2 }, { errors: ['*'], id: 3 }];
    expect(findRule(rules, 'http.status.429')?.id).toBe(1);
    expect(findRule(rules, 'http.network')?.id).toBe(2);
    expect(findRule(rules, 'node.timeout')?.id).toBe(3);
    expect(findRule(undefined, 'x')).toBeUndefined();
  });

  it('backs off exponentially up to maxDelayMs', () => {
    const rule = { errors: ['*'], maxAttempts: 5, intervalMs: 100, backoffRate: 3, maxDelayMs: 1000 };
    expect([1, 2, 3, 4].map((retry) => retryDelayMs(rule, retry))).toEqual([100, 300, 900, 1000]);
  });

  it('defaults to one second doubling, and applies full and equal jitter', () => {
    expect(retryDelayMs({ errors: ['*'], maxAttempts: 3 }, 2)).toBe(2000);
    expect(retryDelayMs({ errors: ['*'], maxAttempts: 3, intervalMs: 1000, jitter: 'full' }, 1, () => 0.25)).toBe(250);
    expect(retryDelayMs({ errors: ['*'], maxAttempts: 3, intervalMs: 1000, jitter: 'equal' }, 1, () => 0.5)).toBe(750);
  });
});
