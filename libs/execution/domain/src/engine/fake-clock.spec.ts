import { FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  it('auto-advances to the earliest timer once nothing else can run', async () => {
    const clock = new FakeClock({ start: 0 });
    const order: string[] = [];
    await Promise.all([clock.sleep(300).then(() => order.push(`b@${clock.now()}`)), clock.sleep(100).then(() => order.push(`a@${clock.now()}`))]);
    expect(order).toEqual(['a@100', 'b@300']);
  });

  it('forgets aborted timers and rejects with the reason', async () => {
    const clock = new FakeClock({ start: 0, autoAdvance: false });
    const controller = new AbortController();
    const sleeping = clock.sleep(1_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
  });

  it('moves only when told to, without auto-advance', async () => {
    const clock = new FakeClock({ start: 0, autoAdvance: false });
    let done = false;
    void clock.sleep(50).then(() => (done = true));
    await clock.advance(49);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
    expect(clock.now()).toBe(50);
  });
});
