// Benchmarks call the api as a client would: with an API key (every route but the probes and the
// gateway callbacks needs one) and, to publish USSD workflows, a grant for their service code.
// Both are written with SQL in the format of platform-auth (`usk_` + 32 random bytes, stored as
// its SHA-256 digest), as platform-testing's createTestKey does, once the api has migrated the
// database. The team is `bench`.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';

/** An admin key of team `bench`, granted `patterns`; returns the request headers that carry it. */
export async function benchAdminKey(databaseUrl, patterns = []) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const key = `usk_${randomBytes(32).toString('base64url')}`;
    await client.query(`INSERT INTO teams (name) VALUES ('bench') ON CONFLICT (name) DO NOTHING`);
    await client.query(`INSERT INTO api_keys (name, team, role, secret_hash, prefix, created_by) VALUES ($1, 'bench', 'admin', $2, $3, 'bench')`, [
      `bench-${Date.now()}`,
      createHash('sha256').update(key).digest(),
      key.slice(0, 12),
    ]);
    for (const pattern of patterns) {
      await client.query(`INSERT INTO service_code_grants (team, pattern, created_by) VALUES ('bench', $1, 'bench') ON CONFLICT DO NOTHING`, [pattern]);
    }
    return { authorization: `Bearer ${key}` };
  } finally {
    await client.end();
  }
}
