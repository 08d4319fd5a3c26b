/**
 * GSM 03.38 (3GPP TS 23.038) 7-bit default alphabet: what a USSD screen can carry.
 *
 * **Policy.** Every screen we send is GSM-7 and its length is counted in septets:
 * - The 127 characters of the default alphabet (ESC excluded) take one septet each: Latin letters,
 *   digits, `@£$¥èéùìòÇØøÅåÄÖÑÜäöñüàÆæßÉ¡¿§¤`, the Greek capitals `ΔΦΓΛΩΠΨΣΘΞ`, `\n`, `\r`, space
 *   and the ASCII punctuation except the ones below.
 * - The extension table's `^ { } \ [ ~ ] | €` and form feed take two septets (ESC + character).
 * - `toGsm` replaces everything else before sending: curly quotes and guillemets become straight
 *   quotes, dashes and minus signs `-`, the ellipsis `...`, non-breaking and other spaces a space,
 *   line/paragraph separators `\n`, tabs a space; accented Latin letters outside the alphabet lose
 *   their accents (Unicode NFKD, marks dropped: `ç` → `c`, `ő` → `o`, `ﬁ` → `fi`), a few letters
 *   without a decomposition are spelled out (`ł` → `l`, `œ` → `oe`, `₦` → `N`, `₵` → `C`);
 *   other control and invisible format characters are dropped; anything left (emoji, other scripts,
 *   symbols) becomes one `?` per user-perceived character, so an emoji with a skin tone or a
 *   family ZWJ sequence is a single `?`.
 *
 * We never switch a screen to UCS-2: it would cut a screen to about 80 characters and many
 * handsets and gateways mangle it. Authors who need other scripts need another channel.
 */

const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const EXTENSION = '\f^{}\\[~]|€';

/** The default alphabet's characters (one septet each). */
export const GSM7_BASIC_CHARACTERS: ReadonlySet<string> = new Set(BASIC);
/** The extension table's characters (two septets each: ESC and the character). */
export const GSM7_EXTENSION_CHARACTERS: ReadonlySet<string> = new Set(EXTENSION);

const REPLACEMENTS: ReadonlyMap<string, string> = new Map([
  // Quotes and apostrophes.
  ...[...'‘’‚‛′‵`´‹›'].map((c): [string, string] => [c, "'"]),
  ...[...'“”„‟″«»'].map((c): [string, string] => [c, '"']),
  // Dashes and hyphens.
  ...[...'‐‑‒–—―−'].map((c): [string, string] => [c, '-']),
  ['…', '...'],
  ['•', '-'],
  ['·', '.'],
  ['×', 'x'],
  ['÷', '/'],
  ['©', '(c)'],
  ['®', '(R)'],
  // Letters without a Unicode decomposition.
  ['ł', 'l'],
  ['Ł', 'L'],
  ['đ', 'd'],
  ['Đ', 'D'],
  ['ð', 'd'],
  ['ı', 'i'],
  ['œ', 'oe'],
  ['Œ', 'OE'],
  // Currencies of the markets we serve (₦ naira, ₵ cedi).
  ['₦', 'N'],
  ['₵', 'C'],
  // Whitespace.
  ['\t', ' '],
  ['\v', '\n'],
  ['\u2028', '\n'],
  ['\u2029', '\n'],
]);

const INVISIBLE = /^[\p{Cc}\p{Cf}]+$/u;
const SPACE = /^\p{Zs}$/u;
// Combining marks, and invisible format characters (joiners) left inside a grapheme.
const MARKS = /[\p{M}\p{Cf}]/gu;

let segmenter: Intl.Segmenter | undefined;

/** True when every character of `text` is in the GSM-7 default alphabet or its extension table. */
export function isGsm7(text: string): boolean {
  for (const character of text) {
    if (!GSM7_BASIC_CHARACTERS.has(character) && !GSM7_EXTENSION_CHARACTERS.has(character)) return false;
  }
  return true;
}

/** Septets of one GSM-7 character: 1, 2 for the extension table; undefined when not GSM-7. */
export function gsm7CharacterSeptets(character: string): 1 | 2 | undefined {
  if (GSM7_BASIC_CHARACTERS.has(character)) return 1;
  if (GSM7_EXTENSION_CHARACTERS.has(character)) return 2;
  return undefined;
}

/**
 * The septets `text` takes on the wire, once converted with `toGsm` (so non-GSM text is counted
 * as what will actually be sent: `…` as 3, an emoji as 1).
 */
export function gsm7Length(text: string): number {
  let septets = 0;
  for (const character of text) {
    const size = gsm7CharacterSeptets(character);
    if (size === undefined) return gsm7Length(toGsm(text));
    septets += size;
  }
  return septets;
}

/** Converts `text` to GSM-7 by the policy above. GSM-7 text comes back unchanged. */
export function toGsm(text: string): string {
  if (isGsm7(text)) return text;
  segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  let out = '';
  for (const { segment } of segmenter.segment(text.normalize('NFC'))) {
    out += convertGrapheme(segment);
  }
  return out;
}

function convertGrapheme(grapheme: string): string {
  if (isGsm7(grapheme)) return grapheme;
  const replacement = REPLACEMENTS.get(grapheme);
  if (replacement !== undefined) return replacement;
  if (SPACE.test(grapheme)) return ' ';
  if (INVISIBLE.test(grapheme)) return '';
  const decomposed = grapheme.normalize('NFKD').replace(MARKS, '');
  if (decomposed !== '' && isGsm7(decomposed)) return decomposed;
  return '?';
}
