import { pointer } from './json-pointer.js';

/** Where a spec names a team secret: `secrets.NAME` in an expression or a `{{ }}` placeholder. */
export interface SecretReference {
  readonly name: string;
  /** RFC 6901 pointer to the string that names it. */
  readonly pointer: string;
}

/** `secrets.NAME`, not preceded by a name character, `$` or `.` (so `vars.secrets.X` is not one). */
const REFERENCE = /(?<![\w$.])secrets\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)/g;
const PLACEHOLDER = /\{\{([\s\S]*?)\}\}/g;
const MAX_DEPTH = 64;

function referencesIn(text: string): string[] {
  // A template's plain text is not an expression: only its placeholders are read there.
  const parts = text.includes('{{') ? [...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '') : [text];
  return parts.flatMap((part) => [...part.matchAll(REFERENCE)].map((m) => m[1] ?? '')).filter((name) => name !== '');
}

/**
 * Every `secrets.NAME` the spec's strings name, with where, in document order. Only names
 * written literally count: the engine resolves exactly these for a run (and nothing else
 * exists under `secrets`), and validation checks them against the team's secrets.
 */
export function secretReferences(spec: unknown): SecretReference[] {
  const found: SecretReference[] = [];
  const walk = (value: unknown, path: (string | number)[]): void => {
    if (path.length > MAX_DEPTH) return;
    if (typeof value === 'string') {
      if (value.includes('secrets')) for (const name of referencesIn(value)) found.push({ name, pointer: pointer(...path) });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, [...path, index]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
    }
  };
  walk(spec, []);
  return found;
}

/** The distinct names of `secretReferences`, sorted. */
export function secretNames(spec: unknown): string[] {
  return [...new Set(secretReferences(spec).map((reference) => reference.name))].sort();
}
