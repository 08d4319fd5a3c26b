import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WorkflowEntity } from './workflow.entity.js';
import { WorkflowRepository } from './workflow.repository.js';

@Module({
  imports: [TypeOrmModule.forFeature([WorkflowEntity])],
  providers: [WorkflowRepository],
  exports: [WorkflowRepository],
})
export class WorkflowDataAccessModule {}
