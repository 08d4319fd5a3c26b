import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The seed's `workflows` table, verbatim except one documented fix: the seed declares
 * `workflow_id UUID NOT NULL UNIQUE`, which forbids a second version of a workflow and
 * contradicts `UNIQUE(workflow_id, version)`. Only the composite constraint is kept.
 * See docs/decisions/0004-workflows-composite-unique.md.
 */
export class CreateWorkflows1795600000000 implements MigrationInterface {
  name = 'CreateWorkflows1795600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE workflows (
        id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        workflow_id UUID NOT NULL,
        version INTEGER NOT NULL,
        name VARCHAR(255) NOT NULL,
        description TEXT,
        spec JSONB NOT NULL,
        created_by VARCHAR(255) NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        published_at TIMESTAMP WITH TIME ZONE,
        tags TEXT[],
        environment VARCHAR(50),
        is_active BOOLEAN NOT NULL DEFAULT true,
        UNIQUE(workflow_id, version)
      )`);
    await queryRunner.query(`CREATE INDEX idx_workflows_workflow_id ON workflows(workflow_id)`);
    await queryRunner.query(`CREATE INDEX idx_workflows_created_by ON workflows(created_by)`);
    await queryRunner.query(`CREATE INDEX idx_workflows_environment ON workflows(environment)`);
    await queryRunner.query(`CREATE INDEX idx_workflows_tags ON workflows USING GIN(tags)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE workflows`);
  }
}
