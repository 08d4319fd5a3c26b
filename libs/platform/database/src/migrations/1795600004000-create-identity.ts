import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Identities (docs/security.md): teams, and the API keys that act for them. A key is stored
 * only as the SHA-256 of its secret (keys are 256 random bits, so a slow password hash would add
 * nothing but latency); `prefix` is the first characters, shown in listings so people can tell
 * keys apart. Revocation keeps the row (who had access, and until when) and sets `revoked_at`.
 * The `default` team owns whatever existed before teams did.
 */
export class CreateIdentity1795600004000 implements MigrationInterface {
  name = 'CreateIdentity1795600004000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE teams (
        name VARCHAR(63) PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
      )`);
    await queryRunner.query(`INSERT INTO teams (name) VALUES ('default')`);
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        name VARCHAR(255) NOT NULL,
        team VARCHAR(63) NOT NULL REFERENCES teams(name),
        role VARCHAR(16) NOT NULL CHECK (role IN ('viewer', 'editor', 'publisher', 'admin')),
        secret_hash BYTEA NOT NULL UNIQUE,
        prefix VARCHAR(16) NOT NULL,
        created_by VARCHAR(255) NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        expires_at TIMESTAMP WITH TIME ZONE,
        last_used_at TIMESTAMP WITH TIME ZONE,
        revoked_at TIMESTAMP WITH TIME ZONE
      )`);
    await queryRunner.query(`CREATE INDEX idx_api_keys_team ON api_keys(team)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE api_keys`);
    await queryRunner.query(`DROP TABLE teams`);
  }
}
