import type { Queryable } from './api-keys.js';
import { type AuditActorKind, recordAudit } from './audit-log.js';
import { TEAM_NAME } from './identity.js';

/**
 * A grant pattern: an exact service code (`*384*12#`, the shape a USSD trigger's `serviceCode`
 * has), or a prefix ending in `*` (`*384*`, or `*` for every code). A prefix covers the codes that
 * start with it, so it always ends at a `*` boundary: `*384*` covers `*384*12#` and `*384*1*2#`,
 * not `*384#` nor `*3841*2#`.
 */
export const GRANT_PATTERN = /^\*(?:(?:[0-9]{1,6}\*){0,7}|[0-9]{1,6}(?:\*[0-9]{1,6}){0,7}#)$/;

export function isGrantPattern(value: unknown): boolean {
  return typeof value === 'string' && GRANT_PATTERN.test(value);
}

/** Does `pattern` cover the service code `code`? Exact patterns cover themselves, prefixes what starts with them. */
export function grantCovers(pattern: string, code: string): boolean {
  return pattern.endsWith('#') ? code === pattern : code.startsWith(pattern);
}

export interface ServiceCodeGrant {
  readonly team: string;
  readonly pattern: string;
  readonly createdBy: string;
  readonly createdAt: Date;
}

/** A grant that cannot be made as asked (malformed pattern or team name); the message says why. */
export class GrantInputError extends Error {
  override readonly name = 'GrantInputError';
}

/** The team does not exist. */
export class GrantTeamNotFoundError extends Error {
  override readonly name = 'GrantTeamNotFoundError';
  constructor(readonly team: string) {
    super(`No team ${JSON.stringify(team.slice(0, 70))}: create it first (teams create NAME).`);
  }
}

/** What grants need from a database: a TypeORM DataSource fits (transactions for the audit row). */
export interface TransactionalQueryable extends Queryable {
  transaction<T>(work: (manager: Queryable) => Promise<T>): Promise<T>;
}

export interface GrantActor {
  readonly actor: string;
  readonly actorKind: AuditActorKind;
  readonly requestId?: string | null;
}

interface GrantRow {
  team: string;
  pattern: string;
  created_by: string;
  created_at: Date;
}

const toGrant = (row: GrantRow): ServiceCodeGrant => ({ team: row.team, pattern: row.pattern, createdBy: row.created_by, createdAt: row.created_at });

/**
 * Which service codes each team may claim (table `service_code_grants`). Publishing, rolling back
 * to or reactivating a version whose USSD trigger claims a code no grant of the workflow's team
 * covers is refused (the workflow registry checks `uncoveredCodes` in its publish transaction).
 * Adding and removing write `grant.add` / `grant.remove` audit rows in the same transaction.
 */
export class ServiceCodeGrants {
  constructor(private readonly db: TransactionalQueryable) {}

  async list(team?: string): Promise<ServiceCodeGrant[]> {
    if (team !== undefined) await this.requireTeam(this.db, team);
    const rows = await this.db.query<GrantRow[]>(
      `SELECT team, pattern, created_by, created_at FROM service_code_grants ${team === undefined ? '' : 'WHERE team = $1'} ORDER BY team, pattern`,
      team === undefined ? [] : [team],
    );
    return rows.map(toGrant);
  }

  /** Grants `pattern` to `team`; false when the team already holds exactly that pattern (nothing changes). */
  async add(team: string, pattern: string, by: GrantActor): Promise<{ added: boolean; grant: ServiceCodeGrant }> {
    assertPattern(pattern);
    return this.db.transaction(async (manager) => {
      await this.requireTeam(manager, team);
      const inserted = await manager.query<GrantRow[]>(
        `INSERT INTO service_code_grants (team, pattern, created_by) VALUES ($1, $2, $3)
         ON CONFLICT (team, pattern) DO NOTHING RETURNING team, pattern, created_by, created_at`,
        [team, pattern, by.actor],
      );
      const row = inserted[0];
      if (row !== undefined) {
        await recordAudit(manager, { ...by, team, action: 'grant.add', targetType: 'service-code-grant', targetId: pattern, details: { pattern } });
        return { added: true, grant: toGrant(row) };
      }
      const existing = await manager.query<GrantRow[]>(`SELECT team, pattern, created_by, created_at FROM service_code_grants WHERE team = $1 AND pattern = $2`, [team, pattern]);
      const found = existing[0];
      if (found === undefined) throw new Error('grant neither inserted nor found');
      return { added: false, grant: toGrant(found) };
    });
  }

  /**
   * Removes a grant; false when the team holds no such pattern. Workflows already published keep
   * their codes until they publish, roll back or reactivate again, which is then refused.
   */
  async remove(team: string, pattern: string, by: GrantActor): Promise<boolean> {
    assertPattern(pattern);
    return this.db.transaction(async (manager) => {
      await this.requireTeam(manager, team);
      const deleted = deletedRows(await manager.query<unknown>(`DELETE FROM service_code_grants WHERE team = $1 AND pattern = $2 RETURNING pattern`, [team, pattern]));
      if (deleted.length === 0) return false;
      await recordAudit(manager, { ...by, team, action: 'grant.remove', targetType: 'service-code-grant', targetId: pattern, details: { pattern } });
      return true;
    });
  }

  private async requireTeam(db: Queryable, team: string): Promise<void> {
    if (!TEAM_NAME.test(team)) throw new GrantTeamNotFoundError(team);
    const rows = await db.query<unknown[]>(`SELECT 1 FROM teams WHERE name = $1`, [team]);
    if (rows.length === 0) throw new GrantTeamNotFoundError(team);
  }
}

/** The codes among `codes` that no grant of `team` covers, in the order given. Run it inside the publish transaction. */
export async function uncoveredCodes(db: Queryable, team: string, codes: readonly string[]): Promise<string[]> {
  if (codes.length === 0) return [];
  // FOR SHARE: a concurrent removal of a grant this publish relies on waits until the publish commits.
  const rows = await db.query<{ pattern: string }[]>(`SELECT pattern FROM service_code_grants WHERE team = $1 FOR SHARE`, [team]);
  const patterns = rows.map((row) => row.pattern);
  return codes.filter((code) => !patterns.some((pattern) => grantCovers(pattern, code)));
}

function assertPattern(pattern: string): void {
  if (!isGrantPattern(pattern)) {
    throw new GrantInputError(
      `A grant pattern is an exact service code like *384*12# or a prefix ending in * like *384* (or * for every code); got ${JSON.stringify(String(pattern).slice(0, 70))}.`,
    );
  }
}

/** DELETE … RETURNING rows: TypeORM's postgres driver answers `[rows, rowCount]`, pg answers the rows. */
function deletedRows(result: unknown): unknown[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as unknown[];
  return result as unknown[];
}
