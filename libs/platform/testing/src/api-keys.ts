import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';

export type TestRole = 'viewer' | 'editor' | 'publisher' | 'admin';

export interface TestKey {
  readonly key: string;
  /** `{ authorization: 'Bearer …' }`, to spread into request headers. */
  readonly headers: { readonly authorization: string };
}

/**
 * An API key on a migrated test database, for tests that call the api as a client would; the
 * team is created if needed. It is written in the format of platform-auth's `ApiKeys` (`usk_` +
 * 32 random bytes, stored as its SHA-256 digest) with SQL of its own, because platform-auth's
 * tests use this library and a library cannot depend on its own tests' helpers. Every test that
 * uses a key goes through the real guard, so a drift between the two fails loudly.
 */
export async function createTestKey(databaseUrl: string, role: TestRole = 'admin', team = 'default', name = `test-${role}`): Promise<TestKey> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const key = `usk_${randomBytes(32).toString('base64url')}`;
    await client.query(`INSERT INTO teams (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [team]);
    await client.query(`INSERT INTO api_keys (name, team, role, secret_hash, prefix, created_by) VALUES ($1, $2, $3, $4, $5, 'test')`, [
      name,
      team,
      role,
      createHash('sha256').update(key).digest(),
      key.slice(0, 12),
    ]);
    return { key, headers: { authorization: `Bearer ${key}` } };
  } finally {
    await client.end();
  }
}

/**
 * Lets `team` claim the USSD service codes or prefixes `patterns` (docs/security.md, "Service-code
 * grants"), as `grants add` would; the team is created if needed. Tests that publish USSD
 * workflows grant what they publish.
 */
export async function grantServiceCodes(databaseUrl: string, team: string, patterns: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`INSERT INTO teams (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [team]);
    await client.query(
      `INSERT INTO service_code_grants (team, pattern, created_by) SELECT $1, p, 'test' FROM UNNEST($2::text[]) AS p ON CONFLICT (team, pattern) DO NOTHING`,
      [team, [...patterns]],
    );
  } finally {
    await client.end();
  }
}

/** The USSD service codes a spec's triggers claim (to grant them before publishing it). */
export function ussdServiceCodes(spec: unknown): string[] {
  const triggers = (spec as { triggers?: unknown } | null)?.triggers;
  if (!Array.isArray(triggers)) return [];
  return triggers.flatMap((trigger: unknown) => {
    const t = trigger as { type?: unknown; serviceCode?: unknown } | null;
    return t?.type === 'ussd' && typeof t.serviceCode === 'string' ? [t.serviceCode] : [];
  });
}
