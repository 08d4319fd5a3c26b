import fc from 'fast-check';
import { gatewayAdapter, USSD_GATEWAY_ADAPTERS } from './adapters.js';
import type { ParseResult } from './gateway.js';
import { SERVICE_CODE_PATTERN } from './gateway-fields.js';

const anyInput = fc.anything({ maxDepth: 3, withBoxedValues: true, withMap: true, withNullPrototype: true, withObjectString: true, withSparseArray: true, withUnicodeString: true });

/** Bodies close to valid ones: the right field names with arbitrary values. */
const nearlyValid = fc.record(
  {
    sessionId: fc.oneof(fc.string(), fc.anything()),
    serviceCode: fc.oneof(fc.constantFrom('*384*123#', '384', '*1#'), fc.string()),
    phoneNumber: fc.oneof(fc.constant('+254712345678'), fc.string()),
    networkCode: fc.anything(),
    text: fc.oneof(fc.string({ maxLength: 1200 }), fc.anything()),
    status: fc.string(),
    Type: fc.oneof(fc.constantFrom('Initiation', 'Response', 'Release', 'Timeout'), fc.string()),
    SessionId: fc.oneof(fc.string(), fc.anything()),
    Mobile: fc.string(),
    ServiceCode: fc.string(),
    Message: fc.string(),
    Sequence: fc.oneof(fc.integer(), fc.string(), fc.double()),
    Operator: fc.anything(),
    Platform: fc.string(),
  },
  { requiredKeys: [] },
);

function wellFormed(result: ParseResult): boolean {
  if (!result.ok) return result.problems.length > 0 && result.problems.every((problem) => typeof problem.field === 'string' && problem.message !== '');
  const request = result.request;
  if (request.sessionId === '' || request.sessionId.length > 255 || /\p{Cc}/u.test(request.sessionId)) return false;
  if (request.type === 'ended') return request.reason === 'canceled' || request.reason === 'timeout';
  return SERVICE_CODE_PATTERN.test(request.serviceCode) && request.phoneNumber !== '' && request.phoneNumber.length <= 32 && Object.keys(request.payload).length <= 8;
}

describe('gateway adapters', () => {
  it('are found by name', () => {
    expect(USSD_GATEWAY_ADAPTERS.map((adapter) => adapter.name)).toEqual(['africastalking', 'hubtel']);
    expect(gatewayAdapter('hubtel')?.contentTypes).toEqual(['application/json']);
    expect(gatewayAdapter('africastalking')?.contentTypes).toEqual(['application/x-www-form-urlencoded']);
    expect(gatewayAdapter('unknown')).toBeUndefined();
    expect(gatewayAdapter('__proto__')).toBeUndefined();
  });

  it.each(USSD_GATEWAY_ADAPTERS.map((adapter) => [adapter.name, adapter] as const))('%s never throws on arbitrary values and answers well-formed', (_name, adapter) => {
    fc.assert(
      fc.property(fc.oneof(anyInput, nearlyValid), (body) => wellFormed(adapter.parse(body))),
      { numRuns: 1500 },
    );
  });
});
