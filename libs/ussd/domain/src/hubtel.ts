import type { ParseResult, RenderedReply, UssdGatewayAdapter, UssdRequest, UssdSessionEnded } from './gateway.js';
import { FieldReader, MAX_LABEL_LENGTH, MAX_TEXT_LENGTH, NOT_AN_OBJECT, plainFields, quote } from './gateway-fields.js';
import { toGsm } from './gsm7.js';
import type { UssdReply } from './ussd-reply.js';

const APPLICATION_JSON = 'application/json';
const MAX_LABEL = 60;

/** Hubtel's request types, compared case-insensitively (its docs spell them both ways). */
const TYPES = ['initiation', 'response', 'release', 'timeout'] as const;
type HubtelType = (typeof TYPES)[number];

/**
 * Hubtel Programmable Services (https://developers.hubtel.com/docs/api-reference-prog-services):
 * JSON POSTs to the "Service Interaction URL".
 *
 * **Request**: `Type` (`Initiation`, `Response`, `Release`, `Timeout`; any case), `Mobile`,
 * `SessionId`, `ServiceCode` (`713`, `711*2`: canonicalised to `*713#`, `*711*2#`), `Message`
 * (on `Initiation` the dialled string, e.g. `*713#`; then the subscriber's reply), `Operator`
 * (`mtn`, `vodafone`, ...), `Sequence` (the hop number, an integer from 1; the docs' app samples
 * send it as a string, which is accepted when it is a plain positive integer), `ClientState`
 * (not used: we keep state ourselves), `Platform` (`USSD`; `Webstore` and `Hubtel-App` sessions
 * are refused, their service codes are not USSD codes).
 * `Initiation` is the first hop (input null); `Response` a later one (input = `Message`);
 * `Release` ends the session as `canceled` and `Timeout` as `timeout`. The `hopKey` is `Sequence`;
 * a `Response` without one is refused (we do not guess), an `Initiation` without one is hop `1`.
 *
 * **Reply**: `{ SessionId, Type: "response" | "release", Message, Label, DataType: "input" |
 * "display", FieldType: "text", ClientState: "" }` as `application/json`. `Label` (a title for
 * Hubtel's app and web channels) is the screen's first line. The acknowledgement of a
 * `Release`/`Timeout` is the same shape with `Type: "release"` and an empty message.
 */
export const hubtelAdapter: UssdGatewayAdapter = {
  name: 'hubtel',
  contentTypes: [APPLICATION_JSON],

  parse(body: unknown): ParseResult {
    try {
      return parseHubtel(body);
    } catch {
      return { ok: false, problems: [NOT_AN_OBJECT] };
    }
  },

  render(reply: UssdReply, request: UssdRequest | null): RenderedReply {
    const message = toGsm(reply.text);
    const continuing = reply.kind === 'continue';
    return json({
      SessionId: request?.sessionId ?? '',
      Type: continuing ? 'response' : 'release',
      Message: message,
      Label: labelOf(message),
      DataType: continuing ? 'input' : 'display',
      FieldType: 'text',
      ClientState: '',
    });
  },

  renderEndedAck(request: UssdSessionEnded): RenderedReply {
    return json({ SessionId: request.sessionId, Type: 'release', Message: '', Label: '', DataType: 'display', FieldType: 'text', ClientState: '' });
  },
};

function json(body: Record<string, string>): RenderedReply {
  return { contentType: APPLICATION_JSON, body: JSON.stringify(body) };
}

function labelOf(message: string): string {
  const first = message.split('\n').find((line) => line.trim() !== '') ?? '';
  const trimmed = first.trim();
  return trimmed.length > MAX_LABEL ? `${trimmed.slice(0, MAX_LABEL - 3)}...` : trimmed;
}

function parseHubtel(body: unknown): ParseResult {
  const fields = plainFields(body);
  if (fields === null) return { ok: false, problems: [NOT_AN_OBJECT] };
  const reader = new FieldReader(fields);

  const typeText = reader.string('Type', { maxLength: 32 });
  const type = typeText === null ? null : (TYPES.find((known) => known === typeText.trim().toLowerCase()) ?? null);
  if (typeText !== null && type === null) reader.problem('Type', `must be one of Initiation, Response, Release, Timeout, got ${quote(typeText)}`);
  const sessionId = reader.sessionId('SessionId');
  if (type === 'release' || type === 'timeout') {
    if (sessionId === null) return { ok: false, problems: reader.problems };
    return { ok: true, request: { type: 'ended', sessionId, reason: type === 'timeout' ? 'timeout' : 'canceled', detail: `Hubtel ${typeText}` } };
  }

  const platform = reader.optionalString('Platform', MAX_LABEL_LENGTH);
  if (platform !== null && platform.toUpperCase() !== 'USSD') reader.problem('Platform', `only USSD sessions are served, got ${quote(platform)}`);
  const phoneNumber = reader.phoneNumber('Mobile');
  const serviceCode = reader.serviceCode('ServiceCode');
  const message = reader.string('Message', { maxLength: MAX_TEXT_LENGTH, allowEmpty: true });
  const operator = reader.optionalString('Operator', MAX_LABEL_LENGTH);
  const sequence = readSequence(reader, type);
  if (type === null || sessionId === null || phoneNumber === null || serviceCode === null || message === null || sequence === null || reader.problems.length > 0) {
    return { ok: false, problems: reader.problems };
  }
  return {
    ok: true,
    request: {
      type: 'hop',
      sessionId,
      serviceCode,
      phoneNumber,
      network: operator,
      input: type === 'initiation' ? null : message,
      hopKey: String(sequence),
      payload: { gateway: 'hubtel', sessionId, serviceCode, phoneNumber, networkCode: null, operator, text: message },
    },
  };
}

/** `Sequence`: a positive integer, or its decimal string; defaults to 1 on an `Initiation`. */
function readSequence(reader: FieldReader, type: HubtelType | null): number | null {
  if (!reader.has('Sequence')) {
    if (type === 'initiation') return 1;
    reader.problem('Sequence', 'is required on a Response: it identifies the hop');
    return null;
  }
  const raw = reader.raw('Sequence');
  const value = typeof raw === 'string' && /^[1-9][0-9]{0,14}$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    reader.problem('Sequence', 'must be a positive integer');
    return null;
  }
  return value;
}
