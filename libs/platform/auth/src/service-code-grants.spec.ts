import { decodeAuditCursor, encodeAuditCursor, AuditCursorError } from './audit-log.js';
import { grantCovers, isGrantPattern } from './service-code-grants.js';

describe('service-code grant patterns', () => {
  it.each(['*', '*384*', '*384*12*', '*1*2*3*4*5*6*7*', '*384#', '*384*12#', '*123456*1*2*3*4*5*6*7#'])('accepts %s', (pattern) => {
    expect(isGrantPattern(pattern)).toBe(true);
  });

  it.each(['', '#', '**', '*384', '384*', '384#', '*38a*', '* 384*', '*384*#', '*1#*', '*1234567*', '*1*2*3*4*5*6*7*8*', "*1#'; --", '*384*12#\n', 12, null, undefined])('refuses %j', (pattern) => {
    expect(isGrantPattern(pattern)).toBe(false);
  });

  it.each([
    ['*384*12#', '*384*12#', true],
    ['*384*12#', '*384*123#', false],
    ['*384*12#', '*384*1#', false],
    ['*384*', '*384*12#', true],
    ['*384*', '*384*1*2#', true],
    ['*384*', '*384#', false],
    ['*384*', '*3841*2#', false],
    ['*38*', '*384*1#', false],
    ['*', '*1#', true],
  ] as const)('%s covers %s: %s', (pattern, code, covered) => {
    expect(grantCovers(pattern, code)).toBe(covered);
  });
});

describe('audit cursors', () => {
  const filter = { team: 'loans', action: 'workflow.publish' };

  it('round-trips an id for the filter it was made with', () => {
    expect(decodeAuditCursor(encodeAuditCursor('12345', filter), filter)).toBe('12345');
  });

  it('refuses a cursor that was changed, made for other filters, or is not one', () => {
    const cursor = encodeAuditCursor('12345', filter);
    const text = Buffer.from(cursor, 'base64url').toString('utf8');
    const changed = Buffer.from(text.replace('12345', '12346'), 'utf8').toString('base64url');
    for (const [bad, used] of [
      [changed, filter],
      [cursor, { team: 'airtime', action: 'workflow.publish' }],
      [cursor, {}],
      ['', filter],
      ['!!!', filter],
      [Buffer.from('0.AAAAAAAAAAAAAAAA').toString('base64url'), filter],
      [Buffer.from(`${'9'.repeat(30)}.AAAAAAAAAAAAAAAA`).toString('base64url'), filter],
    ] as const) {
      expect(() => decodeAuditCursor(bad, used)).toThrow(AuditCursorError);
    }
  });
});
