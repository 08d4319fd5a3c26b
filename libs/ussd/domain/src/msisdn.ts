// The `mobile` metadata: full validation rules (number patterns, not only lengths), for mobile
// numbers only, which are the only numbers that dial USSD. The default (`min`) entry point checks
// lengths only; `max` also accepts fixed lines and is half as big again. `core` takes the metadata
// as an argument: importing it by its package export keeps Jest's `.js` mapping away from the JSON.
import { isSupportedCountry, parsePhoneNumberFromString, validatePhoneNumberLength, type CountryCode } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/mobile/metadata';

export type { CountryCode } from 'libphonenumber-js/core';

/** Why a number was refused. */
export type MsisdnErrorCode = 'empty' | 'too-long' | 'invalid-characters' | 'unsupported-country' | 'too-short' | 'invalid';

export type MsisdnResult = { readonly ok: true; readonly e164: string } | { readonly ok: false; readonly code: MsisdnErrorCode; readonly reason: string };

/** Longest input looked at: E.164 is at most 15 digits; formatting and an international prefix fit in 32. */
export const MAX_MSISDN_INPUT_LENGTH = 32;

const FORMATTING = /[ ().-]/g;
const ALLOWED = /^\+?[0-9]+$/;

/**
 * Normalises a subscriber's number to E.164 (`+254712345678`), or says why it cannot.
 *
 * - Accepted: international with `+` (`+254 712 345 678`), with `00` (`00254712345678`), without
 *   either (`254712345678`, as Hubtel sends it), and national numbers of `defaultCountry`
 *   (`0712345678`, `712345678` for KE). Spaces, dots, dashes and parentheses are ignored.
 * - Validated with libphonenumber-js's `mobile` metadata: the number must be a valid mobile
 *   number of its country (digit patterns, not only length). Fixed lines, premium and short
 *   numbers are refused.
 * - Refused: empty input, more than 32 characters, letters or any other character (vanity
 *   numbers like `1-800-FLOWERS` included), an unsupported `defaultCountry`, too short, too long.
 */
export function normalizeMsisdn(raw: string, defaultCountry: CountryCode | string): MsisdnResult {
  if (typeof raw !== 'string' || raw.trim() === '') return refuse('empty', 'the number is empty');
  if (raw.length > MAX_MSISDN_INPUT_LENGTH) return refuse('too-long', `the number is longer than ${MAX_MSISDN_INPUT_LENGTH} characters`);
  const compact = raw.trim().replace(FORMATTING, '');
  if (!ALLOWED.test(compact)) return refuse('invalid-characters', 'the number may hold only digits, a leading "+" and spaces, dots, dashes or parentheses');
  if (typeof defaultCountry !== 'string' || !isSupported(defaultCountry)) {
    return refuse('unsupported-country', `${JSON.stringify(String(defaultCountry).slice(0, 8))} is not a supported country code`);
  }

  const candidates = [compact];
  if (compact.startsWith('00')) candidates.push(`+${compact.slice(2)}`);
  else if (!compact.startsWith('+') && !compact.startsWith('0')) candidates.push(`+${compact}`);
  for (const candidate of candidates) {
    const parsed = parsePhoneNumberFromString(candidate, { defaultCountry, extract: false }, metadata);
    if (parsed !== undefined && parsed.isValid()) return { ok: true, e164: parsed.number };
  }

  const length = validatePhoneNumberLength(compact, defaultCountry, metadata);
  if (length === 'TOO_SHORT') return refuse('too-short', 'the number is too short');
  if (length === 'TOO_LONG') return refuse('too-long', 'the number is too long');
  return refuse('invalid', compact.startsWith('+') ? 'not a valid mobile number' : `not a valid mobile number, nationally for ${defaultCountry} or internationally`);
}

function isSupported(country: string): country is CountryCode {
  return /^[A-Z]{2}$/.test(country) && isSupportedCountry(country as CountryCode, metadata);
}

function refuse(code: MsisdnErrorCode, reason: string): MsisdnResult {
  return { ok: false, code, reason };
}
