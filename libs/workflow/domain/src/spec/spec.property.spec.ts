import fc from 'fast-check';
import { MAX_SPEC_ERRORS } from './spec-errors.js';
import { validSpecArbitrary } from './spec.test-helpers.js';
import type { SpecValidationResult } from './spec.types.js';
import { validateWorkflowSpec } from './spec.validator.js';

const anyInput = fc.anything({
  maxDepth: 4,
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withObjectString: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withUnicodeString: true,
});

/** Errors are bounded and each pointer is an RFC 6901 pointer ('' or '/...'). */
function wellFormed(result: SpecValidationResult): boolean {
  if (result.valid) return result.errors.length === 0;
  return (
    result.errors.length > 0 &&
    result.errors.length <= MAX_SPEC_ERRORS &&
    result.errors.every((error) => (error.pointer === '' || error.pointer.startsWith('/')) && error.code !== '' && error.message !== '')
  );
}

/** Where a pointer lands: the value, or a missing field of an existing object (a `required` error). */
function resolves(document: unknown, pointer: string): boolean {
  if (pointer === '') return true;
  const tokens = pointer.slice(1).split('/').map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
  let current: unknown = document;
  for (const [index, token] of tokens.entries()) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, token)) {
      return index === tokens.length - 1 && typeof current === 'object' && current !== null;
    }
    current = (current as Record<string, unknown>)[token];
  }
  return true;
}

/** Replaces the value at a random path of `document` with `replacement`. */
function mutate(document: unknown, choices: readonly number[], replacement: unknown): unknown {
  const copy = structuredClone(document) as Record<string, unknown>;
  let parent: Record<string, unknown> = copy;
  let key: string | undefined;
  for (const choice of choices) {
    const container = key === undefined ? parent : parent[key];
    if (typeof container !== 'object' || container === null) break;
    const keys = Object.keys(container);
    if (keys.length === 0) break;
    parent = container as Record<string, unknown>;
    key = keys[choice % keys.length];
  }
  if (key === undefined) return replacement;
  parent[key] = replacement;
  return copy;
}

describe('validateWorkflowSpec properties', () => {
  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => wellFormed(validateWorkflowSpec(input))),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary JavaScript values', () => {
    fc.assert(
      fc.property(anyInput, (input) => wellFormed(validateWorkflowSpec(input))),
      { numRuns: 2000 },
    );
  });

  it('accepts every spec the generator of valid specs produces, returning an equal copy', () => {
    fc.assert(
      fc.property(validSpecArbitrary(), (spec) => {
        const result = validateWorkflowSpec(spec);
        if (!result.valid) throw new Error(JSON.stringify(result.errors.slice(0, 3)));
        expect(result.spec).toEqual(spec);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on a valid spec with one value replaced, and every pointer lands in the input', () => {
    fc.assert(
      fc.property(
        validSpecArbitrary(),
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('', 'nowhere', '{{', '1 +', -1, 0, '*')),
        (spec, path, replacement) => {
          const input = mutate(spec, path, replacement);
          const result = validateWorkflowSpec(input);
          expect(wellFormed(result)).toBe(true);
          for (const error of result.errors) {
            if (error.code !== 'too-many-errors' && !resolves(input, error.pointer)) throw new Error(`${error.pointer} is not in the input`);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses a valid spec with any one node removed: something pointed at it', () => {
    fc.assert(
      fc.property(validSpecArbitrary(), fc.nat(), (spec, choice) => {
        const nodes = spec.nodes.filter((_, index) => index !== choice % spec.nodes.length);
        expect(validateWorkflowSpec({ ...spec, nodes }).valid).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
