import { latestInput, renderAfricasTalking } from './ussd-reply.js';

describe("Africa's Talking wire format", () => {
  it('prefixes CON to continue and END to finish', () => {
    expect(renderAfricasTalking({ kind: 'continue', text: '1. Balance\n2. Airtime' })).toBe('CON 1. Balance\n2. Airtime');
    expect(renderAfricasTalking({ kind: 'end', text: 'Bye' })).toBe('END Bye');
  });

  it('takes the newest input from the accumulated text', () => {
    expect(latestInput('')).toBeUndefined();
    expect(latestInput('1')).toBe('1');
    expect(latestInput('1*2*0712345678')).toBe('0712345678');
    expect(latestInput('1*')).toBe('');
  });
});
