/**
 * @ussd/session-data-access: where sessions live between hops (the SessionStore providers).
 *
 * - `InMemorySessionStore`: the embedded default (no REDIS_URL), one process, bounded.
 */
export * from './in-memory-session-store.js';
