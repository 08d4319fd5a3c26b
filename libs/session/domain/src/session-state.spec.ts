import { parseSessionState, sessionKey, SessionStateError } from './session-state.js';

const seedExample = {
  sessionId: 'abc123',
  type: 'ussd',
  msisdn: '+254712345678',
  data: { step: 1, selection: '1' },
  createdAt: '2024-01-01T00:00:00.000Z',
  lastActivityAt: '2024-01-01T00:01:00.000Z',
  isActive: true,
};

describe('session state', () => {
  it('keys sessions as the seed says', () => {
    expect(sessionKey('abc123')).toBe('session:abc123');
  });

  it("parses the seed's example value", () => {
    expect(parseSessionState(JSON.stringify(seedExample))).toEqual(seedExample);
  });

  it.each([
    ['not json', '{', 'not JSON'],
    ['an array', '[]', 'not an object'],
    ['an extra field', JSON.stringify({ ...seedExample, step: 2 }), 'unexpected field(s): step'],
    ['a missing msisdn', JSON.stringify({ ...seedExample, msisdn: undefined }), 'msisdn must be a non-empty string'],
    ['a bad timestamp', JSON.stringify({ ...seedExample, createdAt: 'yesterday' }), 'createdAt must be an ISO-8601 timestamp'],
    ['data as a list', JSON.stringify({ ...seedExample, data: [] }), 'data must be an object'],
    ['isActive as text', JSON.stringify({ ...seedExample, isActive: 'yes' }), 'isActive must be a boolean'],
  ])('refuses %s', (_name, json, reason) => {
    expect(() => parseSessionState(json)).toThrow(new SessionStateError(reason));
  });
});
