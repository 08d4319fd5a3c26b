import { ProblemException } from '@ussd/platform-http';

export class ExecutionNotFoundException extends ProblemException {
  constructor(executionId: string) {
    super({
      type: 'urn:problem:execution:not-found',
      title: 'Execution not found',
      status: 404,
      detail: `No execution ${executionId}. A new execution's log appears within a second of its events.`,
      executionId,
    });
  }
}

export class ExecutionConflictException extends ProblemException {
  constructor(executionId: string, detail: string) {
    super({ type: 'urn:problem:execution:conflict', title: 'Execution conflict', status: 409, detail, executionId });
  }
}

export class NotRunnableException extends ProblemException {
  constructor(workflowId: string, detail: string) {
    super({ type: 'urn:problem:execution:not-runnable', title: 'Workflow not runnable', status: 409, detail, workflowId });
  }
}

export class ExecutionCapacityException extends ProblemException {
  constructor(detail: string) {
    super({ type: 'urn:problem:execution:capacity', title: 'Too many executions', status: 429, detail });
  }
}

export class EventBacklogException extends ProblemException {
  constructor(pending: number, reason?: string) {
    super({
      type: 'urn:problem:execution:log-backlog',
      title: 'Execution logs are falling behind',
      status: 503,
      detail: `${reason ? `${reason}; ` : ''}${pending} execution events are waiting to be written; new executions are refused until the backlog drains, so that no execution runs without its log. Retry shortly.`,
      retryAfterSeconds: 1,
    });
  }
}
