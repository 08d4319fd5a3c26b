import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which workflow answers a USSD service code in an environment: one row per claimed
 * (service_code, environment) pair, written in the same transaction that publishes, rolls back
 * or (de)activates a workflow. The primary key makes "two published workflows claim the same
 * code and environment" impossible even when two publishes race (the second gets 409), and gives
 * the hop path an indexed lookup. Rows hold the claims of each active workflow's newest
 * published version. Existing data is backfilled; where it already conflicts, the earliest
 * published claim wins.
 */
export class CreateUssdClaims1795600003000 implements MigrationInterface {
  name = 'CreateUssdClaims1795600003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE ussd_claims (
        service_code VARCHAR(64) NOT NULL,
        environment VARCHAR(50) NOT NULL,
        workflow_id UUID NOT NULL,
        claimed_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        PRIMARY KEY (service_code, environment)
      )`);
    await queryRunner.query(`CREATE INDEX idx_ussd_claims_workflow_id ON ussd_claims(workflow_id)`);
    await queryRunner.query(`
      INSERT INTO ussd_claims (service_code, environment, workflow_id, claimed_at)
      SELECT trigger->>'serviceCode', env, latest.workflow_id, latest.published_at
        FROM (
          SELECT DISTINCT ON (workflow_id) workflow_id, spec, published_at
            FROM workflows
           WHERE published_at IS NOT NULL AND is_active
           ORDER BY workflow_id, version DESC
        ) latest
        CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(latest.spec->'triggers') = 'array' THEN latest.spec->'triggers' ELSE '[]'::jsonb END) AS trigger
        CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(trigger->'environments') = 'array' THEN trigger->'environments' ELSE '[]'::jsonb END) AS env
       WHERE trigger->>'type' = 'ussd' AND trigger->>'serviceCode' IS NOT NULL
       ORDER BY latest.published_at
      ON CONFLICT (service_code, environment) DO NOTHING`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ussd_claims`);
  }
}
