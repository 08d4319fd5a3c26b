import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-team secrets (docs/security.md, "Secrets"): API tokens that workflows send in their HTTP
 * calls. Only AES-256-GCM ciphertext is stored: `nonce` is the random 96-bit IV of the write,
 * `ciphertext` ends with the 16-byte authentication tag, and the team and name are the additional
 * authenticated data, so a row copied to another team or name does not decrypt. `key_version`
 * names the SECRETS_KEYS entry that encrypted it (the CLI's `secrets rotate-key` moves rows to
 * the current one). The value itself is never in this table in clear.
 */
export class CreateTeamSecrets1795600008000 implements MigrationInterface {
  name = 'CreateTeamSecrets1795600008000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE team_secrets (
        team VARCHAR(63) NOT NULL REFERENCES teams(name),
        name VARCHAR(64) NOT NULL CHECK (name ~ '^[A-Z][A-Z0-9_]{0,63}$'),
        ciphertext BYTEA NOT NULL,
        nonce BYTEA NOT NULL CHECK (octet_length(nonce) = 12),
        key_version INTEGER NOT NULL CHECK (key_version >= 1),
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        created_by VARCHAR(255) NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        updated_by VARCHAR(255) NOT NULL,
        PRIMARY KEY (team, name)
      )`);
    await queryRunner.query(`CREATE INDEX idx_team_secrets_key_version ON team_secrets(key_version)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE team_secrets`);
  }
}
