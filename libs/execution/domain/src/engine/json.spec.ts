import { isTruthy, setOwn, toJson } from './json.js';
import { capValue } from './output-cap.js';

describe('json helpers', () => {
  it('setOwn never reaches a prototype', () => {
    const target: Record<string, unknown> = {};
    setOwn(target, '__proto__', { polluted: true });
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(JSON.stringify(target)).toBe('{"__proto__":{"polluted":true}}');
  });

  it.each([
    [null, false],
    [0, false],
    ['', false],
    [[], false],
    [[0, ''], false],
    [[0, 1], true],
    [{}, false],
    [{ a: 1 }, true],
    ['x', true],
    [-1, true],
  ])('isTruthy(%j) is %s, as JSONata $boolean', (value, expected) => {
    expect(isTruthy(value)).toBe(expected);
  });

  it('toJson drops what JSON cannot carry', () => {
    expect(toJson(undefined)).toBeUndefined();
    expect(toJson(() => 1)).toBeUndefined();
    expect(toJson({ a: undefined, b: NaN })).toEqual({ b: null });
  });
});

describe('capValue', () => {
  it('keeps a value within the cap and replaces a larger one with a marker no larger than the cap', () => {
    expect(capValue({ a: 1 }, 100)).toEqual({ value: { a: 1 } });
    for (const value of ['é'.repeat(2_000), { text: '\u0001'.repeat(500) }, [1, 2, 3].map(() => 'z'.repeat(300))]) {
      const capped = capValue(value, 300);
      expect(capped.truncated).toEqual({ originalBytes: Buffer.byteLength(JSON.stringify(value)), capBytes: 300 });
      expect(Buffer.byteLength(JSON.stringify(capped.value))).toBeLessThanOrEqual(300);
      expect(JSON.stringify(value).startsWith((capped.value as { preview: string }).preview)).toBe(true);
    }
  });

  it('gives the bare marker when the cap is smaller than the marker', () => {
    expect(capValue('x'.repeat(100), 10).value).toMatchObject({ $truncated: true, preview: '' });
  });
});
