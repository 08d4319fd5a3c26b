import { createHmac } from 'node:crypto';
import { USSD_GATEWAY_NAMES } from '@ussd/platform-config';
import { USSD_GATEWAY_ADAPTERS } from '@ussd/ussd-domain';
import { type GatewayCall, GatewayRules } from './gateway-auth.js';

const TOKEN = 'k'.repeat(32);
const SECRET = 's'.repeat(32);
const NOW = 1_800_000_000_000;
const none = { auth: undefined, tokens: [], hmacSecrets: [], allowedCidrs: [] } as const;

function call(overrides: Partial<GatewayCall> = {}): GatewayCall {
  return { ip: '196.201.214.7', tokenHeader: undefined, pathToken: undefined, signature: undefined, timestamp: undefined, rawBody: Buffer.from('a=1'), ...overrides };
}

describe('GatewayRules', () => {
  it('every adapter has configuration variables (USSD_GATEWAY_NAMES lists exactly the adapters)', () => {
    expect([...USSD_GATEWAY_NAMES].sort()).toEqual(USSD_GATEWAY_ADAPTERS.map((adapter) => adapter.name).sort());
  });

  it('without credentials: open outside production or with AUTH=none, closed in production or with AUTH=required', () => {
    expect(new GatewayRules(none, false).check(call(), NOW)).toEqual({ ok: true, signature: undefined });
    expect(new GatewayRules(none, true).check(call(), NOW)).toEqual({ ok: false, reason: 'not_configured', status: 403 });
    expect(new GatewayRules({ ...none, auth: 'none' }, true).check(call(), NOW).ok).toBe(true);
    expect(new GatewayRules({ ...none, auth: 'required' }, false).check(call(), NOW)).toMatchObject({ ok: false, reason: 'not_configured' });
  });

  it('matches IPv4, IPv4-mapped IPv6 and IPv6 clients against the CIDRs, and refuses what is not an address', () => {
    const rules = new GatewayRules({ ...none, allowedCidrs: ['196.201.214.0/24', '2001:db8::/32', '10.1.2.3'] }, true);
    for (const ip of ['196.201.214.7', '::ffff:196.201.214.7', '2001:db8::1', '10.1.2.3']) expect([ip, rules.check(call({ ip }), NOW).ok]).toEqual([ip, true]);
    for (const ip of ['196.201.215.1', '::ffff:10.1.2.4', '2001:db9::1', '', 'localhost', '196.201.214.7, 1.1.1.1']) {
      expect([ip, rules.check(call({ ip }), NOW)]).toEqual([ip, { ok: false, reason: 'source_not_allowed', status: 403 }]);
    }
  });

  it('checks the signature over "<timestamp>.<body>" within 300 seconds either way', () => {
    const rules = new GatewayRules({ ...none, hmacSecrets: ['other-secret-0123456789', SECRET] }, true);
    const body = Buffer.from('{"Type":"Initiation"}');
    const sign = (timestamp: number, secret = SECRET, signed = body) => `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(signed).digest('hex')}`;
    const at = (seconds: number) => call({ rawBody: body, timestamp: String(seconds), signature: sign(seconds) });
    const now = NOW / 1000;
    expect(rules.check(at(now), NOW)).toEqual({ ok: true, signature: sign(now).slice(7) });
    expect(rules.check(at(now - 300), NOW).ok).toBe(true);
    expect(rules.check(at(now + 300), NOW).ok).toBe(true);
    expect(rules.check(at(now - 301), NOW)).toMatchObject({ reason: 'stale_signature', status: 401 });
    expect(rules.check(call({ rawBody: body, timestamp: String(now), signature: sign(now).toUpperCase().replace('SHA256=', 'sha256=') }), NOW).ok).toBe(true);
    for (const bad of [sign(now, 'x'.repeat(32)), sign(now, SECRET, Buffer.from('{}')), 'sha256=', `sha1=${'0'.repeat(40)}`, sign(now).slice(7)]) {
      expect([bad, rules.check(call({ rawBody: body, timestamp: String(now), signature: bad }), NOW)]).toEqual([bad, { ok: false, reason: 'bad_signature', status: 401 }]);
    }
    expect(rules.check(call({ rawBody: body, timestamp: `${now}.5`, signature: sign(now) }), NOW)).toMatchObject({ reason: 'bad_signature' });
    expect(rules.check(call({ rawBody: body, signature: sign(now) }), NOW)).toMatchObject({ reason: 'missing_credential' });
  });

  it('needs every configured credential: token and address', () => {
    const rules = new GatewayRules({ ...none, tokens: [TOKEN], allowedCidrs: ['196.201.214.0/24'] }, true);
    expect(rules.check(call({ tokenHeader: TOKEN }), NOW).ok).toBe(true);
    expect(rules.check(call({ tokenHeader: TOKEN, ip: '203.0.113.1' }), NOW)).toMatchObject({ reason: 'source_not_allowed' });
    expect(rules.check(call(), NOW)).toMatchObject({ reason: 'missing_credential', status: 401 });
    expect(rules.check(call({ tokenHeader: '' }), NOW)).toMatchObject({ reason: 'wrong_token' });
  });
});
