/** What stands in for a secret's value wherever it would leave a run. */
export const maskOf = (name: string) => `[secret:${name}]`;

/**
 * Replaces every occurrence of a run's secret values with `[secret:NAME]`, in strings and object
 * keys at any depth. Longer values are replaced first, so a value that contains another is
 * masked whole. Only the exact text is found: a value the workflow transformed (encoded,
 * reversed, cut) is not recognised, which docs/security.md says.
 */
export class SecretMask {
  static readonly none = new SecretMask(new Map());
  private readonly entries: readonly (readonly [string, string])[];

  constructor(values: ReadonlyMap<string, string>) {
    this.entries = [...values.entries()].filter(([, value]) => value !== '').sort(([, a], [, b]) => b.length - a.length);
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  text(text: string): string {
    let result = text;
    for (const [name, value] of this.entries) if (result.includes(value)) result = result.replaceAll(value, maskOf(name));
    return result;
  }

  /** A copy with every string masked; the value itself is not changed. */
  value<T>(value: T): T {
    if (this.empty) return value;
    return this.walk(value as unknown, 0) as T;
  }

  private walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object' || depth > 1000) return value;
    if (Array.isArray(value)) return value.map((item) => this.walk(item, depth + 1));
    if (value instanceof Date) return value;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(copy, this.text(key), { value: this.walk(item, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return copy;
  }
}

