import { readFileSync } from 'node:fs';
import { USSD_MESSAGES } from './ussd-hop.service.js';

/** docs/ussd.md quotes the replies subscribers read; they must be the texts the code sends. */
describe('docs/ussd.md quotes the exact USSD replies', () => {
  const page = readFileSync(new URL('../../../../docs/ussd.md', import.meta.url), 'utf8');
  const known = new Set(Object.values(USSD_MESSAGES).map((text) => `END ${text}`));

  it.each(Object.entries(USSD_MESSAGES))('lists USSD_MESSAGES.%s verbatim in the table of replies', (_key, text) => {
    const table = page.slice(page.indexOf('### What the subscriber reads'), page.indexOf('## Try it'));
    expect(table).toContain(`| \`END ${text}\` |`);
  });

  it('quotes no END reply (inline, outside the example walk) that the code does not send, nor a shortened one', () => {
    // `END …` alone stands for the format (`CON …` / `END …`), not for a reply.
    const quoted = [...page.matchAll(/`(END [^`]+)`/g)].map((match) => match[1]!).filter((text) => text !== 'END …');
    expect(quoted.length).toBeGreaterThanOrEqual(Object.keys(USSD_MESSAGES).length);
    expect(quoted.filter((text) => !known.has(text))).toEqual([]);
    expect(page).not.toMatch(/`END [^`]+…`/);
  });
});
