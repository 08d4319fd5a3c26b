import { z } from 'zod';

/**
 * Every environment variable the platform reads, in one table. The README's
 * configuration table is checked against this list by a test, so they cannot drift.
 */
export interface VariableDoc {
  readonly name: string;
  /** Default as the operator would write it; undefined means "unset". */
  readonly default: string | undefined;
  readonly description: string;
}

const text = (name: string, expected: string) =>
  z.string({ error: () => `${name}: expected ${expected}` });

export function integer(name: string, min: number, max: number) {
  return text(name, `an integer from ${min} to ${max}`)
    .trim()
    .refine((v) => /^-?\d+$/.test(v) && Number(v) >= min && Number(v) <= max, {
      error: (issue) => `${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(issue.input)}`,
    })
    .transform(Number);
}

export function boolean(name: string) {
  return text(name, 'true or false')
    .trim()
    .toLowerCase()
    .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), {
      error: (issue) => `${name}: expected true or false, got ${JSON.stringify(issue.input)}`,
    })
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
}

export function oneOf<const T extends readonly [string, ...string[]]>(name: string, values: T) {
  return text(name, `one of ${values.join(', ')}`)
    .trim()
    .refine((v): v is T[number] => (values as readonly string[]).includes(v), {
      error: (issue) => `${name}: expected one of ${values.join(', ')}, got ${JSON.stringify(issue.input)}`,
    })
    .transform((v) => v as T[number]);
}

export function url(name: string, protocols: readonly string[]) {
  return text(name, `a ${protocols.join(' or ')} URL`)
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      // Never echo a URL back: it may carry a password.
      { error: () => `${name}: expected a ${protocols.map((p) => `${p}://`).join(' or ')} URL` },
    );
}

export function nonEmpty(name: string, expected: string) {
  return text(name, expected)
    .trim()
    .min(1, { error: `${name}: expected ${expected}, got an empty value` });
}

export function matches(name: string, pattern: RegExp, expected: string) {
  return text(name, expected)
    .trim()
    .refine((v) => pattern.test(v), { error: (issue) => `${name}: expected ${expected}, got ${JSON.stringify(issue.input)}` });
}
