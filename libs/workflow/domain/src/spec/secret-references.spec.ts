import { secretNames, secretReferences } from './secret-references.js';

describe('secretReferences', () => {
  it('finds secrets.NAME in expressions and template placeholders, with pointers', () => {
    const spec = {
      nodes: [
        { id: 'pay', type: 'http.request', url: 'https://api.example/pay?k={{ secrets.API_KEY }}', headers: { authorization: 'Bearer {{secrets.PAYMENTS_TOKEN}}', 'x/y': '{{ secrets . SPACED }}' } },
        { id: 't', type: 'transform', set: { token: '$uppercase(secrets.OTHER) & secrets.API_KEY' } },
      ],
    };
    expect(secretReferences(spec)).toEqual([
      { name: 'API_KEY', pointer: '/nodes/0/url' },
      { name: 'PAYMENTS_TOKEN', pointer: '/nodes/0/headers/authorization' },
      { name: 'SPACED', pointer: '/nodes/0/headers/x~1y' },
      { name: 'OTHER', pointer: '/nodes/1/set/token' },
      { name: 'API_KEY', pointer: '/nodes/1/set/token' },
    ]);
    expect(secretNames(spec)).toEqual(['API_KEY', 'OTHER', 'PAYMENTS_TOKEN', 'SPACED']);
  });

  it('ignores plain template text, other paths ending in secrets, and keys', () => {
    const spec = {
      secrets: 'x',
      nodes: [
        { id: 'm', type: 'ussd.end', text: 'Our secrets.Policy applies {{ vars.name }}' },
        { id: 'e', type: 'transform', set: { a: 'vars.secrets.NOT_ONE', b: '$secrets.NOR_THIS', c: 'mysecrets.NO' } },
      ],
    };
    expect(secretReferences(spec)).toEqual([]);
  });

  it('reads no deeper than 64 levels and accepts anything that is not an object', () => {
    let deep: unknown = 'secrets.DEEP';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(secretReferences(deep)).toEqual([]);
    expect(secretReferences(null)).toEqual([]);
    expect(secretReferences('secrets.TOP')).toEqual([{ name: 'TOP', pointer: '' }]);
  });
});
