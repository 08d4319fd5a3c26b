import type { Identity, Role } from './identity.js';
import { maskPhoneNumber, maskPhoneNumbersIn, masksPhoneNumbers, phoneNumbersIn } from './phone-masking.js';

const caller = (role: Role): Identity => ({ kind: 'api-key', id: 'k', name: 'n', team: 'loans', role });

describe('phone numbers in responses to viewers', () => {
  it('masks the middle with four stars, whatever the length', () => {
    expect(maskPhoneNumber('+254712345678')).toBe('+2547****678');
    expect(maskPhoneNumber('254712345678')).toBe('25471****678');
    expect(maskPhoneNumber('+233241234567')).toBe('+2332****567');
    expect(maskPhoneNumber('1234567')).toBe('****67');
  });

  it('masks for viewers only, and only while the option is on', () => {
    expect(masksPhoneNumbers(caller('viewer'), true)).toBe(true);
    for (const role of ['editor', 'publisher', 'admin'] as const) expect(masksPhoneNumbers(caller(role), true)).toBe(false);
    expect(masksPhoneNumbers(caller('viewer'), false)).toBe(false);
  });

  it('finds the numbers in phone fields, with and without +', () => {
    expect(phoneNumbersIn({ msisdn: '+254712345678', phoneNumber: '0712345678', other: '+254700000000', nested: { Mobile: '233241234567' } }).sort()).toEqual(
      ['+254712345678', '254712345678', '0712345678', '233241234567'].sort(),
    );
    expect(phoneNumbersIn({ msisdn: '12' })).toEqual([]);
    expect(phoneNumbersIn('+254712345678')).toEqual([]);
  });

  it('masks phone fields and every occurrence of the numbers in strings, deep, without changing the original', () => {
    const execution = {
      triggerPayload: { gateway: 'africastalking', msisdn: '+254712345678', phoneNumber: '+254712345678', text: '1*2' },
      nodes: [{ output: { body: { msisdn: '254712345678', note: 'paid by 254712345678 and +254712345678' } } }, { output: 'Your number is +254712345678.' }],
      count: 3,
      at: null,
    };
    const numbers = phoneNumbersIn(execution.triggerPayload);
    const masked = maskPhoneNumbersIn(execution, numbers);
    expect(masked).toEqual({
      triggerPayload: { gateway: 'africastalking', msisdn: '+2547****678', phoneNumber: '+2547****678', text: '1*2' },
      nodes: [{ output: { body: { msisdn: '25471****678', note: 'paid by 25471****678 and +2547****678' } } }, { output: 'Your number is +2547****678.' }],
      count: 3,
      at: null,
    });
    expect(JSON.stringify(masked)).not.toMatch(/712345/);
    expect(execution.triggerPayload.msisdn).toBe('+254712345678');
  });

  it('leaves values without the numbers alone, and shows nothing past a hostile depth', () => {
    expect(maskPhoneNumbersIn({ a: 'hello', b: [1, true, null] }, ['+254712345678'])).toEqual({ a: 'hello', b: [1, true, null] });
    let deep: unknown = '+254712345678';
    for (let i = 0; i < 100; i += 1) deep = { d: deep };
    expect(JSON.stringify(maskPhoneNumbersIn(deep, ['+254712345678']))).not.toContain('712345');
  });
});
