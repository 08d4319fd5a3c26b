import { africasTalkingAdapter } from './africastalking.js';
import type { UssdGatewayAdapter } from './gateway.js';
import { hubtelAdapter } from './hubtel.js';

/**
 * Every gateway we speak, routed as `/ussd/{name}`. A new gateway is one file implementing
 * `UssdGatewayAdapter` and one line here.
 */
export const USSD_GATEWAY_ADAPTERS: readonly UssdGatewayAdapter[] = Object.freeze([africasTalkingAdapter, hubtelAdapter]);

/** The adapter for a route's `{name}` segment; undefined for an unknown gateway. */
export function gatewayAdapter(name: string): UssdGatewayAdapter | undefined {
  return USSD_GATEWAY_ADAPTERS.find((adapter) => adapter.name === name);
}
