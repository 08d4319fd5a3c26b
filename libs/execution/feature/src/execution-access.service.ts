import { Injectable } from '@nestjs/common';
import { type Identity, sees } from '@ussd/platform-auth';
import { ExecutionLogRepository } from '@ussd/execution-data-access';
import { WorkflowNotFoundException } from '@ussd/workflow-feature';
import { WorkflowRepository } from '@ussd/workflow-data-access';
import { ExecutionNotFoundException } from './execution.exception.js';

/**
 * Team scoping of executions: an execution belongs to its workflow's team. Another team's
 * workflow or execution answers exactly as a missing one does (404). An admin sees every team's.
 */
@Injectable()
export class ExecutionAccess {
  constructor(
    private readonly workflows: WorkflowRepository,
    private readonly logs: ExecutionLogRepository,
  ) {}

  /** The team a workflow (and so its executions) belongs to; undefined for an unknown workflow. */
  teamOf(workflowId: string): Promise<string | undefined> {
    return this.workflows.ownerOf(workflowId);
  }

  async requireWorkflow(workflowId: string, caller: Identity): Promise<void> {
    if (caller.role === 'admin') return;
    if (!sees(caller, await this.workflows.ownerOf(workflowId))) throw new WorkflowNotFoundException(workflowId);
  }

  /**
   * An execution is visible once its first event is logged. Before that (queued, not yet picked
   * up) only an admin reaches it, through the runner, which knows its own queue.
   */
  async requireExecution(executionId: string, caller: Identity): Promise<void> {
    if (caller.role === 'admin') return;
    const logged = await this.logs.getExecution(executionId);
    if (logged === null || !sees(caller, await this.workflows.ownerOf(logged.workflowId))) throw new ExecutionNotFoundException(executionId);
  }
}
