import { africasTalkingAdapter as at } from './africastalking.js';
import type { ParseResult, UssdHop, UssdSessionEnded } from './gateway.js';

const hop = { sessionId: 'ATUid_1a2b', serviceCode: '*384*123#', phoneNumber: '+254712345678', networkCode: '63902', text: '' };

function parsedHop(result: ParseResult): UssdHop {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.problems)}`);
  if (result.request.type !== 'hop') throw new Error('not a hop');
  return result.request;
}

function parsedEnd(result: ParseResult): UssdSessionEnded {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.problems)}`);
  if (result.request.type !== 'ended') throw new Error('not an end');
  return result.request;
}

function fieldsOf(result: ParseResult): string[] {
  return result.ok ? [] : result.problems.map((problem) => problem.field);
}

describe("Africa's Talking adapter: hops", () => {
  it('parses the first hop: no input, the empty text as hop key', () => {
    expect(parsedHop(at.parse(hop))).toEqual({
      type: 'hop',
      sessionId: 'ATUid_1a2b',
      serviceCode: '*384*123#',
      phoneNumber: '+254712345678',
      network: '63902',
      input: null,
      hopKey: '',
      payload: { gateway: 'africastalking', sessionId: 'ATUid_1a2b', serviceCode: '*384*123#', phoneNumber: '+254712345678', networkCode: '63902', operator: null, text: '' },
    });
  });

  it('takes the newest part of the text as input and the whole text as hop key', () => {
    const later = parsedHop(at.parse({ ...hop, text: '1*2*0712345678' }));
    expect(later.input).toBe('0712345678');
    expect(later.hopKey).toBe('1*2*0712345678');
    // An empty reply after earlier ones.
    expect(parsedHop(at.parse({ ...hop, text: '1*' })).input).toBe('');
  });

  it('gives a retry of the same hop the same hop key, and different hops different keys', () => {
    expect(parsedHop(at.parse({ ...hop, text: '1*2' })).hopKey).toBe(parsedHop(at.parse({ ...hop, text: '1*2' })).hopKey);
    expect(parsedHop(at.parse({ ...hop, text: '1*2' })).hopKey).not.toBe(parsedHop(at.parse({ ...hop, text: '1*2*2' })).hopKey);
  });

  it('treats a missing or empty network code as none', () => {
    const { networkCode: _dropped, ...withoutNetwork } = hop;
    expect(parsedHop(at.parse(withoutNetwork)).network).toBeNull();
    expect(parsedHop(at.parse({ ...hop, networkCode: '' })).network).toBeNull();
  });

  it('canonicalises service codes sent without "#" or the leading "*"', () => {
    expect(parsedHop(at.parse({ ...hop, serviceCode: '*384*123' })).serviceCode).toBe('*384*123#');
    expect(parsedHop(at.parse({ ...hop, serviceCode: '384*123#' })).serviceCode).toBe('*384*123#');
    expect(parsedHop(at.parse({ ...hop, serviceCode: ' *384# ' })).serviceCode).toBe('*384#');
  });

  it('copies no unknown field into the payload, and ignores prototype-pollution keys', () => {
    const body = JSON.parse(`{"sessionId":"s1","serviceCode":"*384#","phoneNumber":"+254712345678","text":"1","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"secret":"x"}`) as unknown;
    const parsed = parsedHop(at.parse(body));
    expect(Object.keys(parsed.payload).sort()).toEqual(['gateway', 'networkCode', 'operator', 'phoneNumber', 'serviceCode', 'sessionId', 'text']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(parsed.payload)).toBe(Object.prototype);
  });

  it('accepts a null-prototype object, as form decoders produce', () => {
    const body = Object.assign(Object.create(null) as object, hop);
    expect(parsedHop(at.parse(body)).sessionId).toBe('ATUid_1a2b');
  });

  it("accepts what Fastify's form decoder (fast-querystring) produces: an object on an empty null-prototype object", async () => {
    const { parse } = (await import('fast-querystring')) as { parse: (text: string) => unknown };
    const body = parse(new URLSearchParams(hop).toString());
    expect(Object.getPrototypeOf(body)).not.toBeNull();
    expect(parsedHop(at.parse(body)).sessionId).toBe('ATUid_1a2b');
  });
});

describe("Africa's Talking adapter: refusals", () => {
  it.each([null, undefined, 'sessionId=1', 42, [], [hop], new Map(Object.entries(hop)), new (class Body {})()])('refuses the non-object body %p', (body) => {
    expect(at.parse(body)).toEqual({ ok: false, problems: [{ field: '', message: expect.any(String) }] });
  });

  it('names every missing field', () => {
    expect(fieldsOf(at.parse({})).sort()).toEqual(['phoneNumber', 'serviceCode', 'sessionId', 'text']);
  });

  it.each([
    ['sessionId', ''],
    ['sessionId', 'x'.repeat(256)],
    ['sessionId', 'abc\u0000def'],
    ['sessionId', 'abc\ndef'],
    ['sessionId', 12],
    ['sessionId', ['a', 'b']],
    ['serviceCode', '384'.repeat(3) + 'x'],
    ['serviceCode', '*384*1234567#'],
    ['serviceCode', '**384#'],
    ['serviceCode', '*384#123#'],
    ['serviceCode', '*1*2*3*4*5*6*7*8*9#'],
    ['serviceCode', ''],
    ['phoneNumber', ''],
    ['phoneNumber', '+2547'.padEnd(33, '1')],
    ['phoneNumber', '+254 CALL ME'],
    ['text', 'x'.repeat(1001)],
    ['text', '1*2\u0007'],
    ['text', '1\r\n2'],
    ['text', ['1', '2']],
    ['networkCode', 639],
  ])('refuses %s = %p', (field, value) => {
    const result = at.parse({ ...hop, [field]: value });
    expect(fieldsOf(result)).toEqual([field]);
  });

  it('accepts the limits themselves', () => {
    expect(at.parse({ ...hop, sessionId: 'x'.repeat(255), text: '1'.repeat(1000), phoneNumber: '+'.padEnd(32, '1') }).ok).toBe(true);
  });

  it('never reads through getters', () => {
    const body = { ...hop };
    Object.defineProperty(body, 'text', { enumerable: true, get: () => { throw new Error('boom'); } });
    expect(fieldsOf(at.parse(body))).toEqual(['text']);
  });

  it('never throws, even on a hostile proxy', () => {
    const proxy = new Proxy({}, { getOwnPropertyDescriptor: () => { throw new Error('boom'); } });
    expect(at.parse(proxy).ok).toBe(false);
  });
});

describe("Africa's Talking adapter: end-of-session notification", () => {
  const notice = {
    sessionId: 'ATUid_1a2b',
    serviceCode: '*384*123#',
    phoneNumber: '+254712345678',
    networkCode: '63902',
    status: 'Incomplete',
    errorMessage: '',
    durationInMillis: '21000',
    hopsCount: '2',
    input: '1',
    lastAppResponse: 'CON Enter amount',
    cost: 'KES 0.0',
    date: '2026-01-10 10:00:00',
  };

  it('recognises a notification by its status and missing text', () => {
    expect(parsedEnd(at.parse(notice))).toEqual({ type: 'ended', sessionId: 'ATUid_1a2b', reason: 'canceled', detail: 'Incomplete' });
  });

  it('keeps the error message in the detail and maps timeouts', () => {
    expect(parsedEnd(at.parse({ ...notice, status: 'Failed', errorMessage: 'Invalid response' }))).toMatchObject({ reason: 'canceled', detail: 'Failed: Invalid response' });
    expect(parsedEnd(at.parse({ ...notice, errorMessage: 'Session timed out' }))).toMatchObject({ reason: 'timeout', detail: 'Incomplete: Session timed out' });
    expect(parsedEnd(at.parse({ ...notice, status: 'Timeout' }))).toMatchObject({ reason: 'timeout' });
    expect(parsedEnd(at.parse({ ...notice, status: 'Success' }))).toMatchObject({ reason: 'canceled', detail: 'Success' });
  });

  it('needs only the session id and status', () => {
    expect(parsedEnd(at.parse({ sessionId: 's', status: 'Failed' }))).toEqual({ type: 'ended', sessionId: 's', reason: 'canceled', detail: 'Failed' });
    expect(fieldsOf(at.parse({ status: 'Failed' }))).toEqual(['sessionId']);
    expect(fieldsOf(at.parse({ sessionId: 's', status: '' }))).toEqual(['status']);
    expect(fieldsOf(at.parse({ sessionId: 's', status: 'Failed', errorMessage: 'x'.repeat(501) }))).toEqual(['errorMessage']);
  });

  it('treats a body with both status and text as a hop', () => {
    expect(parsedHop(at.parse({ ...hop, status: 'Success' })).type).toBe('hop');
  });
});

describe("Africa's Talking adapter: replies", () => {
  it('renders CON and END as UTF-8 plain text', () => {
    expect(at.render({ kind: 'continue', text: '1. Balance\n2. Airtime' }, null)).toEqual({ contentType: 'text/plain; charset=utf-8', body: 'CON 1. Balance\n2. Airtime' });
    expect(at.render({ kind: 'end', text: 'Bye' }, null).body).toBe('END Bye');
  });

  it('sends GSM-7 only', () => {
    expect(at.render({ kind: 'end', text: '“Asante” — karibu…' }, null).body).toBe('END "Asante" - karibu...');
  });

  it('acknowledges a notification', () => {
    expect(at.renderEndedAck({ type: 'ended', sessionId: 's', reason: 'canceled', detail: 'Failed' })).toEqual({ contentType: 'text/plain; charset=utf-8', body: 'OK' });
  });
});
