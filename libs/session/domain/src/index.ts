/**
 * @ussd/session-domain: what a conversation session is (pure TypeScript).
 *
 * - `SessionState`: exactly the seed's fields; engine continuation state goes inside `data`.
 * - `sessionKey(id)`: `session:{sessionId}`; `DEFAULT_SESSION_TTL_SECONDS`: 3600.
 * - `parseSessionState(json)`: strict parse of a stored value.
 * The SessionStore contract and its Redis / in-memory providers arrive with the sessions issue.
 */
export * from './session-state.js';
