import type { JsonValue } from '@ussd/workflow-domain';

/**
 * Plain JSON copy of a value, or undefined when there is nothing JSON can carry (undefined, a
 * function). Throws on cycles and BigInts. JSONata results need it: sequences are arrays with
 * extra flags, and everything the engine keeps must survive the continuation round trip.
 */
export function toJson(value: unknown): JsonValue | undefined {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value);
  return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
}

/** Like `toJson`, with undefined as null: the spec's "absent means null". */
export function toJsonOrNull(value: unknown): JsonValue {
  return toJson(value) ?? null;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sets an own property even for names like `__proto__`, which the validator refuses but a
 * hand-made spec or a continuation could still carry: an assignment must never reach a prototype.
 */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** JSONata's `$boolean`: what "truthy" means for `switch` cases and validation expressions. */
export function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.some(isTruthy);
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'string':
      return value.length > 0;
    case 'number':
      return value !== 0 && !Number.isNaN(value);
    case 'object':
      return Object.keys(value).length > 0;
    default:
      return false;
  }
}

/** Bytes of the value's JSON text (UTF-8), the measure of the output cap. */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}
