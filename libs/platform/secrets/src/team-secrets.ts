import { TEAM_NAME } from '@ussd/platform-auth';
import { SecretDecryptError, type SealedSecret, SecretsCipher } from './secrets-cipher.js';

/** Runs SQL: a TypeORM DataSource or EntityManager fits. */
export interface SecretsQueryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}

/** What the store needs from a database: a TypeORM DataSource fits. */
export interface SecretsDatabase extends SecretsQueryable {
  transaction<T>(work: (manager: SecretsQueryable) => Promise<T>): Promise<T>;
}

/** Who changes a secret: a key or token (`team/name`), the operator CLI (`cli:<os user>`), or the platform. */
export interface SecretActor {
  readonly actor: string;
  readonly actorKind: 'api-key' | 'jwt' | 'cli' | 'system';
}

/** Secret names: upper-case letters, digits and underscores, as environment variables are written. */
export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
/** Values: 1 to 8,192 characters (API tokens, not files). */
export const SECRET_VALUE_MAX_LENGTH = 8192;

/** A secret as listed: never its value. */
export interface SecretRecord {
  readonly team: string;
  readonly name: string;
  readonly keyVersion: number;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly updatedAt: Date;
  readonly updatedBy: string;
}

/**
 * Every change to a secret, as the audit log will record it: what happened, to which team's
 * which secret, by whom. Never the value.
 */
export interface SecretChange {
  readonly action: 'set' | 'delete' | 'rotate';
  readonly team: string;
  readonly name: string;
  readonly actor: string;
  readonly actorKind: SecretActor['actorKind'];
  /** The key version the secret is sealed with now (absent after delete). */
  readonly keyVersion?: number;
}

/** A secret that cannot be written as asked; the message says why (never echoing the value). */
export class SecretInputError extends Error {
  override readonly name = 'SecretInputError';
}

/** No SECRETS_KEYS: secrets can be listed and deleted, not written or read. */
export class SecretsUnavailableError extends Error {
  override readonly name = 'SecretsUnavailableError';
  constructor() {
    super('no secrets key is configured: set SECRETS_KEYS (docs/security.md, "Secrets")');
  }
}

/** The team does not exist (create it with `npm run cli -- teams create`). */
export class UnknownTeamError extends Error {
  override readonly name = 'UnknownTeamError';
  constructor(readonly team: string) {
    super(`No team ${team}.`);
  }
}

/** Names a workflow uses that its team does not have. */
export class UnknownSecretsError extends Error {
  override readonly name = 'UnknownSecretsError';
  constructor(
    readonly team: string,
    readonly names: readonly string[],
  ) {
    super(`team ${team} has no secret ${names.join(', ')}: set it with PUT /secrets/{name}`);
  }
}

interface SecretRow {
  team: string;
  name: string;
  key_version: number;
  created_at: Date;
  created_by: string;
  updated_at: Date;
  updated_by: string;
}

interface SealedRow {
  team: string;
  name: string;
  ciphertext: Buffer;
  nonce: Buffer;
  key_version: number;
}

const COLUMNS = 'team, name, key_version, created_at, created_by, updated_at, updated_by';

function toRecord(row: SecretRow): SecretRecord {
  return {
    team: row.team,
    name: row.name,
    keyVersion: row.key_version,
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

const sealedOf = (row: SealedRow): SealedSecret => ({ ciphertext: row.ciphertext, nonce: row.nonce, keyVersion: row.key_version });

/** UPDATE/DELETE … RETURNING through TypeORM answers `[rows, rowCount]`; pg answers the rows. */
function returned<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}

/**
 * Per-team secrets, sealed at rest (docs/security.md, "Secrets"). Every change goes through
 * `set`, `delete` or `rotateKeys`, and each reports a `SecretChange` to `onChange` inside the
 * change's own transaction, with that transaction (`db`): the one place the audit log hooks in
 * (`recordAudit(db, …)` commits with the change; if it throws, the change is rolled back).
 * Values leave this class only through `resolve`, for a run.
 */
export class TeamSecrets {
  private readonly cipher: SecretsCipher | undefined;

  constructor(
    private readonly db: SecretsDatabase,
    keys: ConstructorParameters<typeof SecretsCipher>[0] | undefined,
    private readonly onChange: (change: SecretChange, db: SecretsQueryable) => Promise<void> | void = () => undefined,
  ) {
    this.cipher = keys === undefined || keys.length === 0 ? undefined : new SecretsCipher(keys);
  }

  /** Whether a key is configured (writes and reads work). */
  get available(): boolean {
    return this.cipher !== undefined;
  }

  /** The version new writes use; undefined without a key. */
  get currentKeyVersion(): number | undefined {
    return this.cipher?.currentVersion;
  }

  /** Sets or replaces a secret; `created` tells which. */
  async set(team: string, name: string, value: string, by: SecretActor): Promise<{ created: boolean; record: SecretRecord }> {
    checkTeam(team);
    checkName(name);
    if (typeof value !== 'string' || value.length < 1 || value.length > SECRET_VALUE_MAX_LENGTH) {
      throw new SecretInputError(`A secret value is 1 to ${SECRET_VALUE_MAX_LENGTH} characters.`);
    }
    const cipher = this.requireCipher();
    const sealed = cipher.seal(team, name, value);
    return this.db.transaction(async (db) => {
    const rows = await db.query<(SecretRow & { created: boolean })[]>(
      `INSERT INTO team_secrets (team, name, ciphertext, nonce, key_version, created_by, updated_by)
       VALUES ($1, $2, $3, $4, $5, $6, $6)
       ON CONFLICT (team, name) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, nonce = EXCLUDED.nonce, key_version = EXCLUDED.key_version,
         updated_at = NOW(), updated_by = EXCLUDED.updated_by
       RETURNING ${COLUMNS}, (xmax = 0) AS created`,
      [team, name, sealed.ciphertext, sealed.nonce, sealed.keyVersion, by.actor.slice(0, 255)],
    ).catch((error: unknown) => {
      if (isForeignKeyViolation(error)) throw new UnknownTeamError(team);
      throw error;
    });
    const row = rows[0];
    if (row === undefined) throw new Error(`writing secret ${name} of team ${team} returned no row`);
    await this.onChange({ action: 'set', team, name, actor: by.actor, actorKind: by.actorKind, keyVersion: sealed.keyVersion }, db);
    return { created: row.created, record: toRecord(row) };
    });
  }

  /** Deletes a secret; false when the team has none by that name. Needs no key. */
  async delete(team: string, name: string, by: SecretActor): Promise<boolean> {
    checkTeam(team);
    checkName(name);
    return this.db.transaction(async (db) => {
      const rows = returned<{ name: string }>(await db.query(`DELETE FROM team_secrets WHERE team = $1 AND name = $2 RETURNING name`, [team, name]));
      if (rows.length === 0) return false;
      await this.onChange({ action: 'delete', team, name, actor: by.actor, actorKind: by.actorKind }, db);
      return true;
    });
  }

  /** Names and metadata, by team then name; every team's when `team` is undefined. Never values. */
  async list(team: string | undefined): Promise<SecretRecord[]> {
    const rows =
      team === undefined
        ? await this.db.query<SecretRow[]>(`SELECT ${COLUMNS} FROM team_secrets ORDER BY team, name`)
        : await this.db.query<SecretRow[]>(`SELECT ${COLUMNS} FROM team_secrets WHERE team = $1 ORDER BY name`, [team]);
    return rows.map(toRecord);
  }

  /** The names a team has (spec validation). */
  async names(team: string): Promise<Set<string>> {
    const rows = await this.db.query<{ name: string }[]>(`SELECT name FROM team_secrets WHERE team = $1`, [team]);
    return new Set(rows.map((row) => row.name));
  }

  /**
   * The values of `names` for a run of one of `team`'s workflows, decrypted now.
   * @throws UnknownSecretsError (a name the team does not have), SecretsUnavailableError (no key),
   *   SecretDecryptError (a key version not configured, or an altered row).
   */
  async resolve(team: string, names: readonly string[]): Promise<Map<string, string>> {
    const values = new Map<string, string>();
    if (names.length === 0) return values;
    const cipher = this.requireCipher();
    const rows = await this.db.query<SealedRow[]>(`SELECT team, name, ciphertext, nonce, key_version FROM team_secrets WHERE team = $1 AND name = ANY($2)`, [team, [...names]]);
    for (const row of rows) values.set(row.name, cipher.open(row.team, row.name, sealedOf(row)));
    const missing = names.filter((name) => !values.has(name));
    if (missing.length > 0) throw new UnknownSecretsError(team, missing);
    return values;
  }

  /** How many secrets each key version seals (for the operator, before removing an old key). */
  async countByKeyVersion(): Promise<Map<number, number>> {
    const rows = await this.db.query<{ key_version: number; count: string }[]>(`SELECT key_version, COUNT(*) AS count FROM team_secrets GROUP BY key_version ORDER BY key_version`);
    return new Map(rows.map((row) => [row.key_version, Number(row.count)]));
  }

  /**
   * Re-seals every secret not sealed with the current key, `batchSize` rows per transaction
   * (rows locked, others skipped and taken by a later batch). Idempotent: run it again and it
   * finds nothing to do. A row that does not open stops it with SecretDecryptError (nothing of
   * that batch is written).
   */
  async rotateKeys(options: { batchSize?: number; by: SecretActor; onBatch?: (done: number, remaining: number) => void }): Promise<{ rotated: number }> {
    const cipher = this.requireCipher();
    const batchSize = options.batchSize ?? 100;
    let rotated = 0;
    for (;;) {
      const count = await this.db.transaction(async (manager) => {
        const rows = await manager.query<SealedRow[]>(
          `SELECT team, name, ciphertext, nonce, key_version FROM team_secrets WHERE key_version <> $1 ORDER BY team, name LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [cipher.currentVersion, batchSize],
        );
        for (const row of rows) {
          const sealed = cipher.seal(row.team, row.name, cipher.open(row.team, row.name, sealedOf(row)));
          await manager.query(`UPDATE team_secrets SET ciphertext = $3, nonce = $4, key_version = $5 WHERE team = $1 AND name = $2`, [row.team, row.name, sealed.ciphertext, sealed.nonce, sealed.keyVersion]);
          await this.onChange({ action: 'rotate', team: row.team, name: row.name, actor: options.by.actor, actorKind: options.by.actorKind, keyVersion: cipher.currentVersion }, manager);
        }
        return rows.length;
      });
      if (count === 0) return { rotated };
      rotated += count;
      const remaining = await this.db.query<{ count: string }[]>(`SELECT COUNT(*) AS count FROM team_secrets WHERE key_version <> $1`, [cipher.currentVersion]);
      options.onBatch?.(rotated, Number(remaining[0]?.count ?? 0));
    }
  }

  private requireCipher(): SecretsCipher {
    if (this.cipher === undefined) throw new SecretsUnavailableError();
    return this.cipher;
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !SECRET_NAME.test(name)) {
    throw new SecretInputError(`Secret names are 1-64 upper-case letters, digits and underscores, starting with a letter (PAYMENTS_TOKEN); got ${JSON.stringify(String(name).slice(0, 70))}.`);
  }
}

function checkTeam(team: string): void {
  if (typeof team !== 'string' || !TEAM_NAME.test(team)) throw new SecretInputError(`Not a team name: ${JSON.stringify(String(team).slice(0, 70))}.`);
}

function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: unknown; driverError?: { code?: unknown } } | null)?.code ?? (error as { driverError?: { code?: unknown } } | null)?.driverError?.code;
  return code === '23503';
}

export { SecretDecryptError };
