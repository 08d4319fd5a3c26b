import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The seed's `execution_logs` and `node_execution_logs` tables and indexes, verbatim. */
export class CreateExecutionLogs1795600001000 implements MigrationInterface {
  name = 'CreateExecutionLogs1795600001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE execution_logs (
        id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        execution_id VARCHAR(255) NOT NULL UNIQUE,
        workflow_id UUID NOT NULL,
        workflow_version INTEGER NOT NULL,
        status VARCHAR(50) NOT NULL,
        started_at TIMESTAMP WITH TIME ZONE NOT NULL,
        completed_at TIMESTAMP WITH TIME ZONE,
        duration_ms INTEGER,
        trigger_payload JSONB,
        output JSONB,
        error JSONB,
        session_id VARCHAR(255),
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
      )`);
    await queryRunner.query(`CREATE INDEX idx_execution_logs_execution_id ON execution_logs(execution_id)`);
    await queryRunner.query(`CREATE INDEX idx_execution_logs_workflow_id ON execution_logs(workflow_id)`);
    await queryRunner.query(`CREATE INDEX idx_execution_logs_status ON execution_logs(status)`);
    await queryRunner.query(`CREATE INDEX idx_execution_logs_started_at ON execution_logs(started_at)`);
    await queryRunner.query(`CREATE INDEX idx_execution_logs_session_id ON execution_logs(session_id)`);
    await queryRunner.query(`
      CREATE TABLE node_execution_logs (
        id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        execution_id VARCHAR(255) NOT NULL,
        node_id VARCHAR(255) NOT NULL,
        node_type VARCHAR(100) NOT NULL,
        status VARCHAR(50) NOT NULL,
        output JSONB,
        error JSONB,
        duration_ms INTEGER NOT NULL,
        executed_at TIMESTAMP WITH TIME ZONE NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        FOREIGN KEY (execution_id) REFERENCES execution_logs(execution_id) ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX idx_node_execution_logs_execution_id ON node_execution_logs(execution_id)`);
    await queryRunner.query(`CREATE INDEX idx_node_execution_logs_node_id ON node_execution_logs(node_id)`);
    await queryRunner.query(`CREATE INDEX idx_node_execution_logs_status ON node_execution_logs(status)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE node_execution_logs`);
    await queryRunner.query(`DROP TABLE execution_logs`);
  }
}
