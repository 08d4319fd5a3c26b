import { escapePointerToken } from './json-pointer.js';
import type { SpecErrorList } from './spec-errors.js';
import type { JsonValue, SpecError } from './spec.types.js';

/** Far above any real spec, low enough that hostile input costs milliseconds. */
export const JSON_INPUT_LIMITS = { maxDepth: 32, maxValues: 100_000, maxStringLength: 10_000, maxKeyLength: 256 } as const;

/** Own data keys that turn into prototype writes in `target[key] = value` and Object.assign. */
const FORBIDDEN_KEYS = new Set(['__proto__']);

/**
 * Copies `input` into fresh plain JSON, or says where it is not JSON. Everything downstream
 * (the schema, graph checks, the stored spec) then sees data that cannot change under it,
 * run getters, loop, or carry a prototype. Returns undefined when it reported errors.
 */
export function copyJsonInput(input: unknown, errors: SpecErrorList): JsonValue | undefined {
  const ancestors = new Set<object>();
  let values = 0;
  let stopped = false;
  let failed = false;

  const fail = (path: string, code: SpecError['code'], message: string): undefined => {
    failed = true;
    // One error past the cap marks the list as truncated; looking further is wasted work.
    if (errors.isFull) stopped = true;
    errors.add({ pointer: path, code, message });
    return undefined;
  };

  const copy = (value: unknown, path: string, depth: number): JsonValue | undefined => {
    if (stopped) return undefined;
    values += 1;
    if (values > JSON_INPUT_LIMITS.maxValues) {
      stopped = true;
      return fail(path, 'limit', `more than ${JSON_INPUT_LIMITS.maxValues} values`);
    }
    switch (typeof value) {
      case 'string':
        return value.length > JSON_INPUT_LIMITS.maxStringLength
          ? fail(path, 'limit', `string longer than ${JSON_INPUT_LIMITS.maxStringLength} characters`)
          : value;
      case 'boolean':
        return value;
      case 'number':
        return Number.isFinite(value) ? value : fail(path, 'not-json', `${String(value)} is not a JSON number`);
      case 'object':
        if (value === null) return null;
        if (depth >= JSON_INPUT_LIMITS.maxDepth) return fail(path, 'limit', `nested deeper than ${JSON_INPUT_LIMITS.maxDepth} levels`);
        if (ancestors.has(value)) return fail(path, 'not-json', 'the value contains itself');
        ancestors.add(value);
        try {
          return Array.isArray(value) ? copyArray(value, path, depth) : copyObject(value, path, depth);
        } catch (error) {
          // A proxy can throw from any operation; the caller gets an error, never an exception.
          return fail(path, 'not-json', `reading the value failed${describeError(error)}`);
        } finally {
          ancestors.delete(value);
        }
      case 'undefined':
      case 'bigint':
      case 'symbol':
      case 'function':
        return fail(path, 'not-json', `a ${typeof value} is not JSON`);
    }
  };

  const copyArray = (array: readonly unknown[], path: string, depth: number): JsonValue[] | undefined => {
    const length = array.length;
    if (length > JSON_INPUT_LIMITS.maxValues) {
      stopped = true;
      return fail(path, 'limit', `array longer than ${JSON_INPUT_LIMITS.maxValues} items`);
    }
    const result: JsonValue[] = [];
    for (let index = 0; index < length && !stopped; index += 1) {
      const itemPath = `${path}/${index}`;
      let item: unknown;
      try {
        if (!(index in array)) {
          fail(itemPath, 'not-json', 'a hole in an array is not JSON');
          continue;
        }
        item = array[index];
      } catch (error) {
        fail(itemPath, 'not-json', `reading the value failed${describeError(error)}`);
        continue;
      }
      const copied = copy(item, itemPath, depth + 1);
      if (copied !== undefined) result.push(copied);
    }
    return result;
  };

  const copyObject = (object: object, path: string, depth: number): Record<string, JsonValue> | undefined => {
    const prototype: unknown = Object.getPrototypeOf(object);
    // Plain objects from any realm: their prototype is null or a root Object.prototype.
    if (prototype !== null && Object.getPrototypeOf(prototype) !== null) {
      return fail(path, 'not-json', `a ${describeObject(object)} is not a plain JSON object`);
    }
    const result: Record<string, JsonValue> = {};
    for (const key of Object.keys(object)) {
      if (stopped) break;
      const keyPath = `${path}/${escapePointerToken(key.slice(0, JSON_INPUT_LIMITS.maxKeyLength))}`;
      if (FORBIDDEN_KEYS.has(key)) {
        fail(keyPath, 'forbidden-key', `the key '${key}' is not allowed`);
        continue;
      }
      if (key.length > JSON_INPUT_LIMITS.maxKeyLength) {
        fail(keyPath, 'limit', `key longer than ${JSON_INPUT_LIMITS.maxKeyLength} characters`);
        continue;
      }
      let item: unknown;
      try {
        item = (object as Record<string, unknown>)[key];
      } catch (error) {
        fail(keyPath, 'not-json', `reading the value failed${describeError(error)}`);
        continue;
      }
      const copied = copy(item, keyPath, depth + 1);
      if (copied !== undefined) result[key] = copied;
    }
    return result;
  };

  const value = copy(input, '', 0);
  return failed ? undefined : value;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `: ${String(error.message).slice(0, 200)}` : '';
}

function describeObject(object: object): string {
  const tag = Object.prototype.toString.call(object).slice(8, -1);
  return tag === 'Object' ? 'class instance' : tag;
}
