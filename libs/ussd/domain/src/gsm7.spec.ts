import fc from 'fast-check';
import { GSM7_BASIC_CHARACTERS, GSM7_EXTENSION_CHARACTERS, gsm7Length, isGsm7, toGsm } from './gsm7.js';

describe('GSM-7 alphabet', () => {
  it('has the 127 default characters (ESC excluded) and 10 extension characters', () => {
    expect(GSM7_BASIC_CHARACTERS.size).toBe(127);
    expect(GSM7_EXTENSION_CHARACTERS.size).toBe(10);
    expect(GSM7_BASIC_CHARACTERS.has('\u001b')).toBe(false);
    for (const c of '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà') expect(GSM7_BASIC_CHARACTERS.has(c)).toBe(true);
  });

  it('tells GSM-7 text from the rest', () => {
    expect(isGsm7('Hello, World! 1*2#')).toBe(true);
    expect(isGsm7('Prix: 5€ [promo] {x} ~ | ^ \\')).toBe(true);
    expect(isGsm7('')).toBe(true);
    for (const text of ['ç', '`', '…', '’', '\t', '\u00a0', '😀', 'Ελλάδα', 'Привет', '\u001b']) expect(isGsm7(text)).toBe(false);
  });

  it('counts extension characters as two septets', () => {
    expect(gsm7Length('abc')).toBe(3);
    expect(gsm7Length('€')).toBe(2);
    expect(gsm7Length('^{}\\[~]|€\f')).toBe(20);
    expect(gsm7Length('a\nb')).toBe(3);
  });

  it('counts non-GSM text as what toGsm makes of it', () => {
    expect(gsm7Length('…')).toBe(3);
    expect(gsm7Length('😀')).toBe(1);
    expect(gsm7Length('👨‍👩‍👧‍👦 hi')).toBe(4);
  });
});

describe('toGsm', () => {
  it.each([
    ['‘single’ “double” „low“ «guillemets»', '\'single\' "double" "low" "guillemets"'],
    ['en – em — minus − hyphen ‐', 'en - em - minus - hyphen -'],
    ['wait…', 'wait...'],
    ['no\u00a0break\u2009thin\u3000wide', 'no break thin wide'],
    ['tab\there', 'tab here'],
    ['line\u2028separator', 'line\nseparator'],
    ['zero\u200bwidth\ufeff soft\u00adhyphen', 'zerowidth softhyphen'],
    ['bell\u0007', 'bell'],
    ['ça va, Mañana, Šťastný, Łódź, Ærø, naïve, façade', 'ca va, Mañana, Stastny, Lodz, Ærø, naive, facade'],
    ['café', 'café'],
    ['cafe\u0301', 'café'],
    ['ﬁne ²', 'fine 2'],
    ['₦500, GH₵20', 'N500, GHC20'],
    ['I ❤️ USSD 😀👍🏽', 'I ? USSD ??'],
    ['👨‍👩‍👧‍👦', '?'],
    ['Привет', '??????'],
    ['中文', '??'],
    ['Ελλάδα ΔΣ', '?????? ΔΣ'],
    ['€ [x] {y}', '€ [x] {y}'],
  ])('converts %p', (input, expected) => {
    expect(toGsm(input)).toBe(expected);
  });

  it('returns GSM-7 text unchanged', () => {
    const text = 'Hello £5 @ Ωmega\n1. Yes\r\n2. No €';
    expect(toGsm(text)).toBe(text);
  });

  it('always gives GSM-7, and is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        const once = toGsm(text);
        return isGsm7(once) && toGsm(once) === once && gsm7Length(text) === gsm7Length(once);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps every GSM-7 character', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...GSM7_BASIC_CHARACTERS, ...GSM7_EXTENSION_CHARACTERS) }), (text) => toGsm(text) === text),
    );
  });
});
