/**
 * @ussd/session-domain: what a conversation session is (pure TypeScript).
 *
 * - `SessionState`: exactly the seed's fields; engine continuation state goes inside `data`.
 * - `sessionKey(id)`: `session:{sessionId}`; `DEFAULT_SESSION_TTL_SECONDS`: 3600.
 * - `parseSessionState(json)`: strict parse of a stored value.
 * - `SessionStore`: the contract the Redis and in-memory providers (@ussd/session-data-access) keep;
 *   `updateSession` is read-modify-write on top of it.
 */
export * from './session-state.js';
export * from './session-store.js';
