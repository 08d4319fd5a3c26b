/**
 * @ussd/session-data-access: where sessions live between hops (the SessionStore providers).
 *
 * - `SessionStoreModule` (global): SESSION_STORE, inject with `@InjectSessionStore()`; Redis on
 *   the shared REDIS_CLIENT when REDIS_URL is set, in memory otherwise.
 * - `RedisSessionStore`: `session:{sessionId}` (the seed's JSON, sliding `EX`), leases, revisions,
 *   index and expiry under REDIS_KEY_PREFIX; a hop is two round trips (Lua scripts).
 * - `InMemorySessionStore`: the embedded default, one process, bounded (`maxSessions`).
 * - Both keep the contract suite in `session-store.contract.ts`.
 */
export * from './in-memory-session-store.js';
export * from './redis-session-store.js';
export * from './session-store.module.js';
