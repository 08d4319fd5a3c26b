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
