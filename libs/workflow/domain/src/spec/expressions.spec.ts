import { compileExpression, EXPRESSION_MAX_LENGTH, parseTemplate } from './expressions.js';

describe('compileExpression', () => {
  it('parses JSONata and returns an expression the engine can evaluate later', async () => {
    const compiled = compileExpression('vars.amount * 2 + $count(nodes.lookup.body.items)');
    expect(compiled.ok).toBe(true);
    if (!compiled.ok) return;
    const context = { vars: { amount: 5 }, nodes: { lookup: { body: { items: [1, 2] } } } };
    await expect(compiled.expression.evaluate(context)).resolves.toBe(12);
  });

  it.each([
    ['a syntax error', '1 +', /Unexpected end of expression/],
    ['an empty source', '   ', /empty expression/],
    ['an unbalanced bracket', 'vars.items[0', /Expected "]"/],
    ['$eval, which would hide code from the checks', '$eval("1 + 1")', /\$eval is not allowed/],
    ['$eval passed around as a value', '($f := $eval; $f("1"))', /\$eval is not allowed/],
  ])('refuses %s', (_name, source, message) => {
    const compiled = compileExpression(source);
    expect(compiled.ok).toBe(false);
    if (!compiled.ok) expect(compiled.message).toMatch(message);
  });

  it('refuses sources over the length limit', () => {
    const compiled = compileExpression(`1${' + 1'.repeat(EXPRESSION_MAX_LENGTH)}`);
    expect(compiled).toMatchObject({ ok: false, message: expect.stringMatching(/longer than/) });
  });

  it('reports a position for syntax errors', () => {
    expect(compileExpression('vars.a +* 2')).toMatchObject({ ok: false, position: expect.any(Number) });
  });

  it('cannot reach the host through prototypes', async () => {
    const compiled = compileExpression('vars.constructor.constructor("return process")()');
    expect(compiled.ok).toBe(true);
    if (compiled.ok) await expect(compiled.expression.evaluate({ vars: {} })).resolves.toBeUndefined();
  });

  it('bounds evaluation work', async () => {
    const compiled = compileExpression('($f := function($n) { $n = 0 ? 0 : $f($n - 1) + $f($n - 1) }; $f(40))');
    expect(compiled.ok).toBe(true);
    if (compiled.ok) await expect(compiled.expression.evaluate({})).rejects.toMatchObject({ code: 'expression.limit', limit: expect.stringMatching(/^(work|time|depth)$/) });
  });

  it.each([
    ['a backreference', "$match('aa', /(a)\\1/)", /backreference/],
    ['a lookahead', "$match('ab', /a(?=b)/)", /lookahead/],
    ['a repetition too large to compile', "$contains('a', /((a{1000}){1000}){1000}/)", /too large/],
  ])('refuses a regular expression literal with %s (problem "regex")', (_name, source, message) => {
    expect(compileExpression(source)).toMatchObject({ ok: false, problem: 'regex', message: expect.stringMatching(message), position: expect.any(Number) });
  });

  it('accepts a pattern that backtracks catastrophically in JavaScript: RE2 runs it in linear time', async () => {
    const compiled = compileExpression('$contains(vars.reply, /^(a+)+$/)');
    expect(compiled.ok).toBe(true);
    if (!compiled.ok) return;
    const started = performance.now();
    await expect(compiled.expression.evaluate({ vars: { reply: `${'a'.repeat(5_000)}!` } })).resolves.toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('parseTemplate', () => {
  it('splits text and placeholders', () => {
    const parsed = parseTemplate('Hi {{ vars.name }}, you owe {{ vars.amount * 2 }}.');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.parts.map((part) => (part.kind === 'text' ? part.text : `<${part.source.trim()}>`))).toEqual([
      'Hi ',
      '<vars.name>',
      ', you owe ',
      '<vars.amount * 2>',
      '.',
    ]);
  });

  it('accepts plain text, an empty template, stray closing braces and object constructors', () => {
    for (const source of ['Welcome', '', 'a }} b', "{{ { 'a': 1 } }}", "{{ '{{' }} literal"]) {
      expect(parseTemplate(source)).toMatchObject({ ok: true });
    }
  });

  it.each([
    ['an unclosed placeholder', 'Hi {{ vars.name', /unclosed/, 3],
    ['an empty placeholder', 'Hi {{ }}', /empty expression/, 3],
    ['a bad expression', 'Hi {{ vars. }}', /placeholder/, undefined],
    ['$eval', 'Hi {{ $eval("1") }}', /\$eval/, undefined],
  ])('refuses %s', (_name, source, message, position) => {
    const parsed = parseTemplate(source);
    expect(parsed).toMatchObject({ ok: false, message: expect.stringMatching(message) });
    if (position !== undefined) expect(parsed).toMatchObject({ position });
  });
});
