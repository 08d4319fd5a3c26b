import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A row of the seed's `execution_logs`: one execution of one workflow version. */
@Entity({ name: 'execution_logs' })
export class ExecutionLogEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'execution_id', type: 'varchar', length: 255, unique: true })
  executionId!: string;

  @Column({ name: 'workflow_id', type: 'uuid' })
  workflowId!: string;

  @Column({ name: 'workflow_version', type: 'integer' })
  workflowVersion!: number;

  @Column({ type: 'varchar', length: 50 })
  status!: string;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs!: number | null;

  @Column({ name: 'trigger_payload', type: 'jsonb', nullable: true })
  triggerPayload!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  output!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  error!: unknown;

  @Column({ name: 'session_id', type: 'varchar', length: 255, nullable: true })
  sessionId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'NOW()' })
  createdAt!: Date;
}

/** A row of the seed's `node_execution_logs`: one attempt of one node. */
@Entity({ name: 'node_execution_logs' })
export class NodeExecutionLogEntity {
  /** Made by the producer (the event's nodeExecutionId), so a redelivered event never doubles a row. */
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'execution_id', type: 'varchar', length: 255 })
  executionId!: string;

  @Column({ name: 'node_id', type: 'varchar', length: 255 })
  nodeId!: string;

  @Column({ name: 'node_type', type: 'varchar', length: 100 })
  nodeType!: string;

  @Column({ type: 'varchar', length: 50 })
  status!: string;

  @Column({ type: 'jsonb', nullable: true })
  output!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  error!: unknown;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs!: number;

  @Column({ name: 'executed_at', type: 'timestamptz' })
  executedAt!: Date;

  @Column({ type: 'integer', default: 0 })
  attempt!: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'NOW()' })
  createdAt!: Date;
}
