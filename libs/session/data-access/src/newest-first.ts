import type { SessionState } from '@ussd/session-domain';

/** By `lastActivityAt`, newest first; ties by the later commit. Shared with the Redis store. */
export function newestFirst(sessions: { state: SessionState; committed: number }[]): SessionState[] {
  return sessions
    .sort((a, b) => Date.parse(b.state.lastActivityAt) - Date.parse(a.state.lastActivityAt) || b.committed - a.committed)
    .map((session) => session.state);
}
