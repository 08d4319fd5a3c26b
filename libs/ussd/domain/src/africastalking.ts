import type { ParseResult, RenderedReply, UssdGatewayAdapter, UssdRequest, UssdSessionEnded } from './gateway.js';
import { FieldReader, MAX_DETAIL_LENGTH, MAX_LABEL_LENGTH, MAX_TEXT_LENGTH, NOT_AN_OBJECT, plainFields } from './gateway-fields.js';
import { toGsm } from './gsm7.js';
import { latestInput, renderAfricasTalking, type UssdReply } from './ussd-reply.js';

const TEXT_PLAIN = 'text/plain; charset=utf-8';

/** A status or error message that says the network timed the session out. */
const TIMEOUT_WORDS = /time[ _-]?d?[ _-]?out|expired/i;

/**
 * Africa's Talking (https://developers.africastalking.com/docs/ussd): form-encoded POSTs.
 *
 * **Hop**: `sessionId`, `serviceCode`, `phoneNumber`, `networkCode` (optional) and `text`, which is
 * empty on the first hop and then every input so far joined by `*`. The hop's `input` is the newest
 * part (`latestInput`); its `hopKey` is the whole `text`, which a retry of the same hop repeats.
 * The reply is `text/plain`, `CON <screen>` to continue or `END <screen>` to finish.
 *
 * **End-of-session notification** (the "events callback" URL in AT's dashboard): `sessionId`,
 * `status` (`Success`, `Incomplete`, `Failed`), `errorMessage`, plus `serviceCode`, `phoneNumber`,
 * `networkCode`, `durationInMillis`, `hopsCount`, `input`, `lastAppResponse`, `cost`, `date`, which
 * are not needed and not read. `parse` tells the two apart itself: a body with `status` and without
 * `text` is a notification, so both AT URLs may point at the same route (`/ussd/africastalking`).
 * Its reason is `timeout` when the status or error message speaks of a timeout or expiry, else
 * `canceled` (AT's `Incomplete` does not say whether the subscriber hung up or the network gave up;
 * `Success` arrives after our own `END`, when the session is already over).
 */
export const africasTalkingAdapter: UssdGatewayAdapter = {
  name: 'africastalking',
  contentTypes: ['application/x-www-form-urlencoded'],

  parse(body: unknown): ParseResult {
    try {
      return parseAfricasTalking(body);
    } catch {
      // A hostile object (a throwing proxy) must not reach the caller as an exception.
      return { ok: false, problems: [NOT_AN_OBJECT] };
    }
  },

  render(reply: UssdReply, _request: UssdRequest | null): RenderedReply {
    return { contentType: TEXT_PLAIN, body: renderAfricasTalking({ kind: reply.kind, text: toGsm(reply.text) }) };
  },

  renderEndedAck(_request: UssdSessionEnded): RenderedReply {
    return { contentType: TEXT_PLAIN, body: 'OK' };
  },
};

function parseAfricasTalking(body: unknown): ParseResult {
  const fields = plainFields(body);
  if (fields === null) return { ok: false, problems: [NOT_AN_OBJECT] };
  const reader = new FieldReader(fields);

  if (reader.has('status') && !reader.has('text')) {
    const sessionId = reader.sessionId('sessionId');
    const status = reader.string('status', { maxLength: MAX_LABEL_LENGTH });
    const errorMessage = reader.optionalString('errorMessage', MAX_DETAIL_LENGTH);
    if (sessionId === null || status === null || reader.problems.length > 0) return { ok: false, problems: reader.problems };
    const timedOut = TIMEOUT_WORDS.test(status) || (errorMessage !== null && TIMEOUT_WORDS.test(errorMessage));
    return {
      ok: true,
      request: {
        type: 'ended',
        sessionId,
        reason: timedOut ? 'timeout' : 'canceled',
        detail: errorMessage === null ? status : `${status}: ${errorMessage}`,
      },
    };
  }

  const sessionId = reader.sessionId('sessionId');
  const serviceCode = reader.serviceCode('serviceCode');
  const phoneNumber = reader.phoneNumber('phoneNumber');
  const networkCode = reader.optionalString('networkCode', MAX_LABEL_LENGTH);
  const text = reader.string('text', { maxLength: MAX_TEXT_LENGTH, allowEmpty: true });
  if (sessionId === null || serviceCode === null || phoneNumber === null || text === null || reader.problems.length > 0) {
    return { ok: false, problems: reader.problems };
  }
  return {
    ok: true,
    request: {
      type: 'hop',
      sessionId,
      serviceCode,
      phoneNumber,
      network: networkCode,
      input: latestInput(text) ?? null,
      hopKey: text,
      payload: { gateway: 'africastalking', sessionId, serviceCode, phoneNumber, networkCode, operator: null, text },
    },
  };
}
