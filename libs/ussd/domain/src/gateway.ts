import type { UssdReply } from './ussd-reply.js';

/**
 * One hop as every gateway delivers it, after its adapter has parsed and checked the request.
 * The hop service (libs/ussd/feature) sees only this, never a gateway's wire format.
 */
export interface UssdHop {
  readonly type: 'hop';
  /** The gateway's session id (1 to 255 printable characters). */
  readonly sessionId: string;
  /** As dialled, e.g. `*384*123#`. */
  readonly serviceCode: string;
  /** As the gateway sent it; the hop service normalises it to E.164. */
  readonly phoneNumber: string;
  /** Mobile network code or operator name, when the gateway sends one. */
  readonly network: string | null;
  /** The subscriber's newest reply; null on the first hop of a session. */
  readonly input: string | null;
  /**
   * Identifies this hop within its session, so a gateway's retry of the same hop is recognised
   * and answered with the same reply (Africa's Talking: the accumulated `text`; Hubtel: `Sequence`).
   */
  readonly hopKey: string;
  /** What the first hop's execution sees as `trigger` (no secrets, bounded in size). */
  readonly payload: Readonly<Record<string, string | number | null>>;
}

/** The gateway says the session is over (the subscriber hung up, the network timed it out). */
export interface UssdSessionEnded {
  readonly type: 'ended';
  readonly sessionId: string;
  /** `timeout` when the network timed the session out; `canceled` otherwise. */
  readonly reason: 'canceled' | 'timeout';
  /** The gateway's own words (status, error message), kept in the execution's error. */
  readonly detail: string;
}

export type UssdRequest = UssdHop | UssdSessionEnded;

/** A request the adapter refuses: which field and why, for a clean error reply. */
export interface UssdRequestProblem {
  readonly field: string;
  readonly message: string;
}

export type ParseResult = { readonly ok: true; readonly request: UssdRequest } | { readonly ok: false; readonly problems: readonly UssdRequestProblem[] };

/** What goes back on the wire: the HTTP body and its content type. */
export interface RenderedReply {
  readonly contentType: string;
  readonly body: string;
}

/**
 * A USSD gateway's wire format. Adapters are pure: they parse a request body (already decoded
 * from the content types they accept) and render a reply. New gateways plug in by implementing
 * this and registering in the adapter list; routes are `/ussd/{name}`.
 */
export interface UssdGatewayAdapter {
  /** URL segment and log name: `africastalking`, `hubtel`. */
  readonly name: string;
  /** Request content types accepted, e.g. `application/x-www-form-urlencoded`. */
  readonly contentTypes: readonly string[];
  /** Parses a hop or an end-of-session notice. Never throws. */
  parse(body: unknown): ParseResult;
  /**
   * Renders a reply. `request` is the hop being answered when it could be parsed (some formats
   * echo its session id); null when the request itself was refused.
   */
  render(reply: UssdReply, request: UssdRequest | null): RenderedReply;
  /** What acknowledges an end-of-session notice. */
  renderEndedAck(request: UssdSessionEnded): RenderedReply;
}
