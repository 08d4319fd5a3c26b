/**
 * @ussd/ussd-domain: USSD gateways, screens and replies (pure TypeScript). See docs/ussd-gateways.md.
 *
 * - `UssdReply` (continue / end), `renderAfricasTalking`, `latestInput`, `MAX_SCREEN_LENGTH`.
 * - Gateways: the `UssdGatewayAdapter` contract (`UssdHop`, `UssdSessionEnded`, `ParseResult`,
 *   `RenderedReply`), `africasTalkingAdapter`, `hubtelAdapter`, the registry
 *   `USSD_GATEWAY_ADAPTERS` / `gatewayAdapter(name)`, `canonicalServiceCode` and the field limits.
 * - Phone numbers: `normalizeMsisdn(raw, defaultCountry)` to E.164 (valid mobile numbers only).
 * - Screens: GSM-7 (`isGsm7`, `gsm7Length` in septets, `toGsm`), and pagination of long screens
 *   (`paginate`, `pageReply`, `pageNavigation`, `MORE_KEY`, `BACK_KEY`).
 */
export * from './ussd-reply.js';
export * from './gateway.js';
export {
  canonicalServiceCode,
  MAX_DETAIL_LENGTH,
  MAX_LABEL_LENGTH,
  MAX_PHONE_NUMBER_LENGTH,
  MAX_SESSION_ID_LENGTH,
  MAX_TEXT_LENGTH,
  SERVICE_CODE_PATTERN,
} from './gateway-fields.js';
export * from './africastalking.js';
export * from './hubtel.js';
export * from './adapters.js';
export * from './msisdn.js';
export * from './gsm7.js';
export * from './screens.js';
