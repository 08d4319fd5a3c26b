import { InMemorySessionStore } from './in-memory-session-store.js';
import { sessionState } from './session-store.contract.js';
import { sessionStoreApp } from './session-store.module.test-helpers.js';

describe('SessionStoreModule without REDIS_URL', () => {
  it('provides the in-memory store with SESSION_TTL_SECONDS, and empties it at shutdown', async () => {
    const { app, store } = await sessionStoreApp({ SESSION_TTL_SECONDS: '120' }, null);
    expect(store).toBeInstanceOf(InMemorySessionStore);
    expect(store.kind).toBe('memory');
    expect(store.ttlSeconds).toBe(120);
    await store.commit(sessionState('module-memory'), { expectedRevision: null });
    expect(await store.get('module-memory')).not.toBeNull();
    await app.close();
    expect(await store.get('module-memory')).toBeNull();
  });
});
