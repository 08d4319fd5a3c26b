import type { Identity } from './identity.js';

/**
 * Phone numbers in API responses, for `viewer` callers (MASK_PHONE_NUMBERS_FOR_VIEWERS,
 * docs/security.md "Phone numbers in responses"). A viewer reads sessions and executions to
 * follow what happened, not to learn who dialled: `+254712345678` becomes `+2547****678`,
 * enough to tell subscribers apart and to match a complaint, not to call anyone.
 */

/** Fields that carry a subscriber's number wherever they appear (the gateways' and the engine's names). */
export const PHONE_FIELDS: ReadonlySet<string> = new Set(['msisdn', 'phoneNumber', 'Mobile']);

const MIN_DIGITS = 6;
const MAX_DEPTH = 64;

/** `+254712345678` -> `+2547****678`; short values keep only their last two characters. Always four stars: the length is not told. */
export function maskPhoneNumber(phone: string): string {
  const value = phone.trim();
  return value.length >= 10 ? `${value.slice(0, 5)}****${value.slice(-3)}` : `****${value.slice(-2)}`;
}

/** Does this caller get masked numbers? Viewers only, and only while the option is on; editors and above see numbers whole. */
export function masksPhoneNumbers(caller: Identity, enabled: boolean): boolean {
  return enabled && caller.role === 'viewer';
}

function digitsIn(value: string): number {
  return value.replace(/\D/g, '').length;
}

/** The numbers found in the phone fields of `value` (top level and one level down), with and without their `+`. */
export function phoneNumbersIn(value: unknown): string[] {
  const found = new Set<string>();
  const visit = (object: unknown, depth: number) => {
    if (object === null || typeof object !== 'object' || depth > 1) return;
    for (const [key, field] of Object.entries(object)) {
      if (PHONE_FIELDS.has(key) && typeof field === 'string') {
        const number = field.trim();
        if (digitsIn(number) >= MIN_DIGITS) {
          found.add(number);
          if (number.startsWith('+')) found.add(number.slice(1));
        }
      } else visit(field, depth + 1);
    }
  };
  visit(value, 0);
  return [...found];
}

/**
 * A copy of `value` where every phone field holds a masked number, and every occurrence of
 * `numbers` inside any string (a node's output, a rendered prompt, an error message) is masked
 * too. Longer numbers are replaced first, so `+254…` is not half-masked as `254…`.
 */
export function maskPhoneNumbersIn<T>(value: T, numbers: readonly string[]): T {
  const known = [...new Set(numbers.filter((n) => digitsIn(n) >= MIN_DIGITS))].sort((a, b) => b.length - a.length);
  const maskString = (text: string): string => {
    let out = text;
    for (const number of known) if (out.includes(number)) out = out.split(number).join(maskPhoneNumber(number));
    return out;
  };
  const walk = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') return maskString(node);
    if (node === null || typeof node !== 'object') return node;
    // Deeper than any response we build: shown as nothing rather than unmasked.
    if (depth >= MAX_DEPTH) return null;
    if (Array.isArray(node)) return node.map((item) => walk(item, depth + 1));
    if (node instanceof Date) return node;
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(node)) {
      copy[key] = PHONE_FIELDS.has(key) && typeof field === 'string' && digitsIn(field) >= MIN_DIGITS ? maskPhoneNumber(field) : walk(field, depth + 1);
    }
    return copy;
  };
  return walk(value, 0) as T;
}
