import { createHash, randomBytes } from 'node:crypto';
import { type Identity, isRole, type Role, TEAM_NAME } from './identity.js';

/** What the key store needs from a database: a TypeORM DataSource or EntityManager fits. */
export interface Queryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}

/** One API key as listed: never its secret. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly team: string;
  readonly role: Role;
  /** The key's first characters, to tell keys apart. */
  readonly prefix: string;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

export interface NewApiKey {
  readonly name: string;
  readonly team: string;
  readonly role: Role;
  readonly expiresAt?: Date;
  readonly createdBy: string;
}

/** A key that cannot be created as asked; the message says why. */
export class ApiKeyInputError extends Error {
  override readonly name = 'ApiKeyInputError';
}

const KEY_PREFIX = 'usk_';
/** `usk_` and 43 base64url characters: 256 random bits. */
const KEY_SHAPE = /^usk_[A-Za-z0-9_-]{43}$/;
const NAME_SHAPE = /^[\x21-\x7e][\x20-\x7e]{0,254}$/;
const CACHE_TTL_MS = 10_000;
const CACHE_MAX = 10_000;
const LAST_USED_EVERY_MS = 60_000;

interface KeyRow {
  id: string;
  name: string;
  team: string;
  role: string;
  prefix: string;
  created_by: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** Does this look like one of our keys? (Cheap; says nothing about whether it is valid.) */
export function looksLikeApiKey(token: string): boolean {
  return KEY_SHAPE.test(token);
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

function toRecord(row: KeyRow): ApiKeyRecord {
  if (!isRole(row.role)) throw new Error(`api_keys row ${row.id} has an unknown role`);
  return {
    id: row.id,
    name: row.name,
    team: row.team,
    role: row.role,
    prefix: row.prefix,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/** UPDATE … RETURNING rows: TypeORM's postgres driver answers `[rows, rowCount]`, pg answers the rows. */
function updated<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}

const COLUMNS = 'id, name, team, role, prefix, created_by, created_at, expires_at, last_used_at, revoked_at';

/**
 * API keys: random, shown once, stored as a SHA-256 digest (a 256-bit random secret needs no
 * slow hash), with team, role, optional expiry and last use; revocable. `verify` caches what
 * it finds for 10 s, so a revoked key stops working within 10 s on every replica, and a
 * request costs a database round trip at most once per key per 10 s.
 */
export class ApiKeys {
  private readonly cache = new Map<string, { identity: Identity | undefined; expiresAt: number | null; until: number }>();
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(
    private readonly db: Queryable,
    private readonly now: () => number = Date.now,
  ) {}

  async createTeam(name: string): Promise<boolean> {
    if (!TEAM_NAME.test(name)) throw new ApiKeyInputError(`Team names are 1-63 lower-case letters, digits and dashes, starting with a letter or digit; got ${JSON.stringify(name.slice(0, 70))}.`);
    const rows = await this.db.query<unknown[]>(`INSERT INTO teams (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING name`, [name]);
    return rows.length === 1;
  }

  async listTeams(): Promise<string[]> {
    const rows = await this.db.query<{ name: string }[]>(`SELECT name FROM teams ORDER BY name`);
    return rows.map((row) => row.name);
  }

  /** Creates a key; the returned `key` is the only time its secret exists outside the caller's hands. */
  async create(input: NewApiKey): Promise<{ key: string; record: ApiKeyRecord }> {
    if (!NAME_SHAPE.test(input.name)) throw new ApiKeyInputError('A key name is 1-255 printable characters.');
    if (!isRole(input.role)) throw new ApiKeyInputError(`Unknown role ${JSON.stringify(String(input.role).slice(0, 40))}: one of viewer, editor, publisher, admin.`);
    if (input.expiresAt !== undefined && !(input.expiresAt.getTime() > this.now())) throw new ApiKeyInputError('The expiry must be a time in the future.');
    const teams = await this.db.query<unknown[]>(`SELECT 1 FROM teams WHERE name = $1`, [input.team]);
    if (teams.length === 0) throw new ApiKeyInputError(`No team ${JSON.stringify(input.team.slice(0, 70))}: create it first (teams create NAME).`);
    const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const rows = await this.db.query<KeyRow[]>(
      `INSERT INTO api_keys (name, team, role, secret_hash, prefix, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [input.name, input.team, input.role, digest(key), key.slice(0, 12), input.createdBy, input.expiresAt ?? null],
    );
    const row = rows[0];
    if (row === undefined) throw new Error('INSERT … RETURNING returned no row');
    return { key, record: toRecord(row) };
  }

  async list(team?: string): Promise<ApiKeyRecord[]> {
    const rows = await this.db.query<KeyRow[]>(
      `SELECT ${COLUMNS} FROM api_keys ${team === undefined ? '' : 'WHERE team = $1'} ORDER BY created_at, id`,
      team === undefined ? [] : [team],
    );
    return rows.map(toRecord);
  }

  /** Revokes a key by id (or by its listed prefix); false when there is no such live key. */
  async revoke(idOrPrefix: string): Promise<ApiKeyRecord | undefined> {
    const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrPrefix);
    const rows = updated<KeyRow>(
      await this.db.query<unknown>(`UPDATE api_keys SET revoked_at = NOW() WHERE ${byId ? 'id = $1' : 'prefix = $1'} AND revoked_at IS NULL RETURNING ${COLUMNS}`, [idOrPrefix]),
    );
    this.cache.clear();
    const row = rows[0];
    return row === undefined ? undefined : toRecord(row);
  }

  async countLive(): Promise<number> {
    const rows = await this.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > NOW())`);
    return rows[0]?.n ?? 0;
  }

  /** The identity a presented key stands for, or undefined for an unknown, revoked or expired key. */
  async verify(key: string): Promise<Identity | undefined> {
    if (!looksLikeApiKey(key)) return undefined;
    const hash = digest(key);
    const cacheKey = hash.toString('hex');
    const now = this.now();
    let entry = this.cache.get(cacheKey);
    if (entry === undefined || entry.until <= now) {
      const rows = await this.db.query<KeyRow[]>(`SELECT ${COLUMNS} FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL`, [hash]);
      const row = rows[0];
      entry = {
        identity: row === undefined || !isRole(row.role) ? undefined : { kind: 'api-key', id: row.id, name: row.name, team: row.team, role: row.role },
        expiresAt: row?.expires_at?.getTime() ?? null,
        until: now + CACHE_TTL_MS,
      };
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(cacheKey, entry);
    }
    if (entry.identity === undefined || (entry.expiresAt !== null && entry.expiresAt <= now)) return undefined;
    this.touch(entry.identity.id, now);
    return entry.identity;
  }

  /** Records last use at most once a minute per key, off the request's path. */
  private touch(id: string, now: number): void {
    if ((this.lastUsedWritten.get(id) ?? 0) > now - LAST_USED_EVERY_MS) return;
    this.lastUsedWritten.set(id, now);
    this.db.query(`UPDATE api_keys SET last_used_at = NOW() WHERE id = $1`, [id]).catch(() => this.lastUsedWritten.delete(id));
  }
}
