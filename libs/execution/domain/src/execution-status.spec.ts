import { canTransition, EXECUTION_STATUSES, isExecutionStatus, isTerminal } from './execution-status.js';

describe('execution statuses', () => {
  it("includes the seed's four statuses", () => {
    for (const status of ['running', 'completed', 'failed', 'timeout']) expect(isExecutionStatus(status)).toBe(true);
    expect(isExecutionStatus('done')).toBe(false);
    expect(isExecutionStatus(42)).toBe(false);
  });

  it('never leaves a terminal status', () => {
    for (const from of EXECUTION_STATUSES.filter(isTerminal)) {
      for (const to of EXECUTION_STATUSES) expect(canTransition(from, to)).toBe(false);
    }
  });

  it('moves forward only: a late running never overwrites a finished execution', () => {
    expect(canTransition('queued', 'running')).toBe(true);
    expect(canTransition('running', 'completed')).toBe(true);
    expect(canTransition('running', 'running')).toBe(false);
    expect(canTransition('running', 'queued')).toBe(false);
    expect(canTransition('completed', 'running')).toBe(false);
  });
});
