import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which team owns each workflow (docs/security.md, "Teams"): one row per workflow id, written
 * with its first version, in its own table so the seed's `workflows` table stays as designed.
 * Executions belong to their workflow's team. Workflows that existed before teams belong to
 * `default`.
 */
export class CreateWorkflowTeams1795600005000 implements MigrationInterface {
  name = 'CreateWorkflowTeams1795600005000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE workflow_teams (
        workflow_id UUID PRIMARY KEY,
        team VARCHAR(63) NOT NULL REFERENCES teams(name),
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
      )`);
    await queryRunner.query(`CREATE INDEX idx_workflow_teams_team ON workflow_teams(team)`);
    await queryRunner.query(`INSERT INTO workflow_teams (workflow_id, team) SELECT DISTINCT workflow_id, 'default' FROM workflows`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE workflow_teams`);
  }
}
