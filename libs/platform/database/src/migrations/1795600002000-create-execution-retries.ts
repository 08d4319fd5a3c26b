import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Links a retried execution to the one it retries (POST /executions/{id}/retry). An extra
 * table rather than a column, so the seed's tables stay exactly as designed. No foreign key:
 * the link is written when the retry is accepted, before the ingester has written the new
 * execution's row.
 */
export class CreateExecutionRetries1795600002000 implements MigrationInterface {
  name = 'CreateExecutionRetries1795600002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE execution_retries (
        execution_id VARCHAR(255) PRIMARY KEY,
        retry_of VARCHAR(255) NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
      )`);
    await queryRunner.query(`CREATE INDEX idx_execution_retries_retry_of ON execution_retries(retry_of)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE execution_retries`);
  }
}
