import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecretsKey } from '@ussd/platform-config';
import type { Logger } from 'pino';

const ENTRY = /^1:([A-Za-z0-9+/]{43}=)\s*$/;

/**
 * The embedded development default's secrets key: generated once (32 random bytes, version 1)
 * into `file` beside the embedded database, owner-readable only, and read from there on every
 * later start and by the CLI. A notice names the file, never the key.
 * @throws Error naming the file when it exists but does not hold a key.
 */
export function developmentSecretsKey(file: string, logger: Pick<Logger, 'warn'>): SecretsKey[] {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `1:${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    logger.warn({ file }, 'SECRETS_KEYS is unset: generated a development secrets key into the data folder (set SECRETS_KEYS in any other deployment)');
  }
  const match = ENTRY.exec(readFileSync(file, 'utf8'));
  if (match?.[1] === undefined) throw new Error(`${file} does not hold a development secrets key (1:<32 bytes in base64>); delete it to have a new one made (secrets sealed with the old one are then lost), or set SECRETS_KEYS.`);
  chmodSync(file, 0o600);
  return [{ version: 1, key: Buffer.from(match[1], 'base64') }];
}

/** Where the development key lives: beside the embedded PostgreSQL's data directory. */
export function developmentKeyFile(embeddedPgDir: string): string {
  return `${dirname(embeddedPgDir)}/secrets.key`;
}
