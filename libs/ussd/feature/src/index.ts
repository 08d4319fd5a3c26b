/**
 * @ussd/ussd-feature: the USSD channel over HTTP (NestJS). See docs/ussd.md.
 *
 * - `UssdFeatureModule`: `POST /ussd/{gateway}` (Africa's Talking, Hubtel: hops and end-of-session
 *   notices), `GET/DELETE /sessions/{id}`, `GET /sessions?msisdn=`, and the session expiry sweep.
 * - `UssdHopService`: one hop from a parsed request to the reply (routing, the session lease,
 *   the engine under the hop deadline, pagination, retries answered from the session).
 */
export * from './ussd-feature.module.js';
export * from './ussd-hop.service.js';
export * from './conversation.js';
export * from './gateway-auth.js';
