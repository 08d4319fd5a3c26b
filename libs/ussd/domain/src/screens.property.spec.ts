import fc from 'fast-check';
import { gsm7Length, isGsm7, toGsm } from './gsm7.js';
import { paginate, paginateReply } from './screens.js';

const MORE = '98. More';
const BACK = '0. Back';

/** Words over GSM-7 (extension characters included) and some characters toGsm must convert. */
const word = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.,:()*#ÄéØΩ€[]{}^~|\\', '…', '“', 'ç', '😀', '—'),
  minLength: 1,
  maxLength: 30,
});
const line = fc.oneof(fc.array(word, { maxLength: 12 }).map((words) => words.join(' ')), fc.constant(''), word.map((w) => w.repeat(12)));
const screen = fc.oneof(
  { weight: 4, arbitrary: fc.array(line, { minLength: 1, maxLength: 25 }).map((lines) => lines.join('\n')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 600 }) },
);
const maxLength = fc.oneof(fc.constant(182), fc.integer({ min: 20, max: 400 }));

/** The content lines of each page: its lines without the navigation lines at its end. */
function contents(pages: readonly string[], backOnLastPage: boolean): string[][] {
  return pages.map((page, index) => {
    const lines = page.split('\n');
    if (pages.length === 1) return lines;
    const last = index === pages.length - 1;
    const navigation = (last ? 0 : 1) + (index > 0 && (!last || backOnLastPage) ? 1 : 0);
    return lines.slice(0, lines.length - navigation);
  });
}

function withoutWhitespace(text: string): string {
  return text.replace(/\s/g, '');
}

describe('paginate properties', () => {
  it('gives at least one page, each GSM-7 and within maxLength septets', () => {
    fc.assert(
      fc.property(screen, maxLength, fc.boolean(), (text, max, backOnLastPage) => {
        const pages = paginate(text, { maxLength: max, backOnLastPage });
        return pages.length >= 1 && pages.every((page) => isGsm7(page) && gsm7Length(page) <= max);
      }),
      { numRuns: 1500 },
    );
  });

  it('puts the more line on every page but the last, and the back line on every page but the first', () => {
    fc.assert(
      fc.property(screen, maxLength, (text, max) => {
        const pages = paginate(text, { maxLength: max });
        if (pages.length === 1) return true;
        return pages.every((page, index) => {
          const lines = page.split('\n');
          const last = index === pages.length - 1;
          const tail = last ? [BACK] : index === 0 ? [MORE] : [MORE, BACK];
          return JSON.stringify(lines.slice(-tail.length)) === JSON.stringify(tail);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('gives back the original lines when every line fits a page, and all the text otherwise', () => {
    fc.assert(
      fc.property(screen, maxLength, fc.boolean(), (text, max, backOnLastPage) => {
        const pages = paginate(text, { maxLength: max, backOnLastPage });
        const original = toGsm(text);
        const rebuilt = contents(pages, backOnLastPage).flat();
        const roomOnAPage = max - MORE.length - BACK.length - 2;
        if (original.split('\n').every((l) => gsm7Length(l) <= roomOnAPage)) {
          return JSON.stringify(rebuilt) === JSON.stringify(original.split('\n'));
        }
        // Long lines were split at spaces (each dropped) or cut: no other character is lost or added.
        return withoutWhitespace(rebuilt.join('')) === withoutWhitespace(original);
      }),
      { numRuns: 1500 },
    );
  });

  it('returns a screen that fits unchanged, as one page', () => {
    fc.assert(
      fc.property(screen, (text) => {
        const gsm = toGsm(text);
        fc.pre(gsm7Length(gsm) <= 182);
        const pages = paginate(text);
        return pages.length === 1 && pages[0] === gsm;
      }),
    );
  });

  it('paginates a reply into continuing pages and keeps the reply kind on the last', () => {
    fc.assert(
      fc.property(screen, fc.constantFrom('continue' as const, 'end' as const), (text, kind) => {
        const replies = paginateReply({ kind, text });
        return replies.every((reply, index) => reply.kind === (index === replies.length - 1 ? kind : 'continue'));
      }),
      { numRuns: 300 },
    );
  });
});
