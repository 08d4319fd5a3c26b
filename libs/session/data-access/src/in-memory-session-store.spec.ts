import { InMemorySessionStore, SessionStoreFullError } from './in-memory-session-store.js';
import { describeSessionStoreContract, sessionState, uniqueId } from './session-store.contract.js';

/** A clock the tests move by hand, so TTL and lease tests take no real time. */
function fakeClock(start = Date.UTC(2024, 0, 1)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describeSessionStoreContract(
  'in-memory',
  async ({ ttlSeconds }) => {
    const clock = fakeClock();
    const store = new InMemorySessionStore({ ttlSeconds, now: clock.now });
    return {
      store,
      peer: store,
      wait: async (ms) => {
        clock.advance(ms);
      },
      now: () => new Date(clock.now()),
      close: () => store.close(),
    };
  },
  { writesRaw: false },
);

describe('InMemorySessionStore', () => {
  it('uses the real clock by default', async () => {
    const store = new InMemorySessionStore({ ttlSeconds: 1 });
    const state = sessionState(uniqueId('real-clock'));
    await store.commit(state, { expectedRevision: null, expiryNote: { executionId: 'e' } });
    expect(await store.takeExpired(new Date(), 10)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await store.get(state.sessionId)).toBeNull();
    expect(await store.takeExpired(new Date(), 10)).toEqual([{ sessionId: state.sessionId, note: { executionId: 'e' } }]);
  });

  it('refuses a new session when full, with a clear error, and makes room as sessions expire', async () => {
    const clock = fakeClock();
    const store = new InMemorySessionStore({ ttlSeconds: 10, maxSessions: 3, now: clock.now });
    for (let i = 0; i < 3; i++) await store.commit(sessionState(`full-${i}`), { expectedRevision: null });
    const extra = store.commit(sessionState('full-3'), { expectedRevision: null });
    await expect(extra).rejects.toThrow(SessionStoreFullError);
    await expect(extra).rejects.toThrow('the in-memory session store is full (3 live sessions); set REDIS_URL to keep sessions in Redis');
    // Existing sessions can still be written.
    const current = (await store.get('full-0'))!;
    expect(await store.commit({ ...current.state, data: { step: 2 } }, { expectedRevision: current.revision })).not.toBeNull();

    clock.advance(10_000);
    for (let i = 3; i < 6; i++) expect(await store.commit(sessionState(`full-${i}`), { expectedRevision: null })).not.toBeNull();
  });

  it('keeps notes of expired sessions bounded by maxSessions, dropping the oldest', async () => {
    const clock = fakeClock();
    const store = new InMemorySessionStore({ ttlSeconds: 10, maxSessions: 2, now: clock.now });
    for (let i = 0; i < 3; i++) {
      await store.commit(sessionState(`noted-${i}`), { expectedRevision: null, expiryNote: { i } });
      clock.advance(6_000); // each expires before the next but one is created
    }
    clock.advance(10_000);
    const taken = await store.takeExpired(new Date(clock.now()), 10);
    expect(taken).toEqual([
      { sessionId: 'noted-1', note: { i: 1 } },
      { sessionId: 'noted-2', note: { i: 2 } },
    ]);
  });

  it('hands out copies: changing a returned state or note changes nothing stored', async () => {
    const store = new InMemorySessionStore({ ttlSeconds: 10 });
    const state = sessionState(uniqueId('copies'), { data: { list: [1] } });
    const note = { steps: ['a'] };
    const created = (await store.commit(state, { expectedRevision: null, expiryNote: note }))!;
    (created.state.data['list'] as number[]).push(2);
    (state.data['list'] as number[]).push(3);
    note.steps.push('b');
    expect((await store.get(state.sessionId))?.state.data).toEqual({ list: [1] });
  });

  it('lets the lease holder take its lease again (renewing it)', async () => {
    const clock = fakeClock();
    const store = new InMemorySessionStore({ ttlSeconds: 10, now: clock.now });
    expect((await store.acquire('s', 'hop', 1000)).acquired).toBe(true);
    clock.advance(800);
    expect((await store.acquire('s', 'hop', 1000)).acquired).toBe(true);
    clock.advance(800);
    expect((await store.acquire('s', 'other', 1000)).acquired).toBe(false);
  });

  it('rejects a TTL that is not a positive whole number of seconds', () => {
    expect(() => new InMemorySessionStore({ ttlSeconds: 0 })).toThrow('ttlSeconds must be a positive integer, got 0');
  });
});
