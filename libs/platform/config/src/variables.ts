import { z } from 'zod';
import { isIP } from 'node:net';

/**
 * Every environment variable the platform reads, in one table. The README's
 * configuration table is checked against this list by a test, so they cannot drift.
 */
export interface VariableDoc {
  readonly name: string;
  /** Default as the operator would write it; undefined means "unset". */
  readonly default: string | undefined;
  readonly description: string;
}

const text = (name: string, expected: string) =>
  z.string({ error: () => `${name}: expected ${expected}` });

export function integer(name: string, min: number, max: number) {
  return text(name, `an integer from ${min} to ${max}`)
    .trim()
    .refine((v) => /^-?\d+$/.test(v) && Number(v) >= min && Number(v) <= max, {
      error: (issue) => `${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(issue.input)}`,
    })
    .transform(Number);
}

export function boolean(name: string) {
  return text(name, 'true or false')
    .trim()
    .toLowerCase()
    .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), {
      error: (issue) => `${name}: expected true or false, got ${JSON.stringify(issue.input)}`,
    })
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
}

export function oneOf<const T extends readonly [string, ...string[]]>(name: string, values: T) {
  return text(name, `one of ${values.join(', ')}`)
    .trim()
    .refine((v): v is T[number] => (values as readonly string[]).includes(v), {
      error: (issue) => `${name}: expected one of ${values.join(', ')}, got ${JSON.stringify(issue.input)}`,
    })
    .transform((v) => v as T[number]);
}

export function url(name: string, protocols: readonly string[]) {
  return text(name, `a ${protocols.join(' or ')} URL`)
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      // Never echo a URL back: it may carry a password.
      { error: () => `${name}: expected a ${protocols.map((p) => `${p}://`).join(' or ')} URL` },
    );
}

export function nonEmpty(name: string, expected: string) {
  return text(name, expected)
    .trim()
    .min(1, { error: `${name}: expected ${expected}, got an empty value` });
}

export function matches(name: string, pattern: RegExp, expected: string) {
  return text(name, expected)
    .trim()
    .refine((v) => pattern.test(v), { error: (issue) => `${name}: expected ${expected}, got ${JSON.stringify(issue.input)}` });
}

const ENDS_IN_NUMBER = /(?:^|\.)(?:\d+|0x[0-9a-f]*)\.?$/i;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** One allowlist entry: a host name, an IP address ([IPv6] allowed) or a CIDR in plain notation. */
function isHostEntry(entry: string): boolean {
  const slash = entry.indexOf('/');
  if (slash >= 0) {
    const address = entry.slice(0, slash);
    const bits = entry.slice(slash + 1);
    const family = isIP(address);
    return family !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
  }
  const unbracketed = entry.startsWith('[') && entry.endsWith(']') ? entry.slice(1, -1) : entry;
  // A name ending in a number (127.1, 0x7f.1) is an IPv4 address in another spelling: write it plainly.
  return isIP(unbracketed) !== 0 || (HOST_NAME.test(entry) && !ENDS_IN_NUMBER.test(entry));
}

/** Comma-separated host names, IP addresses and CIDRs; blanks are ignored. */
export function hostList(name: string) {
  const expected = 'comma-separated host names, IP addresses or CIDRs (such as billing.internal,10.0.0.0/8)';
  return text(name, expected)
    .transform((v) => v.split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''))
    .refine((entries) => entries.every(isHostEntry), {
      error: (issue) => {
        const bad = (issue.input as string[]).filter((entry) => !isHostEntry(entry));
        return `${name}: expected ${expected}, got ${bad.map((entry) => JSON.stringify(entry)).join(', ')}`;
      },
    });
}

/** Comma-separated JWS algorithms, each one of `allowed`; `none` and HS* are named as never accepted. */
export function jwtAlgorithms<const T extends readonly string[]>(name: string, allowed: T) {
  const expected = `comma-separated algorithms among ${allowed.join(', ')}`;
  return text(name, expected)
    .transform((v) => v.split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''))
    .refine((entries) => entries.length > 0 && entries.every((entry) => allowed.includes(entry)), {
      error: (issue) => {
        const bad = (issue.input as string[]).filter((entry) => !allowed.includes(entry));
        const symmetric = bad.some((entry) => /^(?:none|HS\d+)$/i.test(entry));
        return `${name}: expected ${expected}${symmetric ? ' (none and HS* are never accepted: a token must be signed with the identity provider\'s private key)' : ''}, got ${bad.length === 0 ? 'nothing' : bad.map((entry) => JSON.stringify(entry.slice(0, 40))).join(', ')}`;
      },
    })
    .transform((entries) => [...new Set(entries)] as unknown as T[number][]);
}

/** An origin as browsers send it: scheme, host and an optional port; no path, no trailing slash. */
function isOrigin(entry: string): boolean {
  try {
    const url = new URL(entry);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === entry && !entry.includes('*');
  } catch {
    return false;
  }
}

/** Comma-separated exact origins (`https://console.example.com`); blanks are ignored, `*` is not an origin. */
export function originList(name: string) {
  const expected = 'comma-separated origins such as https://console.example.com (scheme, host, optional port; no path, no *)';
  return text(name, expected)
    .transform((v) => v.split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''))
    .refine((entries) => entries.every(isOrigin), {
      error: (issue) => {
        const bad = (issue.input as string[]).filter((entry) => !isOrigin(entry));
        return `${name}: expected ${expected}, got ${bad.map((entry) => JSON.stringify(entry.slice(0, 100))).join(', ')}`;
      },
    });
}

/** One CIDR (`10.0.0.0/8`, `2001:db8::/32`) or one IP address (a single host). */
export function isCidrOrAddress(entry: string): boolean {
  const slash = entry.indexOf('/');
  if (slash < 0) return isIP(entry) !== 0;
  const family = isIP(entry.slice(0, slash));
  const bits = entry.slice(slash + 1);
  return family !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** Comma-separated CIDRs or IP addresses; blanks between commas are ignored, an entry that is not one is refused. */
export function cidrList(name: string) {
  const expected = 'comma-separated CIDRs or IP addresses (such as 10.0.0.0/8,196.201.214.0/24)';
  return text(name, expected)
    .transform((v) => v.split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''))
    .refine((entries) => entries.length > 0 && entries.every(isCidrOrAddress), {
      error: (issue) => {
        const bad = (issue.input as string[]).filter((entry) => !isCidrOrAddress(entry));
        return `${name}: expected ${expected}, got ${bad.length === 0 ? 'no entry' : bad.map((entry) => JSON.stringify(entry)).join(', ')}`;
      },
    });
}

const SECRET = /^[A-Za-z0-9._~-]{16,256}$/;

/**
 * Comma-separated secrets (several, so one can be rotated): each 16 to 256 characters of
 * letters, digits and `. _ ~ -` (safe in a URL path and a header). The message never echoes a
 * value: it says which entry (by position) is wrong.
 */
export function secretList(name: string) {
  const expected = 'comma-separated secrets of 16 to 256 letters, digits or . _ ~ - (generate one with `openssl rand -hex 32`)';
  return text(name, expected)
    .transform((v) => v.split(',').map((entry) => entry.trim()))
    .refine((entries) => entries.every((entry) => SECRET.test(entry)), {
      error: (issue) => {
        const entries = issue.input as string[];
        const bad = entries.map((entry, index) => ({ entry, index })).filter(({ entry }) => !SECRET.test(entry));
        const what = bad.map(({ entry, index }) => `entry ${index + 1} ${entry === '' ? 'is empty' : `has ${entry.length} characters${/^[A-Za-z0-9._~-]*$/.test(entry) ? '' : ' and others than those allowed'}`}`);
        return `${name}: expected ${expected}; ${what.join(', ')}`;
      },
    });
}

/** One secrets encryption key: its version, and 32 bytes for AES-256-GCM. */
export interface SecretsKey {
  readonly version: number;
  readonly key: Buffer;
}

const SECRETS_KEY_ENTRY = /^(\d{1,9}):([A-Za-z0-9+/]{43}=)$/;

/**
 * Comma-separated `version:base64-of-32-bytes` entries, the current key first. Problems name the
 * entry by its position, never its text: the text is key material.
 */
export function secretsKeys(name: string) {
  const expected = 'comma-separated version:key entries, each a version number from 1 and 32 random bytes in base64 (openssl rand -base64 32), the current key first';
  return text(name, expected).transform((v, context) => {
    const entries = v.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
    const keys: SecretsKey[] = [];
    for (const [index, entry] of entries.entries()) {
      const match = SECRETS_KEY_ENTRY.exec(entry);
      const version = Number(match?.[1]);
      const key = match?.[2] === undefined ? undefined : Buffer.from(match[2], 'base64');
      if (match === null || key === undefined || key.length !== 32 || version < 1) {
        context.addIssue({ code: 'custom', message: `${name}: entry ${index + 1} is not version:key with a version from 1 and a key of 32 bytes in base64 (${expected})` });
        return z.NEVER;
      }
      if (keys.some((k) => k.version === version)) {
        context.addIssue({ code: 'custom', message: `${name}: version ${version} appears twice; every key needs its own version` });
        return z.NEVER;
      }
      keys.push({ version, key });
    }
    if (keys.length === 0) {
      context.addIssue({ code: 'custom', message: `${name}: expected ${expected}, got no entry` });
      return z.NEVER;
    }
    return keys;
  });
}
