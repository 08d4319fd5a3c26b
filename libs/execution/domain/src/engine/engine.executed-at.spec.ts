import { nextExecutionId, pinned, setup, specOf } from './engine.test-helpers.js';

describe('node attempt timestamps', () => {
  it('are strictly increasing within an execution even when attempts share a millisecond', async () => {
    const { sink, engine } = setup();
    const spec = specOf([
      { id: 'a', type: 'transform', assign: { x: '1' }, next: 'b' },
      { id: 'b', type: 'transform', assign: { y: '2' }, next: 'c' },
      { id: 'c', type: 'switch', cases: [{ when: 'vars.x = 1', next: 'd' }], default: 'd' },
      { id: 'd', type: 'end', output: 'vars.y' },
    ]);
    const result = await engine.start({ executionId: nextExecutionId(), workflow: pinned(spec), trigger: { type: 'http', payload: null } });
    expect(result.status).toBe('completed');
    const stamps = sink.nodeEvents().map((e) => e.executedAt);
    expect(stamps).toHaveLength(4);
    expect(new Set(stamps.map((s) => s.slice(0, 23))).size).toBe(1); // the fake clock never moved
    expect([...stamps].sort()).toEqual(stamps);
    expect(new Set(stamps).size).toBe(4);
    for (const stamp of stamps) expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});
