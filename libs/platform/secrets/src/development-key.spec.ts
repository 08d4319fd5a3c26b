import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { developmentKeyFile, developmentSecretsKey } from './development-key.js';
import { SecretsCipher } from './secrets-cipher.js';

describe('developmentSecretsKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ussd-secrets-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('generates a key once, owner-readable only, with a notice naming the file and not the key; later starts reuse it', () => {
    const file = developmentKeyFile(join(dir, 'api', 'postgres'));
    expect(file).toBe(join(dir, 'api', 'secrets.key'));
    const notices: unknown[][] = [];
    const logger = { warn: (...args: unknown[]) => void notices.push(args) };
    const [first] = developmentSecretsKey(file, logger as never);
    expect(first?.version).toBe(1);
    expect(first?.key).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(notices).toHaveLength(1);
    expect(JSON.stringify(notices)).toContain(file);
    expect(JSON.stringify(notices)).not.toContain(first?.key.toString('base64'));

    const [again] = developmentSecretsKey(file, logger as never);
    expect(again?.key.equals(first?.key ?? Buffer.alloc(0))).toBe(true);
    expect(notices).toHaveLength(1);
    // What one start sealed, the next opens.
    const sealed = new SecretsCipher([first ?? { version: 1, key: Buffer.alloc(32) }]).seal('default', 'A', 'v');
    expect(new SecretsCipher([again ?? { version: 1, key: Buffer.alloc(32) }]).open('default', 'A', sealed)).toBe('v');
    expect(readFileSync(file, 'utf8')).toMatch(/^1:[A-Za-z0-9+/]{43}=\n$/);
  });

  it('refuses a file that does not hold a key, naming the file and what to do', () => {
    const file = join(dir, 'secrets.key');
    writeFileSync(file, 'not a key\n');
    expect(() => developmentSecretsKey(file, { warn: () => undefined } as never)).toThrow(`${file} does not hold a development secrets key (1:<32 bytes in base64>); delete it to have a new one made`);
  });
});
