import { gsm7CharacterSeptets, gsm7Length, toGsm } from './gsm7.js';
import { MAX_SCREEN_LENGTH, type UssdReply } from './ussd-reply.js';

/** What a subscriber types to see the next page of a long screen. */
export const MORE_KEY = '98';
/** What a subscriber types to see the previous page. */
export const BACK_KEY = '0';

export interface PaginateOptions {
  /** Septets per page, navigation lines included. Default `MAX_SCREEN_LENGTH` (182). */
  readonly maxLength?: number;
  /** The last line of every page but the last. Default `98. More`. */
  readonly moreLabel?: string;
  /** The last line of every page but the first. Default `0. Back`. */
  readonly backLabel?: string;
  /**
   * Whether the last page offers the back option too. Default true; false for a screen that ends
   * the session (there is no going back once it is shown). `paginateReply` sets it.
   */
  readonly backOnLastPage?: boolean;
}

/**
 * Splits a screen into pages of at most `maxLength` septets (GSM-7, see `gsm7.ts`; the text is
 * converted with `toGsm` first, so pages are always GSM-7).
 *
 * - A screen that fits is one page, unchanged.
 * - Otherwise pages break at line boundaries, each filled with as many whole lines as fit. A line
 *   too long for any page is split at its last space that fits (the space itself is dropped), or
 *   cut hard when a single word is longer than a page.
 * - Every page but the last ends with the more line (`98. More`); every page but the first ends
 *   with the back line (`0. Back`), after the more line when both are shown. Each page, those lines
 *   included, is at most `maxLength` septets.
 *
 * The keys the labels announce are `MORE_KEY` and `BACK_KEY`; `pageNavigation` interprets them.
 * A menu whose own options use `98` or `0` collides with them on the pages that show those lines.
 * Throws a RangeError when the labels are empty or span lines, or leave no room for content.
 */
export function paginate(text: string, options: PaginateOptions = {}): string[] {
  const maxLength = options.maxLength ?? MAX_SCREEN_LENGTH;
  const more = label(options.moreLabel ?? `${MORE_KEY}. More`, 'moreLabel');
  const back = label(options.backLabel ?? `${BACK_KEY}. Back`, 'backLabel');
  const backOnLastPage = options.backOnLastPage ?? true;
  const moreCost = 1 + gsm7Length(more);
  const backCost = 1 + gsm7Length(back);
  // The room left on a middle page, which carries both lines: every piece of content must fit it.
  const minBudget = maxLength - moreCost - backCost;
  if (!Number.isInteger(maxLength) || minBudget < 2) {
    throw new RangeError(`maxLength ${maxLength} leaves no room for content beside "${more}" and "${back}"`);
  }

  const screen = toGsm(text);
  if (gsm7Length(screen) <= maxLength) return [screen];

  const units = screen.split('\n').flatMap((line) => (gsm7Length(line) > minBudget ? splitLine(line, minBudget) : [line]));
  const sizes = units.map(gsm7Length);
  const pages: string[] = [];
  let start = 0;
  while (start < units.length) {
    const first = pages.length === 0;
    const lastBackCost = first || !backOnLastPage ? 0 : backCost;
    if (contentLength(sizes, start, units.length) <= maxLength - lastBackCost) {
      pages.push(page(units.slice(start), null, lastBackCost > 0 ? back : null));
      break;
    }
    const budget = maxLength - moreCost - (first ? 0 : backCost);
    let end = start + 1; // every unit fits minBudget <= budget
    while (end < units.length && contentLength(sizes, start, end + 1) <= budget) end += 1;
    pages.push(page(units.slice(start, end), more, first ? null : back));
    start = end;
  }
  return pages;
}

/**
 * Paginates a reply: every page but the last continues the session (so the subscriber can ask
 * for more); the last keeps the reply's kind. A final (`end`) screen's last page has no back line.
 */
export function paginateReply(reply: UssdReply, options: Omit<PaginateOptions, 'backOnLastPage'> = {}): UssdReply[] {
  const pages = paginate(reply.text, { ...options, backOnLastPage: reply.kind === 'continue' });
  return pages.map((text, index) => ({ kind: index === pages.length - 1 ? reply.kind : 'continue', text }));
}

/**
 * Interprets a reply to page `index` of `pageCount`: the page to show instead, or null when the
 * input is not a navigation key valid on that page (and so goes to the workflow as usual).
 */
export function pageNavigation(input: string | null, index: number, pageCount: number, keys: { readonly more?: string; readonly back?: string } = {}): number | null {
  if (input === null) return null;
  const answer = input.trim();
  if (answer === (keys.more ?? MORE_KEY) && index < pageCount - 1) return index + 1;
  if (answer === (keys.back ?? BACK_KEY) && index > 0 && index < pageCount) return index - 1;
  return null;
}

function label(text: string, name: string): string {
  const converted = toGsm(text);
  if (converted.trim() === '' || /[\n\r\f]/.test(converted)) throw new RangeError(`${name} must be one non-empty line`);
  return converted;
}

/** Septets of units[start..end) joined by newlines. */
function contentLength(sizes: readonly number[], start: number, end: number): number {
  let total = end - start - 1;
  for (let index = start; index < end; index += 1) total += sizes[index] ?? 0;
  return total;
}

function page(lines: readonly string[], more: string | null, back: string | null): string {
  return [...lines, ...(more === null ? [] : [more]), ...(back === null ? [] : [back])].join('\n');
}

/** Splits a GSM-7 line into pieces of at most `budget` septets, at spaces when it can. */
function splitLine(line: string, budget: number): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (gsm7Length(rest) > budget) {
    let septets = 0;
    let cut = 0;
    while (cut < rest.length) {
      const size = gsm7CharacterSeptets(rest.charAt(cut)) ?? 1;
      if (septets + size > budget) break;
      septets += size;
      cut += 1;
    }
    const space = rest.lastIndexOf(' ', cut);
    if (space > 0) {
      pieces.push(rest.slice(0, space));
      rest = rest.slice(space + 1);
    } else {
      pieces.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
  }
  pieces.push(rest);
  return pieces;
}
