import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log (docs/security.md, "Audit log"): one row per change, written in the change's own
 * transaction where the change is a database write. Rows are only ever inserted. `id` orders rows
 * as they were written and is the keyset of `GET /audit` (newest first); the indexes serve its
 * filters: by time, by team, by target, by actor, by action.
 */
export class CreateAuditLog1795600007000 implements MigrationInterface {
  name = 'CreateAuditLog1795600007000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_log (
        id BIGSERIAL PRIMARY KEY,
        at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        actor VARCHAR(255) NOT NULL,
        actor_kind VARCHAR(16) NOT NULL,
        team VARCHAR(63),
        action VARCHAR(64) NOT NULL,
        target_type VARCHAR(64) NOT NULL,
        target_id VARCHAR(255) NOT NULL,
        request_id VARCHAR(128),
        details JSONB NOT NULL DEFAULT '{}'::jsonb
      )`);
    await queryRunner.query(`CREATE INDEX idx_audit_log_at ON audit_log(at)`);
    await queryRunner.query(`CREATE INDEX idx_audit_log_team ON audit_log(team, id)`);
    await queryRunner.query(`CREATE INDEX idx_audit_log_target ON audit_log(target_type, target_id, id)`);
    await queryRunner.query(`CREATE INDEX idx_audit_log_actor ON audit_log(actor, id)`);
    await queryRunner.query(`CREATE INDEX idx_audit_log_action ON audit_log(action, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_log`);
  }
}
