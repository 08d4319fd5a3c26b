/**
 * Execution statuses: the seed's `running`, `completed`, `failed`, `timeout`, plus
 * `queued` (accepted, not started) and `canceled`. No execution stays `running` forever:
 * a reaper ends it as `timeout` past its deadline.
 */
export const EXECUTION_STATUSES = ['queued', 'running', 'completed', 'failed', 'timeout', 'canceled'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set(['completed', 'failed', 'timeout', 'canceled']);

export function isExecutionStatus(value: unknown): value is ExecutionStatus {
  return typeof value === 'string' && (EXECUTION_STATUSES as readonly string[]).includes(value);
}

export function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/**
 * Whether a row in status `from` may become `to`. Events arrive out of order across
 * replicas, so a late `running` must never overwrite `completed`: statuses only move forward,
 * and a terminal status is final.
 */
export function canTransition(from: ExecutionStatus, to: ExecutionStatus): boolean {
  switch (from) {
    case 'queued':
      return to !== 'queued';
    case 'running':
      return isTerminal(to);
    case 'completed':
    case 'failed':
    case 'timeout':
    case 'canceled':
      return false;
  }
}
