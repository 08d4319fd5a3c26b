import { escapePointerToken } from './json-pointer.js';

export interface SpecDiffOperation {
  readonly op: 'add' | 'remove' | 'replace';
  /** RFC 6901 pointer; see diffSpecs for which side's indexes it uses. */
  readonly path: string;
  readonly from?: unknown;
  readonly to?: unknown;
}

/** Past this depth values are compared whole; specs are far shallower, other input may not be. */
const MAX_DEPTH = 64;

/**
 * A deterministic structural diff of two JSON documents (two versions of a spec).
 *
 * - Objects: keys in sorted order; `remove` carries `from`, `add` carries `to`, a changed
 *   scalar or a change of kind is one `replace` with both.
 * - Arrays whose items on both sides are objects with unique string `id`s (`nodes`) are
 *   matched by id: a node that moved is unchanged, an edited node is diffed field by field at
 *   its index in `b`, a removed node is reported at its index in `a`. So node order never
 *   shows up as a change, and such ops are a description, not an applicable JSON Patch.
 * - Other arrays are matched by index: common items diffed, then extra items added (ascending)
 *   or removed (descending), which does apply as a JSON Patch from `a` to `b`.
 */
export function diffSpecs(a: unknown, b: unknown): SpecDiffOperation[] {
  const operations: SpecDiffOperation[] = [];
  diffValues(a, b, '', 0, operations);
  return operations;
}

function diffValues(a: unknown, b: unknown, path: string, depth: number, out: SpecDiffOperation[]): void {
  if (Object.is(a, b) || a === b) return;
  if (depth < MAX_DEPTH) {
    if (Array.isArray(a) && Array.isArray(b)) {
      if (keyedById(a) && keyedById(b)) diffById(a, b, path, depth, out);
      else diffByIndex(a, b, path, depth, out);
      return;
    }
    if (isRecord(a) && isRecord(b)) {
      diffObjects(a, b, path, depth, out);
      return;
    }
  }
  out.push({ op: 'replace', path, from: a, to: b });
}

function diffObjects(a: Record<string, unknown>, b: Record<string, unknown>, path: string, depth: number, out: SpecDiffOperation[]): void {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) {
    const at = `${path}/${escapePointerToken(key)}`;
    if (!Object.hasOwn(b, key)) out.push({ op: 'remove', path: at, from: a[key] });
    else if (!Object.hasOwn(a, key)) out.push({ op: 'add', path: at, to: b[key] });
    else diffValues(a[key], b[key], at, depth + 1, out);
  }
}

function diffByIndex(a: readonly unknown[], b: readonly unknown[], path: string, depth: number, out: SpecDiffOperation[]): void {
  const common = Math.min(a.length, b.length);
  for (let index = 0; index < common; index += 1) diffValues(a[index], b[index], `${path}/${index}`, depth + 1, out);
  for (let index = common; index < b.length; index += 1) out.push({ op: 'add', path: `${path}/${index}`, to: b[index] });
  for (let index = a.length - 1; index >= common; index -= 1) out.push({ op: 'remove', path: `${path}/${index}`, from: a[index] });
}

type Identified = Record<string, unknown> & { id: string };

function diffById(a: readonly Identified[], b: readonly Identified[], path: string, depth: number, out: SpecDiffOperation[]): void {
  const before = new Map(a.map((item) => [item.id, item]));
  const after = new Set(b.map((item) => item.id));
  for (let index = a.length - 1; index >= 0; index -= 1) {
    const item = a[index];
    if (item !== undefined && !after.has(item.id)) out.push({ op: 'remove', path: `${path}/${index}`, from: item });
  }
  b.forEach((item, index) => {
    const previous = before.get(item.id);
    if (previous === undefined) out.push({ op: 'add', path: `${path}/${index}`, to: item });
    else diffValues(previous, item, `${path}/${index}`, depth + 1, out);
  });
}

function keyedById(items: readonly unknown[]): items is Identified[] {
  const ids = new Set<string>();
  for (const item of items) {
    if (!isRecord(item) || typeof item['id'] !== 'string' || ids.has(item['id'])) return false;
    ids.add(item['id']);
  }
  return true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
