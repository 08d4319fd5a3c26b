import { gsm7Length } from './gsm7.js';
import { BACK_KEY, MORE_KEY, pageNavigation, paginate, paginateReply } from './screens.js';

const menu = Array.from({ length: 12 }, (_, index) => `${index + 1}. Option number ${index + 1} with a description`).join('\n');

describe('paginate', () => {
  it('keeps a screen that fits as one page', () => {
    expect(paginate('1. Balance\n2. Airtime')).toEqual(['1. Balance\n2. Airtime']);
    expect(paginate('')).toEqual(['']);
    expect(paginate('x'.repeat(182))).toEqual(['x'.repeat(182)]);
  });

  it('splits a long menu at line boundaries with more and back lines', () => {
    const pages = paginate(menu);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages[0]).toMatch(/^1\. Option number 1 with a description\n.*\n98\. More$/s);
    expect(pages.at(-1)).toMatch(/12\. Option number 12 with a description\n0\. Back$/);
    for (const page of pages.slice(1, -1)) expect(page).toMatch(/\n98\. More\n0\. Back$/);
    for (const page of pages) expect(gsm7Length(page)).toBeLessThanOrEqual(182);
    // Every option appears once, whole.
    const options = pages.flatMap((page) => page.split('\n')).filter((l) => /^\d+\. Option/.test(l));
    expect(options).toEqual(menu.split('\n'));
  });

  it('fills pages greedily', () => {
    // 182 - "\n98. More" (9) = 173 septets of content on the first page: 4 lines of 42 + 3 newlines = 171.
    const lines = Array.from({ length: 6 }, (_, index) => `${index}`.padEnd(42, 'x'));
    const pages = paginate(lines.join('\n'));
    expect(pages[0]).toBe([...lines.slice(0, 4), '98. More'].join('\n'));
    expect(pages[1]).toBe([...lines.slice(4), '0. Back'].join('\n'));
  });

  it('counts extension characters as two septets', () => {
    const line = '€'.repeat(80); // 160 septets, 80 characters
    const pages = paginate(`${line}\n${line}`);
    expect(pages).toHaveLength(2);
    expect(pages.every((page) => gsm7Length(page) <= 182)).toBe(true);
  });

  it('splits a line longer than a page at word boundaries', () => {
    const words = Array.from({ length: 60 }, (_, index) => `word${index}`).join(' ');
    const pages = paginate(words);
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages) {
      expect(gsm7Length(page)).toBeLessThanOrEqual(182);
      const content = page.split('\n').filter((l) => l !== '98. More' && l !== '0. Back');
      for (const l of content) expect(l).toMatch(/^word\d+( word\d+)*$/);
    }
  });

  it('cuts a single word longer than a page', () => {
    const pages = paginate('x'.repeat(500));
    expect(pages.join('').replace(/98\. More|0\. Back|\n/g, '')).toBe('x'.repeat(500));
    expect(pages.every((page) => gsm7Length(page) <= 182)).toBe(true);
  });

  it('converts to GSM-7 before measuring', () => {
    expect(paginate('Karibu — “Asante”…')).toEqual(['Karibu - "Asante"...']);
    // 61 ellipses are 183 septets once converted.
    expect(paginate('…'.repeat(61)).length).toBe(2);
  });

  it('takes other sizes and labels', () => {
    const pages = paginate('aaa\nbbb\nccc\nddd\neee', { maxLength: 12, moreLabel: '9 >', backLabel: '< 0' });
    expect(pages).toEqual(['aaa\nbbb\n9 >', 'ccc\n9 >\n< 0', 'ddd\neee\n< 0']);
  });

  it('leaves the back line off the last page on request', () => {
    const pages = paginate(menu, { backOnLastPage: false });
    expect(pages.at(-1)).toMatch(/12\. Option number 12 with a description$/);
  });

  it('refuses options that leave no room', () => {
    expect(() => paginate('x', { maxLength: 18 })).toThrow(RangeError);
    expect(() => paginate('x', { moreLabel: '' })).toThrow(RangeError);
    expect(() => paginate('x', { backLabel: '0.\nBack' })).toThrow(RangeError);
    expect(() => paginate('x', { maxLength: 100.5 })).toThrow(RangeError);
  });
});

describe('paginateReply', () => {
  it('continues every page but the last, which keeps the kind and, when final, has no back line', () => {
    const replies = paginateReply({ kind: 'end', text: menu });
    expect(replies.slice(0, -1).every((reply) => reply.kind === 'continue')).toBe(true);
    expect(replies.at(-1)!.kind).toBe('end');
    expect(replies.at(-1)!.text.endsWith('0. Back')).toBe(false);
    expect(paginateReply({ kind: 'continue', text: menu }).at(-1)!.text.endsWith('0. Back')).toBe(true);
    expect(paginateReply({ kind: 'end', text: 'Bye' })).toEqual([{ kind: 'end', text: 'Bye' }]);
  });
});

describe('pageNavigation', () => {
  it('exports the keys the labels show', () => {
    expect([MORE_KEY, BACK_KEY]).toEqual(['98', '0']);
  });

  it('moves forward and back only where the page offers it', () => {
    expect(pageNavigation('98', 0, 3)).toBe(1);
    expect(pageNavigation(' 98 ', 1, 3)).toBe(2);
    expect(pageNavigation('98', 2, 3)).toBeNull();
    expect(pageNavigation('0', 2, 3)).toBe(1);
    expect(pageNavigation('0', 0, 3)).toBeNull();
    expect(pageNavigation('1', 1, 3)).toBeNull();
    expect(pageNavigation(null, 1, 3)).toBeNull();
    expect(pageNavigation('98', 0, 1)).toBeNull();
    expect(pageNavigation('0', 5, 3)).toBeNull();
    expect(pageNavigation('9', 0, 2, { more: '9' })).toBe(1);
  });
});
