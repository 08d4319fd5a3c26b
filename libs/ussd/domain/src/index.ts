/**
 * @ussd/ussd-domain: USSD screens and replies (pure TypeScript).
 *
 * - `UssdReply` (continue / end), `renderAfricasTalking`, `latestInput`, `MAX_SCREEN_LENGTH`.
 * Gateway adapters, routing and hop handling arrive with the USSD channel issue.
 */
export * from './ussd-reply.js';
