import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which USSD service codes each team may claim (docs/security.md, "Service-code grants"): one row
 * per (team, pattern), a pattern being an exact code (`*384*12#`) or a prefix ending in `*`
 * (`*384*`, `*`). Publishing a version that claims a code outside its team's grants is refused.
 * So that an existing deployment keeps working, each team is granted exactly the codes its
 * published versions claim (active or not, so a reactivation still works).
 */
export class CreateServiceCodeGrants1795600006000 implements MigrationInterface {
  name = 'CreateServiceCodeGrants1795600006000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE service_code_grants (
        team VARCHAR(63) NOT NULL REFERENCES teams(name),
        pattern VARCHAR(64) NOT NULL CHECK (pattern ~ '^\\*(([0-9]{1,6}\\*){0,7}|[0-9]{1,6}(\\*[0-9]{1,6}){0,7}#)$'),
        created_by VARCHAR(255) NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        PRIMARY KEY (team, pattern)
      )`);
    await queryRunner.query(`
      INSERT INTO service_code_grants (team, pattern, created_by)
      SELECT DISTINCT t.team, trigger->>'serviceCode', 'migration 1795600006000 (codes published before grants)'
        FROM workflows w
        JOIN workflow_teams t ON t.workflow_id = w.workflow_id
        CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(w.spec->'triggers') = 'array' THEN w.spec->'triggers' ELSE '[]'::jsonb END) AS trigger
       WHERE w.published_at IS NOT NULL
         AND trigger->>'type' = 'ussd'
         AND trigger->>'serviceCode' ~ '^\\*[0-9]{1,6}(\\*[0-9]{1,6}){0,7}#$'
      ON CONFLICT (team, pattern) DO NOTHING`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE service_code_grants`);
  }
}
