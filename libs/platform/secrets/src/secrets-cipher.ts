import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretsKey } from '@ussd/platform-config';

/** A secret as stored: never the value in clear. */
export interface SealedSecret {
  /** The AES-256-GCM ciphertext followed by its 16-byte authentication tag. */
  readonly ciphertext: Buffer;
  /** The random 96-bit nonce of this write. */
  readonly nonce: Buffer;
  /** Which SECRETS_KEYS entry sealed it. */
  readonly keyVersion: number;
}

/** A stored secret that cannot be opened: its key version is not configured, or it was altered. */
export class SecretDecryptError extends Error {
  override readonly name = 'SecretDecryptError';
}

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The team and the name are authenticated with the ciphertext, so a row copied to another team
 * or renamed does not open. The prefix names this format, should it ever change.
 */
function associatedData(team: string, name: string): Buffer {
  return Buffer.from(`ussd-secret-v1\u0000${team}\u0000${name}`, 'utf8');
}

/**
 * AES-256-GCM with versioned keys (node:crypto, no third-party code): `seal` always uses the
 * current key (the first of SECRETS_KEYS) and a fresh random nonce; `open` uses whichever
 * configured key sealed the row. Keys are never copied into messages.
 */
export class SecretsCipher {
  private readonly keys: ReadonlyMap<number, Buffer>;
  readonly currentVersion: number;

  constructor(keys: readonly SecretsKey[]) {
    const [current] = keys;
    if (current === undefined) throw new Error('SecretsCipher needs at least one key');
    for (const { version, key } of keys) {
      if (key.length !== 32) throw new Error(`secrets key version ${version} is not 32 bytes`);
    }
    this.currentVersion = current.version;
    this.keys = new Map(keys.map(({ version, key }) => [version, key]));
  }

  /** The configured versions, current first. */
  get versions(): number[] {
    return [...this.keys.keys()];
  }

  seal(team: string, name: string, value: string): SealedSecret {
    const key = this.keys.get(this.currentVersion);
    if (key === undefined) throw new Error('the current secrets key is missing');
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(team, name));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { ciphertext, nonce, keyVersion: this.currentVersion };
  }

  /** @throws SecretDecryptError when the key version is unknown or the row, team or name do not match. */
  open(team: string, name: string, sealed: SealedSecret): string {
    const key = this.keys.get(sealed.keyVersion);
    if (key === undefined) {
      throw new SecretDecryptError(`secret ${name} of team ${team} is sealed with key version ${sealed.keyVersion}, which SECRETS_KEYS does not hold (configured: ${this.versions.join(', ')})`);
    }
    if (sealed.nonce.length !== NONCE_BYTES || sealed.ciphertext.length < TAG_BYTES) throw new SecretDecryptError(`secret ${name} of team ${team} is not a sealed value`);
    try {
      const decipher = createDecipheriv(ALGORITHM, key, sealed.nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(associatedData(team, name));
      decipher.setAuthTag(sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptError(`secret ${name} of team ${team} does not decrypt with key version ${sealed.keyVersion}: it was altered, moved, or sealed with another key of that version`);
    }
  }
}
