import fc from 'fast-check';
import { normalizeMsisdn, type MsisdnErrorCode } from './msisdn.js';

function e164(raw: string, country: string): string | undefined {
  const result = normalizeMsisdn(raw, country);
  return result.ok ? result.e164 : undefined;
}

function refusal(raw: string, country: string): MsisdnErrorCode | undefined {
  const result = normalizeMsisdn(raw, country);
  return result.ok ? undefined : result.code;
}

describe('normalizeMsisdn', () => {
  it.each([
    // Kenya: international, without "+", national with and without trunk 0, formatted, 00 prefix.
    ['+254712345678', 'KE', '+254712345678'],
    ['254712345678', 'KE', '+254712345678'],
    ['0712345678', 'KE', '+254712345678'],
    ['712345678', 'KE', '+254712345678'],
    ['+254 712 345 678', 'KE', '+254712345678'],
    ['0712-345-678', 'KE', '+254712345678'],
    ['(0712) 345.678', 'KE', '+254712345678'],
    ['00254712345678', 'KE', '+254712345678'],
    [' 0712345678 ', 'KE', '+254712345678'],
    ['0110123456', 'KE', '+254110123456'],
    // Ghana, as Hubtel sends it and nationally.
    ['233200585542', 'GH', '+233200585542'],
    ['0241234567', 'GH', '+233241234567'],
    ['+233 24 123 4567', 'GH', '+233241234567'],
    // Nigeria, Uganda, Tanzania.
    ['08031234567', 'NG', '+2348031234567'],
    ['+2348031234567', 'NG', '+2348031234567'],
    ['0772123456', 'UG', '+256772123456'],
    ['256772123456', 'UG', '+256772123456'],
    ['0712345678', 'TZ', '+255712345678'],
    ['+255712345678', 'TZ', '+255712345678'],
  ])('normalises %p (%s) to %p', (raw, country, expected) => {
    expect(e164(raw, country)).toBe(expected);
  });

  it('reads an international number whatever the default country', () => {
    expect(e164('+233241234567', 'KE')).toBe('+233241234567');
    expect(e164('233241234567', 'KE')).toBe('+233241234567');
    expect(e164('00256772123456', 'NG')).toBe('+256772123456');
  });

  it('reads the same national digits differently per default country', () => {
    expect(e164('0712345678', 'KE')).toBe('+254712345678');
    expect(e164('0712345678', 'TZ')).toBe('+255712345678');
    expect(e164('0712345678', 'UG')).toBe('+256712345678');
  });

  it('refuses valid-looking numbers that are not mobile numbers', () => {
    // A Nairobi fixed line: the right length, but no handset dials USSD from it.
    expect(refusal('0201234567', 'KE')).toBe('invalid');
    expect(refusal('+254201234567', 'KE')).toBe('invalid');
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['07123', 'too-short'],
    ['+2547123', 'too-short'],
    ['0', 'too-short'],
    ['+25471234567890', 'too-long'],
    ['07123456789012', 'too-long'],
    ['0'.repeat(33), 'too-long'],
    ['0712 CALL ME', 'invalid-characters'],
    ['1-800-FLOWERS', 'invalid-characters'],
    ['0712345678;ext=1', 'invalid-characters'],
    ['0712345678 x12', 'invalid-characters'],
    ['+', 'invalid-characters'],
    ['++254712345678', 'invalid-characters'],
    ['254+712345678', 'invalid-characters'],
    ['٠٧١٢٣٤٥٦٧٨', 'invalid-characters'],
    ['０７１２３４５６７８', 'invalid-characters'],
    ['0712345678\u0000', 'invalid-characters'],
    ['tel:+254712345678', 'invalid-characters'],
    ['<script>', 'invalid-characters'],
    ['+999123456789', 'invalid'],
  ])('refuses %p as %s', (raw, code) => {
    const result = normalizeMsisdn(raw, 'KE');
    expect(result).toEqual({ ok: false, code, reason: expect.any(String) });
  });

  it('refuses an unsupported default country', () => {
    expect(refusal('0712345678', 'XX')).toBe('unsupported-country');
    expect(refusal('0712345678', 'ke')).toBe('unsupported-country');
    expect(refusal('0712345678', '__proto__')).toBe('unsupported-country');
  });

  it('never throws, and whatever it accepts is E.164', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^\+?[0-9 ]{0,20}$/)), fc.constantFrom('KE', 'GH', 'NG', 'UG', 'TZ', 'ZZ'), (raw, country) => {
        const result = normalizeMsisdn(raw, country);
        return result.ok ? /^\+[1-9][0-9]{6,14}$/.test(result.e164) : result.reason.length > 0;
      }),
      { numRuns: 1000 },
    );
  });

  it('is idempotent: an E.164 result normalises to itself under any default country', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^0?7[0-9]{8}$/), fc.constantFrom('GH', 'NG', 'UG', 'TZ'), (national, other) => {
        const first = normalizeMsisdn(national, 'KE');
        return !first.ok || e164(first.e164, other) === first.e164;
      }),
      { numRuns: 300 },
    );
  });
});
