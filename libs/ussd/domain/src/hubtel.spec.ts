import type { ParseResult, UssdHop } from './gateway.js';
import { hubtelAdapter as hubtel } from './hubtel.js';

const initiation = {
  Type: 'Initiation',
  Mobile: '233200585542',
  SessionId: '3c796dac28174f739de4262d08409c51',
  ServiceCode: '713',
  Message: '*713#',
  Operator: 'vodafone',
  Sequence: 1,
  ClientState: '',
  Platform: 'USSD',
};
const response = { ...initiation, Type: 'Response', Message: '2', Sequence: 2, ClientState: '100' };

function parsedHop(result: ParseResult): UssdHop {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.problems)}`);
  if (result.request.type !== 'hop') throw new Error('not a hop');
  return result.request;
}

function fieldsOf(result: ParseResult): string[] {
  return result.ok ? [] : result.problems.map((problem) => problem.field);
}

describe('Hubtel adapter: hops', () => {
  it('parses an Initiation as the first hop, canonicalising the service code', () => {
    expect(parsedHop(hubtel.parse(initiation))).toEqual({
      type: 'hop',
      sessionId: '3c796dac28174f739de4262d08409c51',
      serviceCode: '*713#',
      phoneNumber: '233200585542',
      network: 'vodafone',
      input: null,
      hopKey: '1',
      payload: { gateway: 'hubtel', sessionId: '3c796dac28174f739de4262d08409c51', serviceCode: '*713#', phoneNumber: '233200585542', networkCode: null, operator: 'vodafone', text: '*713#' },
    });
  });

  it('parses a Response: the message is the input, the sequence the hop key', () => {
    const hop = parsedHop(hubtel.parse(response));
    expect(hop.input).toBe('2');
    expect(hop.hopKey).toBe('2');
    expect(parsedHop(hubtel.parse({ ...response, Message: '' })).input).toBe('');
  });

  it('accepts any case of Type, a sequence sent as a decimal string, and codes with groups', () => {
    expect(parsedHop(hubtel.parse({ ...response, Type: 'response', Sequence: '7' })).hopKey).toBe('7');
    expect(parsedHop(hubtel.parse({ ...initiation, Type: 'INITIATION', ServiceCode: '711*2' })).serviceCode).toBe('*711*2#');
    expect(parsedHop(hubtel.parse({ ...initiation, ServiceCode: '*713#' })).serviceCode).toBe('*713#');
  });

  it('makes a missing Sequence hop 1 on an Initiation, and refuses it on a Response', () => {
    const { Sequence: _a, ...initiationWithout } = initiation;
    const { Sequence: _b, ...responseWithout } = response;
    expect(parsedHop(hubtel.parse(initiationWithout)).hopKey).toBe('1');
    expect(hubtel.parse(responseWithout)).toEqual({ ok: false, problems: [{ field: 'Sequence', message: expect.stringContaining('required') }] });
  });

  it('treats Operator and Platform as optional', () => {
    const { Operator: _o, Platform: _p, ...bare } = response;
    expect(parsedHop(hubtel.parse(bare)).network).toBeNull();
  });

  it('copies no unknown field (ClientState included) into the payload', () => {
    const body = JSON.parse(JSON.stringify({ ...response, Extra: 'x' }).replace('{', '{"__proto__":{"polluted":1},')) as unknown;
    const hop = parsedHop(hubtel.parse(body));
    expect(Object.keys(hop.payload).sort()).toEqual(['gateway', 'networkCode', 'operator', 'phoneNumber', 'serviceCode', 'sessionId', 'text']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('Hubtel adapter: session ends', () => {
  it('maps Release to canceled and Timeout to timeout', () => {
    expect(hubtel.parse({ ...response, Type: 'Release' })).toEqual({ ok: true, request: { type: 'ended', sessionId: response.SessionId, reason: 'canceled', detail: 'Hubtel Release' } });
    expect(hubtel.parse({ SessionId: 's', Type: 'timeout' })).toEqual({ ok: true, request: { type: 'ended', sessionId: 's', reason: 'timeout', detail: 'Hubtel timeout' } });
  });

  it('needs a session id to end a session', () => {
    expect(fieldsOf(hubtel.parse({ Type: 'Release' }))).toEqual(['SessionId']);
  });
});

describe('Hubtel adapter: refusals', () => {
  it.each([null, 'Type=Initiation', [initiation], 3.5, true])('refuses the non-object body %p', (body) => {
    expect(fieldsOf(hubtel.parse(body))).toEqual(['']);
  });

  it('names every missing field of a Response', () => {
    expect(fieldsOf(hubtel.parse({ Type: 'Response' })).sort()).toEqual(['Message', 'Mobile', 'Sequence', 'ServiceCode', 'SessionId']);
    expect(fieldsOf(hubtel.parse({})).sort()).toEqual(['Message', 'Mobile', 'Sequence', 'ServiceCode', 'SessionId', 'Type']);
  });

  it.each([
    ['Type', 'AddToCart'],
    ['Type', ''],
    ['Type', 1],
    ['SessionId', ''],
    ['SessionId', 's'.repeat(256)],
    ['SessionId', 'a\u007fb'],
    ['Mobile', ''],
    ['Mobile', '2332005855421234567890123456789012'],
    ['Mobile', 233200585542],
    ['ServiceCode', 'b230733cd56b4a0fad820e39f66bc27c'],
    ['ServiceCode', '713#1'],
    ['Message', 'm'.repeat(1001)],
    ['Message', 'a\u0000'],
    ['Message', null],
    ['Sequence', 0],
    ['Sequence', -1],
    ['Sequence', 1.5],
    ['Sequence', '01'],
    ['Sequence', '1e3'],
    ['Sequence', 'two'],
    ['Sequence', Number.MAX_SAFE_INTEGER + 1],
    ['Sequence', null],
    ['Platform', 'Hubtel-App'],
    ['Operator', { name: 'mtn' }],
  ])('refuses %s = %p', (field, value) => {
    expect(fieldsOf(hubtel.parse({ ...response, [field]: value }))).toEqual([field]);
  });
});

describe('Hubtel adapter: replies', () => {
  const request = parsedHop(hubtel.parse(response));

  it('renders a continuing screen as a response asking for input', () => {
    const rendered = hubtel.render({ kind: 'continue', text: 'Welcome\n1. Buy airtime\n2. Balance' }, request);
    expect(rendered.contentType).toBe('application/json');
    expect(JSON.parse(rendered.body)).toEqual({
      SessionId: response.SessionId,
      Type: 'response',
      Message: 'Welcome\n1. Buy airtime\n2. Balance',
      Label: 'Welcome',
      DataType: 'input',
      FieldType: 'text',
      ClientState: '',
    });
  });

  it('renders a final screen as a release, in GSM-7, with a bounded label', () => {
    const long = `Thank you — ${'very '.repeat(20)}much`;
    const body = JSON.parse(hubtel.render({ kind: 'end', text: long }, request).body) as Record<string, string>;
    expect(body).toMatchObject({ Type: 'release', DataType: 'display', FieldType: 'text' });
    expect(body['Message']).toBe(long.replace('—', '-'));
    expect(body['Label']!.length).toBeLessThanOrEqual(60);
  });

  it('renders a reply to a refused request without a session id', () => {
    expect(JSON.parse(hubtel.render({ kind: 'end', text: 'Sorry' }, null).body)).toMatchObject({ SessionId: '', Type: 'release' });
  });

  it('acknowledges a Release with an empty release', () => {
    const ack = hubtel.renderEndedAck({ type: 'ended', sessionId: 's1', reason: 'canceled', detail: 'Hubtel Release' });
    expect(ack.contentType).toBe('application/json');
    expect(JSON.parse(ack.body)).toEqual({ SessionId: 's1', Type: 'release', Message: '', Label: '', DataType: 'display', FieldType: 'text', ClientState: '' });
  });
});
