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

/** How a workflow is started, for the problem below: `{ type: 'ussd', serviceCode, environments }`. */
export interface TriggerSummary {
  readonly type: string;
  readonly serviceCode?: string;
  readonly environments?: readonly string[];
}

/**
 * `POST /workflows/{id}/executions` on a version without an `http` trigger. 409, like a draft
 * or a deactivated workflow, rather than 422: the request is well-formed; it is the state of
 * the published workflow that does not allow it, and a new version with an http trigger
 * changes the answer. Refused before anything is stored (no execution, no log row).
 */
export class NoHttpTriggerException extends ProblemException {
  constructor(workflowId: string, version: number, triggers: readonly TriggerSummary[]) {
    const ussd = triggers.filter((t) => t.type === 'ussd').map((t) => `${t.serviceCode ?? '?'} in ${(t.environments ?? []).join(', ')}`);
    const runBy =
      ussd.length > 0
        ? `It is run by its ussd trigger${ussd.length > 1 ? 's' : ''}: a subscriber dials ${ussd.join('; ')} and a USSD gateway calls POST /ussd/africastalking or POST /ussd/hubtel (docs/ussd.md).`
        : `Its triggers are: ${triggers.map((t) => t.type).join(', ') || 'none'}.`;
    super({
      type: 'urn:problem:execution:no-http-trigger',
      title: 'Workflow has no http trigger',
      status: 409,
      detail: `Workflow ${workflowId} (version ${version}) has no http trigger, so it cannot be run over HTTP. ${runBy} To run it over HTTP too, add a trigger { "type": "http", "entry": "<node id>" } in a new version and publish it.`,
      workflowId,
      version,
      triggers,
    });
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
