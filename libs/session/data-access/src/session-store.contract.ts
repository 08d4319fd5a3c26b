import { randomUUID } from 'node:crypto';
import { type ExpiredSession, type SessionState, SessionStateError, type SessionStore, updateSession } from '@ussd/session-domain';

/**
 * The one contract every SessionStore provider keeps (session-store.ts in @ussd/session-domain).
 * Each provider's spec calls `describeSessionStoreContract` with a factory of harnesses;
 * a fresh harness (own store, own data) is made for every test.
 */
export interface SessionStoreHarness {
  /** A store whose `ttlSeconds` is the one asked for. */
  readonly store: SessionStore;
  /** Another store over the same data: another replica (own connection) for Redis, the same store in memory. */
  readonly peer: SessionStore;
  /** Lets `ms` pass on the stores' clock: a real sleep for Redis, a fake clock advanced in memory. */
  wait(ms: number): Promise<void>;
  /** The stores' current time. */
  now(): Date;
  /** Writes a raw value where `sessionId`'s value lives, bypassing the store (Redis: `session:{id}`); with `writesRaw`. */
  writeRaw?(sessionId: string, value: string): Promise<void>;
  close(): Promise<void>;
}

export type SessionStoreHarnessFactory = (options: { ttlSeconds: number }) => Promise<SessionStoreHarness>;

const SEED_FIELDS = ['createdAt', 'data', 'isActive', 'lastActivityAt', 'msisdn', 'sessionId', 'type'];
/** Short enough for a quick suite, long enough that a loaded machine does not blur it. */
const TTL_SECONDS = 2;

export function describeSessionStoreContract(name: string, factory: SessionStoreHarnessFactory, options: { writesRaw: boolean }): void {
  describe(`SessionStore contract: ${name}`, () => {
    let h: SessionStoreHarness;
    let store: SessionStore;
    beforeEach(async () => {
      h = await factory({ ttlSeconds: TTL_SECONDS });
      store = h.store;
    });
    afterEach(async () => {
      await h.close();
    });

    it('reports its kind and TTL', () => {
      expect(['redis', 'memory']).toContain(store.kind);
      expect(store.ttlSeconds).toBe(TTL_SECONDS);
    });

    it("creates and reads back exactly the seed's fields", async () => {
      const state = sessionState(uniqueId('round-trip'), { data: { step: 1, selection: '1', nested: { list: [1, 'two', null] } } });
      const created = await store.commit(state, { expectedRevision: null });
      expect(created?.state).toEqual(state);
      expect(typeof created?.revision).toBe('string');
      const read = await h.peer.get(state.sessionId);
      expect(read).toEqual(created);
      expect(Object.keys(must(read).state).sort()).toEqual(SEED_FIELDS);
      expect(await store.get(uniqueId('absent'))).toBeNull();
    });

    it('refuses to create a session twice', async () => {
      const first = sessionState(uniqueId('twice'));
      const created = await store.commit(first, { expectedRevision: null });
      expect(await h.peer.commit({ ...first, data: { other: true } }, { expectedRevision: null })).toBeNull();
      expect(await store.get(first.sessionId)).toEqual(created);
    });

    it('writes only over the revision it read, and every write gets a new revision', async () => {
      const state = sessionState(uniqueId('cas'));
      const v1 = must(await store.commit(state, { expectedRevision: null }));
      const v2 = must(await store.commit({ ...state, data: { step: 2 } }, { expectedRevision: v1.revision }));
      expect(v2.state.data).toEqual({ step: 2 });
      expect(v2.revision).not.toBe(v1.revision);
      // The same value written again is still a new write.
      const v3 = must(await store.commit(v2.state, { expectedRevision: v2.revision }));
      expect(v3.revision).not.toBe(v2.revision);

      expect(await h.peer.commit({ ...state, data: { step: 'stale' } }, { expectedRevision: v1.revision })).toBeNull();
      expect(await store.commit({ ...state, data: { step: 'stale' } }, { expectedRevision: v2.revision })).toBeNull();
      expect(await store.get(state.sessionId)).toEqual(v3);
      // A revision does not resurrect a session that is gone.
      await store.end(state.sessionId);
      expect(await store.commit(state, { expectedRevision: v3.revision })).toBeNull();
      expect(await store.get(state.sessionId)).toBeNull();
    });

    it('never loses an update among 50 concurrent read-modify-writes (two replicas)', async () => {
      const state = sessionState(uniqueId('counter'), { data: { count: 0 } });
      await store.commit(state, { expectedRevision: null });
      const writers = 50;
      const increment = (current: SessionState): SessionState => ({ ...current, data: { count: (current.data['count'] as number) + 1 } });
      // Each failed attempt means another writer succeeded, so `writers` attempts always suffice.
      const results = await Promise.all(Array.from({ length: writers }, (_, i) => updateSession(i % 2 === 0 ? store : h.peer, state.sessionId, increment, writers)));
      expect(new Set(results.map((result) => result?.state.data['count'])).size).toBe(writers);
      expect((await store.get(state.sessionId))?.state.data).toEqual({ count: writers });
    });

    it('refuses a state outside the seed schema and writes nothing', async () => {
      const state = sessionState(uniqueId('invalid'));
      await expect(store.commit({ ...state, step: 2 } as SessionState, { expectedRevision: null })).rejects.toThrow(SessionStateError);
      await expect(store.commit({ ...state, msisdn: '' }, { expectedRevision: null })).rejects.toThrow(SessionStateError);
      expect(await store.get(state.sessionId)).toBeNull();
    });

    it('renews the TTL on every commit (sliding) and forgets an idle session after it', async () => {
      const state = sessionState(uniqueId('sliding'), { msisdn: uniqueMsisdn(), data: { hops: 0 } });
      await store.commit(state, { expectedRevision: null });
      const hop = (current: SessionState): SessionState => ({ ...current, data: { hops: (current.data['hops'] as number) + 1 } });
      await h.wait(1300);
      expect(await updateSession(store, state.sessionId, hop)).not.toBeNull();
      await h.wait(1300);
      // 2.6 s after creation with a 2 s TTL: alive only because the hop renewed it.
      expect((await store.get(state.sessionId))?.state.data).toEqual({ hops: 1 });
      expect(await updateSession(store, state.sessionId, hop)).not.toBeNull();
      await h.wait(TTL_SECONDS * 1000 + 300);
      expect(await store.get(state.sessionId)).toBeNull();
      expect((await store.acquire(state.sessionId, 'late', 1000)).session).toBeNull();
      expect(await store.listByMsisdn(state.msisdn)).toEqual([]);
      expect(await store.end(state.sessionId)).toBeNull();
    });

    it('leases a hop: one holder at a time, until release or expiry', async () => {
      const sessionId = uniqueId('lease');
      // A first hop takes the lease before the session exists.
      expect(await store.acquire(sessionId, 'hop-a', 500)).toEqual({ acquired: true, session: null });
      expect(await h.peer.acquire(sessionId, 'hop-b', 500)).toEqual({ acquired: false, session: null });
      await h.peer.release(sessionId, 'hop-b'); // not the holder: changes nothing
      expect((await h.peer.acquire(sessionId, 'hop-c', 500)).acquired).toBe(false);
      await store.release(sessionId, 'hop-a');
      expect((await h.peer.acquire(sessionId, 'hop-b', 300)).acquired).toBe(true);
      expect((await store.acquire(sessionId, 'hop-a', 300)).acquired).toBe(false);
      await h.wait(450);
      expect((await store.acquire(sessionId, 'hop-a', 300)).acquired).toBe(true);
    });

    it('returns the session from acquire, read-only when the lease is held elsewhere', async () => {
      const state = sessionState(uniqueId('acquire-read'));
      const created = await store.commit(state, { expectedRevision: null });
      expect(await store.acquire(state.sessionId, 'hop-a', 5000)).toEqual({ acquired: true, session: created });
      expect(await h.peer.acquire(state.sessionId, 'hop-b', 5000)).toEqual({ acquired: false, session: created });
    });

    it("releases the committer's lease in the commit, never someone else's, and keeps it on a conflict", async () => {
      const state = sessionState(uniqueId('commit-lease'));
      const first = await store.acquire(state.sessionId, 'hop-1', 5000);
      const created = must(await store.commit(state, { expectedRevision: null, leaseOwner: 'hop-1' }));
      expect(first.acquired).toBe(true);
      const second = await h.peer.acquire(state.sessionId, 'hop-2', 5000);
      expect(second).toEqual({ acquired: true, session: created });

      // A write by a non-holder succeeds but leaves hop-2's lease in place.
      const other = must(await store.commit({ ...state, data: { by: 'admin' } }, { expectedRevision: created.revision, leaseOwner: 'hop-x' }));
      expect(other).not.toBeNull();
      expect((await store.acquire(state.sessionId, 'hop-3', 5000)).acquired).toBe(false);

      // A conflicting commit writes nothing and keeps the lease.
      expect(await h.peer.commit({ ...state, data: { by: 'hop-2' } }, { expectedRevision: created.revision, leaseOwner: 'hop-2' })).toBeNull();
      expect((await store.acquire(state.sessionId, 'hop-3', 5000)).acquired).toBe(false);
      expect(await h.peer.commit({ ...state, data: { by: 'hop-2' } }, { expectedRevision: other.revision, leaseOwner: 'hop-2' })).not.toBeNull();
      expect((await store.acquire(state.sessionId, 'hop-3', 5000)).acquired).toBe(true);
    });

    it("lists one subscriber's live sessions, newest activity first", async () => {
      const msisdn = uniqueMsisdn();
      const at = (minute: number): string => new Date(Date.UTC(2024, 0, 1, 0, minute)).toISOString();
      const older = sessionState(uniqueId('list-1'), { msisdn, lastActivityAt: at(1) });
      const newest = sessionState(uniqueId('list-2'), { msisdn, lastActivityAt: at(3) });
      const middle = sessionState(uniqueId('list-3'), { msisdn, lastActivityAt: at(2) });
      const ended = sessionState(uniqueId('list-4'), { msisdn, lastActivityAt: at(4) });
      const someoneElse = sessionState(uniqueId('list-5'), { msisdn: uniqueMsisdn(), lastActivityAt: at(5) });
      for (const state of [older, newest, middle, ended, someoneElse]) await store.commit(state, { expectedRevision: null });
      await store.end(ended.sessionId);

      expect(await h.peer.listByMsisdn(msisdn)).toEqual([newest, middle, older]);
      expect(await store.listByMsisdn(msisdn, 2)).toEqual([newest, middle]);
      expect(await store.listByMsisdn(someoneElse.msisdn)).toEqual([someoneElse]);
      expect(await store.listByMsisdn(uniqueMsisdn())).toEqual([]);
    });

    it('ends a session: removes it and returns its last state', async () => {
      const state = sessionState(uniqueId('end'), { msisdn: uniqueMsisdn() });
      const created = must(await store.commit(state, { expectedRevision: null, expiryNote: { executionId: 'e-1' } }));
      const last = must(await store.commit({ ...state, isActive: false }, { expectedRevision: created.revision }));
      expect(await h.peer.end(state.sessionId)).toEqual(last.state);
      expect(await store.get(state.sessionId)).toBeNull();
      expect(await store.listByMsisdn(state.msisdn)).toEqual([]);
      expect(await store.end(state.sessionId)).toBeNull();
      // A new session may take the id again.
      expect(await store.commit(state, { expectedRevision: null })).not.toBeNull();
    });

    it('hands each expired session with a note to exactly one caller, with its latest note', async () => {
      const noted = Array.from({ length: 6 }, (_, i) => sessionState(uniqueId(`expired-${i}`)));
      const [first, second] = noted as [SessionState, SessionState];
      for (const [i, state] of noted.entries()) await store.commit(state, { expectedRevision: null, expiryNote: { executionId: `e-${i}`, waitingNode: 'menu' } });
      // The latest note wins; undefined keeps the note.
      const firstRead = must(await store.get(first.sessionId));
      expect(await store.commit({ ...first, data: { step: 2 } }, { expectedRevision: firstRead.revision, expiryNote: { executionId: 'e-0', waitingNode: 'pin' } })).not.toBeNull();
      const secondRead = must(await store.get(second.sessionId));
      expect(await store.commit({ ...second, data: { step: 2 } }, { expectedRevision: secondRead.revision })).not.toBeNull();
      const withoutNote = sessionState(uniqueId('no-note'));
      await store.commit(withoutNote, { expectedRevision: null });
      const noteRemoved = sessionState(uniqueId('note-removed'));
      const removed = must(await store.commit(noteRemoved, { expectedRevision: null, expiryNote: { executionId: 'gone' } }));
      await store.commit(noteRemoved, { expectedRevision: removed.revision, expiryNote: null });
      const ended = sessionState(uniqueId('ended'));
      await store.commit(ended, { expectedRevision: null, expiryNote: { executionId: 'ended' } });
      await store.end(ended.sessionId);

      expect(await store.takeExpired(h.now(), 100)).toEqual([]); // nothing has expired yet
      await h.wait(TTL_SECONDS * 1000 + 300);
      const alive = sessionState(uniqueId('alive'));
      await store.commit(alive, { expectedRevision: null, expiryNote: { executionId: 'alive' } });
      expect(await store.takeExpired(new Date(h.now().getTime() - 60_000), 100)).toEqual([]); // not expired by then

      // Four replicas sweep at once, two at a time each, until nothing is left.
      const sweeper = async (replica: SessionStore): Promise<ExpiredSession[]> => {
        const taken: ExpiredSession[] = [];
        for (let round = 0; round < 10; round++) {
          const batch = await replica.takeExpired(h.now(), 2);
          expect(batch.length).toBeLessThanOrEqual(2);
          if (batch.length === 0) return taken;
          taken.push(...batch);
        }
        throw new Error('takeExpired kept returning sessions');
      };
      const taken = (await Promise.all([store, h.peer, store, h.peer].map(sweeper))).flat();
      expect(taken.map((t) => t.sessionId).sort()).toEqual(noted.map((s) => s.sessionId).sort());
      const notes = new Map(taken.map((t) => [t.sessionId, t.note]));
      expect(notes.get(first.sessionId)).toEqual({ executionId: 'e-0', waitingNode: 'pin' });
      expect(notes.get(second.sessionId)).toEqual({ executionId: 'e-1', waitingNode: 'menu' });
      expect(await store.takeExpired(h.now(), 100)).toEqual([]);
      expect(await store.get(alive.sessionId)).not.toBeNull();
    });

    it.each([
      ['spaces', 'a session id with spaces'],
      ['glob characters', 'star*?[x]'],
      ['braces (cluster hash tags)', '{abc}:{}'],
      ['unicode', 'ünïcødé ☎️ 会话'],
      ['255 characters', 'x'.repeat(255)],
    ])('keeps hostile session ids apart: %s', async (_label, raw) => {
      const suffix = randomUUID();
      const sessionId = raw.length >= 255 ? `${suffix}${raw}`.slice(0, 255) : `${raw} ${suffix}`;
      const msisdn = `+254 7*{} ${suffix}`;
      const state = sessionState(sessionId, { msisdn, data: { text: raw } });
      expect((await store.acquire(sessionId, 'hop *{}', 5000)).acquired).toBe(true);
      const created = must(await store.commit(state, { expectedRevision: null, leaseOwner: 'hop *{}', expiryNote: { id: sessionId } }));
      expect(created.state).toEqual(state);
      expect(await h.peer.get(sessionId)).toEqual(created);
      expect(await store.get(`${sessionId}*`)).toBeNull();
      expect(await store.get(sessionId.slice(0, -1))).toBeNull();
      expect((await store.acquire(sessionId, 'other', 5000)).acquired).toBe(true);
      expect(await store.listByMsisdn(msisdn)).toEqual([state]);
      expect(await store.end(sessionId)).toEqual(state);
      expect(await store.get(sessionId)).toBeNull();
    });

    // Only stores whose values can be written behind their back (Redis). Nothing reaches the
    // in-memory store without passing parseSessionState: 'refuses a state outside the seed schema'.
    if (options.writesRaw) {
      it('reports a corrupt stored value as a SessionStateError, never as a missing session', async () => {
        const writeRaw = must(h.writeRaw);
        const garbage = uniqueId('corrupt');
        await writeRaw(garbage, '{"sessionId": "half');
        await expect(store.get(garbage)).rejects.toThrow(SessionStateError);
        await expect(store.acquire(garbage, 'hop', 1000)).rejects.toThrow(SessionStateError);
        await expect(store.get(garbage)).rejects.toThrow('invalid session state: not JSON');

        const extra = uniqueId('extra-field');
        await writeRaw(extra, JSON.stringify({ ...sessionState(extra), step: 2 }));
        await expect(store.get(extra)).rejects.toThrow('invalid session state: unexpected field(s): step');
        // Nor is it silently overwritten by a create.
        expect(await store.commit(sessionState(extra), { expectedRevision: null })).toBeNull();
      });
    }

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}

/** The value, which the test has just required to be there. */
function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('expected a value');
  return value;
}

export function uniqueId(label: string): string {
  return `contract-${label}-${randomUUID()}`;
}

function uniqueMsisdn(): string {
  return `+2547${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
}

export function sessionState(sessionId: string, overrides: Partial<SessionState> = {}): SessionState {
  const at = new Date().toISOString();
  return { sessionId, type: 'ussd', msisdn: '+254712345678', data: { step: 1, selection: '1' }, createdAt: at, lastActivityAt: at, isActive: true, ...overrides };
}
