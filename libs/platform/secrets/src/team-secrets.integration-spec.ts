import { randomBytes } from 'node:crypto';
import { parseConfig } from '@ussd/platform-config';
import { createDataSource, migrateDatabase } from '@ussd/platform-database';
import { createTestDatabase, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import type { DataSource } from 'typeorm';
import { SecretDecryptError, SecretsCipher } from './secrets-cipher.js';
import { type SecretChange, SecretInputError, SecretsUnavailableError, TeamSecrets, UnknownSecretsError, UnknownTeamError } from './team-secrets.js';

const config = parseConfig({}, { appName: 'test', port: 0 });
const key = (version: number) => ({ version, key: randomBytes(32) });
const VALUE = 'tok_live_7b2f0c1e9d8a4f6b';
const by = (actor: string) => ({ actor, actorKind: 'api-key' as const });
const X = by('loans/x');

describe('SecretsCipher', () => {
  const cipher = new SecretsCipher([key(1)]);

  it('opens what it sealed, with a fresh nonce per write and no clear text in the ciphertext', () => {
    const a = cipher.seal('loans', 'PAYMENTS_TOKEN', VALUE);
    const b = cipher.seal('loans', 'PAYMENTS_TOKEN', VALUE);
    expect(a.nonce).toHaveLength(12);
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.ciphertext.toString('latin1')).not.toContain(VALUE);
    expect(cipher.open('loans', 'PAYMENTS_TOKEN', a)).toBe(VALUE);
    expect(cipher.open('loans', 'PAYMENTS_TOKEN', cipher.seal('loans', 'PAYMENTS_TOKEN', 'ü€😀'))).toBe('ü€😀');
  });

  it('refuses a ciphertext moved to another team or name, or altered in any byte', () => {
    const sealed = cipher.seal('loans', 'PAYMENTS_TOKEN', VALUE);
    expect(() => cipher.open('airtime', 'PAYMENTS_TOKEN', sealed)).toThrow(SecretDecryptError);
    expect(() => cipher.open('loans', 'OTHER_TOKEN', sealed)).toThrow(SecretDecryptError);
    for (const index of [0, sealed.ciphertext.length - 1]) {
      const altered = Buffer.from(sealed.ciphertext);
      altered[index] = (altered[index] ?? 0) ^ 1;
      expect(() => cipher.open('loans', 'PAYMENTS_TOKEN', { ...sealed, ciphertext: altered })).toThrow(SecretDecryptError);
    }
    const nonce = Buffer.from(sealed.nonce);
    nonce[0] = (nonce[0] ?? 0) ^ 1;
    expect(() => cipher.open('loans', 'PAYMENTS_TOKEN', { ...sealed, nonce })).toThrow(SecretDecryptError);
  });

  it('refuses a key version it does not hold, naming the versions it has, never a key', () => {
    const other = new SecretsCipher([key(2)]);
    const sealed = cipher.seal('loans', 'A', VALUE);
    expect(() => other.open('loans', 'A', sealed)).toThrow(/key version 1, which SECRETS_KEYS does not hold \(configured: 2\)/);
    // Same version number, different key: the tag does not match.
    expect(() => new SecretsCipher([key(1)]).open('loans', 'A', sealed)).toThrow(/does not decrypt with key version 1/);
  });
});

describe('TeamSecrets on real PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    dataSource = await createDataSource(database.url, config.database, 'test').initialize();
    await dataSource.query(`INSERT INTO teams (name) VALUES ('loans'), ('airtime')`);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });
  beforeEach(async () => {
    await dataSource.query(`DELETE FROM team_secrets`);
  });

  it('stores only ciphertext; resolves the values a run names, for its own team only', async () => {
    const changes: SecretChange[] = [];
    const secrets = new TeamSecrets(dataSource, [key(1)], (change) => void changes.push(change));
    expect((await secrets.set('loans', 'PAYMENTS_TOKEN', VALUE, by('loans/alice'))).created).toBe(true);
    const replaced = await secrets.set('loans', 'PAYMENTS_TOKEN', `${VALUE}-2`, by('loans/bob'));
    expect(replaced.created).toBe(false);
    expect(replaced.record).toMatchObject({ team: 'loans', name: 'PAYMENTS_TOKEN', keyVersion: 1, createdBy: 'loans/alice', updatedBy: 'loans/bob' });
    await secrets.set('loans', 'SMS_KEY', 'sms-key-value', by('loans/alice'));

    const raw: { ciphertext: Buffer }[] = await dataSource.query(`SELECT ciphertext FROM team_secrets`);
    for (const row of raw) expect(row.ciphertext.toString('latin1')).not.toContain('tok_live');

    expect(await secrets.resolve('loans', ['PAYMENTS_TOKEN'])).toEqual(new Map([['PAYMENTS_TOKEN', `${VALUE}-2`]]));
    await expect(secrets.resolve('airtime', ['PAYMENTS_TOKEN'])).rejects.toThrow(UnknownSecretsError);
    await expect(secrets.resolve('loans', ['PAYMENTS_TOKEN', 'NOPE'])).rejects.toThrow('team loans has no secret NOPE');
    expect([...(await secrets.names('loans'))].sort()).toEqual(['PAYMENTS_TOKEN', 'SMS_KEY']);
    expect((await secrets.list('loans')).map((r) => r.name)).toEqual(['PAYMENTS_TOKEN', 'SMS_KEY']);
    expect(JSON.stringify(await secrets.list(undefined))).not.toContain('tok_live');

    expect(await secrets.delete('loans', 'SMS_KEY', by('loans/carol'))).toBe(true);
    expect(await secrets.delete('loans', 'SMS_KEY', by('loans/carol'))).toBe(false);
    expect(changes).toEqual([
      { action: 'set', team: 'loans', name: 'PAYMENTS_TOKEN', actor: 'loans/alice', actorKind: 'api-key', keyVersion: 1 },
      { action: 'set', team: 'loans', name: 'PAYMENTS_TOKEN', actor: 'loans/bob', actorKind: 'api-key', keyVersion: 1 },
      { action: 'set', team: 'loans', name: 'SMS_KEY', actor: 'loans/alice', actorKind: 'api-key', keyVersion: 1 },
      { action: 'delete', team: 'loans', name: 'SMS_KEY', actor: 'loans/carol', actorKind: 'api-key' },
    ]);
    expect(JSON.stringify(changes)).not.toContain('tok_live');
  });

  it('reports each change inside its own transaction: a hook that fails rolls the change back', async () => {
    const seenInside: number[] = [];
    const recording = new TeamSecrets(dataSource, [key(1)], async (change, db) => {
      const rows = await db.query<{ count: string }[]>(`SELECT COUNT(*) AS count FROM team_secrets WHERE team = $1 AND name = $2`, [change.team, change.name]);
      seenInside.push(Number(rows[0]?.count));
    });
    await recording.set('loans', 'HOOKED', VALUE, X);
    await recording.delete('loans', 'HOOKED', X);
    expect(seenInside).toEqual([1, 0]);

    const failing = new TeamSecrets(dataSource, [key(1)], () => {
      throw new Error('audit log unavailable');
    });
    await expect(failing.set('loans', 'NOT_KEPT', VALUE, X)).rejects.toThrow('audit log unavailable');
    expect(await failing.names('loans')).toEqual(new Set());
    await recording.set('loans', 'KEPT', VALUE, X);
    await expect(failing.delete('loans', 'KEPT', X)).rejects.toThrow('audit log unavailable');
    expect(await failing.names('loans')).toEqual(new Set(['KEPT']));
  });

  it('refuses malformed names, empty or oversized values and unknown teams, without echoing the value', async () => {
    const secrets = new TeamSecrets(dataSource, [key(1)]);
    for (const name of ['lower', '1ABC', 'A-B', `A${'B'.repeat(64)}`, '', 'A B']) {
      await expect(secrets.set('loans', name, VALUE, X)).rejects.toThrow(SecretInputError);
    }
    await expect(secrets.set('loans', 'A', '', X)).rejects.toThrow('A secret value is 1 to 8192 characters.');
    const huge = `tok_${'x'.repeat(8192)}`;
    const error = (await secrets.set('loans', 'A', huge, X).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(SecretInputError);
    expect(error.message).not.toContain('tok_');
    await expect(secrets.set('nobody', 'A', VALUE, X)).rejects.toThrow(UnknownTeamError);
  });

  it('refuses to write or read without a key, but lists and deletes', async () => {
    await new TeamSecrets(dataSource, [key(1)]).set('loans', 'A', VALUE, X);
    const keyless = new TeamSecrets(dataSource, undefined);
    expect(keyless.available).toBe(false);
    await expect(keyless.set('loans', 'B', VALUE, X)).rejects.toThrow(SecretsUnavailableError);
    await expect(keyless.resolve('loans', ['A'])).rejects.toThrow('no secrets key is configured: set SECRETS_KEYS');
    expect((await keyless.list('loans')).map((r) => r.name)).toEqual(['A']);
    expect(await keyless.delete('loans', 'A', X)).toBe(true);
  });

  it('rotates: old rows stay readable, rotate-key re-seals them in batches, then the old key can go', async () => {
    const v1 = key(1);
    const v2 = key(2);
    const old = new TeamSecrets(dataSource, [v1]);
    for (let i = 0; i < 7; i++) await old.set(i % 2 === 0 ? 'loans' : 'airtime', `TOKEN_${i}`, `${VALUE}-${i}`, X);

    const both = new TeamSecrets(dataSource, [v2, v1], () => undefined);
    expect(await both.resolve('loans', ['TOKEN_0'])).toEqual(new Map([['TOKEN_0', `${VALUE}-0`]]));
    await both.set('loans', 'NEW', 'new-value', X);
    expect(await both.countByKeyVersion()).toEqual(new Map([[1, 7], [2, 1]]));

    const progress: [number, number][] = [];
    const changes: SecretChange[] = [];
    const rotating = new TeamSecrets(dataSource, [v2, v1], (change) => void changes.push(change));
    expect(await rotating.rotateKeys({ batchSize: 3, by: { actor: 'cli:ops', actorKind: 'cli' }, onBatch: (done, remaining) => progress.push([done, remaining]) })).toEqual({ rotated: 7 });
    expect(progress).toEqual([[3, 4], [6, 1], [7, 0]]);
    expect(changes.every((c) => c.action === 'rotate' && c.keyVersion === 2 && c.actor === 'cli:ops' && c.actorKind === 'cli')).toBe(true);
    expect(changes).toHaveLength(7);
    expect(await rotating.countByKeyVersion()).toEqual(new Map([[2, 8]]));
    expect(await rotating.rotateKeys({ by: { actor: 'cli:ops', actorKind: 'cli' } })).toEqual({ rotated: 0 });

    const onlyNew = new TeamSecrets(dataSource, [v2]);
    for (let i = 0; i < 7; i++) {
      const team = i % 2 === 0 ? 'loans' : 'airtime';
      expect(await onlyNew.resolve(team, [`TOKEN_${i}`])).toEqual(new Map([[`TOKEN_${i}`, `${VALUE}-${i}`]]));
    }
    await expect(new TeamSecrets(dataSource, [v1]).resolve('loans', ['TOKEN_0'])).rejects.toThrow(SecretDecryptError);
  });

  it('stops a rotation at a row that does not open, writing nothing of that batch', async () => {
    const v1 = key(1);
    const secrets = new TeamSecrets(dataSource, [v1]);
    await secrets.set('loans', 'A', VALUE, X);
    await secrets.set('loans', 'B', VALUE, X);
    // A row moved to another name by hand: its AAD no longer matches.
    await dataSource.query(`UPDATE team_secrets SET name = 'C' WHERE name = 'B'`);
    await expect(new TeamSecrets(dataSource, [key(2), v1]).rotateKeys({ by: X })).rejects.toThrow(/secret C of team loans does not decrypt/);
    expect(await secrets.countByKeyVersion()).toEqual(new Map([[1, 2]]));
  });
});
