import { Module } from '@nestjs/common';
import { WorkflowDataAccessModule } from '@ussd/workflow-data-access';
import { WorkflowsController } from './workflows.controller.js';
import { WorkflowsService } from './workflows.service.js';

/** The workflow registry's HTTP API. */
@Module({
  imports: [WorkflowDataAccessModule],
  controllers: [WorkflowsController],
  providers: [WorkflowsService],
  exports: [WorkflowsService],
})
export class WorkflowFeatureModule {}
