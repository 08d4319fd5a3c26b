import { randomUUID } from 'node:crypto';
import { envelopeProblem, type ExecutionEvent, sinkBackPressure } from './execution-events.js';

const base = () => ({ eventId: randomUUID(), executionId: 'exec-1', workflowId: randomUUID(), workflowVersion: 1, occurredAt: new Date().toISOString() });

describe('envelopeProblem', () => {
  it('accepts each well-formed event type', () => {
    const now = new Date().toISOString();
    const events: ExecutionEvent[] = [
      { ...base(), type: 'execution.started', payload: { triggerPayload: { a: 1 }, sessionId: null, startedAt: now, deadlineAt: null } },
      {
        ...base(),
        type: 'node.finished',
        payload: { nodeExecutionId: randomUUID(), nodeId: 'n1', nodeType: 'end', status: 'completed', output: 1, error: null, durationMs: 3, executedAt: now, attempt: 0 },
      },
      { ...base(), type: 'execution.paused', payload: { nodeId: 'menu', waitingFor: 'input' } },
      { ...base(), type: 'execution.resumed', payload: { nodeId: 'menu' } },
      { ...base(), type: 'execution.finished', payload: { status: 'completed', output: null, error: null, completedAt: now, durationMs: 10 } },
    ];
    for (const event of events) expect([event.type, envelopeProblem(event)]).toEqual([event.type, undefined]);
  });

  it.each([
    ['a string', 'x', 'not an object'],
    ['no eventId', { ...base(), eventId: 'nope', type: 'execution.resumed', payload: { nodeId: 'a' } }, 'eventId must be a UUID'],
    ['an unknown type', { ...base(), type: 'execution.exploded', payload: {} }, 'unknown type'],
    ['a long execution id', { ...base(), executionId: 'x'.repeat(256), type: 'execution.resumed', payload: { nodeId: 'a' } }, 'executionId must be 1-255 characters'],
    ['a negative duration', { ...base(), type: 'execution.finished', payload: { status: 'completed', completedAt: new Date().toISOString(), durationMs: -1 } }, 'payload.durationMs must be a non-negative integer'],
    ['a running finish', { ...base(), type: 'execution.finished', payload: { status: 'running', completedAt: new Date().toISOString(), durationMs: 1 } }, 'payload.status is not a terminal status'],
    ['a node without row id', { ...base(), type: 'node.finished', payload: { nodeId: 'a' } }, 'payload.nodeExecutionId must be a UUID'],
  ])('refuses %s', (_name, value, reason) => {
    expect(envelopeProblem(value)).toBe(reason);
  });
});

describe('sinkBackPressure', () => {
  it('returns the state of a sink that reports one, and undefined for a sink that never falls behind', () => {
    const plain = { emit: () => undefined };
    const buffered = { emit: () => undefined, saturated: true, pending: 7, saturationReason: 'Redis is unreachable' };
    expect(sinkBackPressure(plain)).toBeUndefined();
    expect(sinkBackPressure(buffered)).toMatchObject({ saturated: true, pending: 7, saturationReason: 'Redis is unreachable' });
    expect(sinkBackPressure({ emit: () => undefined, saturated: 'yes', pending: 1 } as never)).toBeUndefined();
  });
});
