import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import ipaddr, { type IPv4, type IPv6 } from 'ipaddr.js';
import { Counter, type Registry } from 'prom-client';
import { type GatewayAuthConfig, InjectConfig, type PlatformConfig, USSD_GATEWAY_NAMES, type UssdGatewayName } from '@ussd/platform-config';
import { InjectMetrics, type Limiter, RateLimits } from '@ussd/platform-http';
import { InjectLogger, type Logger } from '@ussd/platform-logging';

/** Why a gateway callback was refused: the `reason` label of `ussd_gateway_refused_total`. */
export const GATEWAY_REFUSAL_REASONS = ['not_configured', 'source_not_allowed', 'missing_credential', 'wrong_token', 'bad_signature', 'stale_signature', 'replayed'] as const;
export type GatewayRefusalReason = (typeof GATEWAY_REFUSAL_REASONS)[number];

/** What a callback presents, read from the request. */
export interface GatewayCall {
  /** The client address (request.ip: X-Forwarded-For only behind TRUSTED_PROXIES). */
  readonly ip: string;
  /** X-Gateway-Token. */
  readonly tokenHeader: string | undefined;
  /** The path token of `POST /ussd/{gateway}/{token}`. */
  readonly pathToken: string | undefined;
  /** X-Gateway-Signature: `sha256=<64 hex>`. */
  readonly signature: string | undefined;
  /** X-Gateway-Timestamp: Unix seconds. */
  readonly timestamp: string | undefined;
  /** The body's bytes as received. */
  readonly rawBody: Buffer | undefined;
}

export type GatewayVerdict = { readonly ok: true; readonly signature: string | undefined } | { readonly ok: false; readonly reason: GatewayRefusalReason; readonly status: 401 | 403 };

/** A signature's timestamp may be this far from our clock, either way; a signature is accepted once in twice this. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;
const TIMESTAMP = /^[0-9]{1,12}$/;

function refuse(reason: GatewayRefusalReason): GatewayVerdict {
  return { ok: false, reason, status: reason === 'not_configured' || reason === 'source_not_allowed' ? 403 : 401 };
}

const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();

/** Is `presented` one of `accepted`? Compared as SHA-256 digests in constant time, every candidate tried. */
function oneOf(presented: string, accepted: readonly Buffer[]): boolean {
  const mine = digest(presented);
  let match = false;
  for (const candidate of accepted) match = timingSafeEqual(mine, candidate) || match;
  return match;
}

function parseRange(entry: string): [IPv4 | IPv6, number] {
  if (entry.includes('/')) return ipaddr.parseCIDR(entry);
  const address = ipaddr.parse(entry);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

/**
 * One gateway's rules (pure: no I/O). Every credential configured must be presented: the source
 * address must be in ALLOWED_CIDRS, the token (header or path) one of TOKEN, the signature made
 * with one of HMAC_SECRET over `<timestamp>.<body>` within SIGNATURE_TOLERANCE_SECONDS. With none
 * configured the gateway is open (AUTH=none, or outside production with AUTH unset) or refuses
 * everything (`not_configured`).
 */
export class GatewayRules {
  private readonly tokens: readonly Buffer[];
  private readonly hmacSecrets: readonly Buffer[];
  private readonly ranges: readonly [IPv4 | IPv6, number][];
  /** No credential configured. */
  readonly unprotected: boolean;
  /** Unprotected and answering anyway. */
  readonly open: boolean;

  constructor(config: GatewayAuthConfig, production: boolean) {
    this.tokens = config.tokens.map((token) => digest(token));
    this.hmacSecrets = config.hmacSecrets.map((secret) => Buffer.from(secret, 'utf8'));
    this.ranges = config.allowedCidrs.map(parseRange);
    this.unprotected = config.tokens.length === 0 && config.hmacSecrets.length === 0 && config.allowedCidrs.length === 0;
    this.open = this.unprotected && (config.auth === 'none' || (config.auth === undefined && !production));
  }

  check(call: GatewayCall, nowMs: number): GatewayVerdict {
    // A path token is a credential only where tokens are configured; elsewhere it is refused, never ignored.
    if (call.pathToken !== undefined && this.tokens.length === 0) return refuse('wrong_token');
    if (this.unprotected) return this.open ? { ok: true, signature: undefined } : refuse('not_configured');
    if (this.ranges.length > 0 && !this.allows(call.ip)) return refuse('source_not_allowed');
    if (this.tokens.length > 0) {
      const presented = [call.tokenHeader, call.pathToken].filter((token): token is string => token !== undefined);
      if (presented.length === 0) return refuse('missing_credential');
      // Both forms at once must both be right.
      if (!presented.every((token) => oneOf(token, this.tokens))) return refuse('wrong_token');
    }
    let signature: string | undefined;
    if (this.hmacSecrets.length > 0) {
      if (call.signature === undefined || call.timestamp === undefined) return refuse('missing_credential');
      const hex = SIGNATURE.exec(call.signature.trim())?.[1];
      const timestamp = call.timestamp.trim();
      if (hex === undefined || !TIMESTAMP.test(timestamp)) return refuse('bad_signature');
      if (Math.abs(nowMs / 1000 - Number(timestamp)) > SIGNATURE_TOLERANCE_SECONDS) return refuse('stale_signature');
      const given = Buffer.from(hex, 'hex');
      const signed = Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), call.rawBody ?? Buffer.alloc(0)]);
      let match = false;
      for (const secret of this.hmacSecrets) match = timingSafeEqual(createHmac('sha256', secret).update(signed).digest(), given) || match;
      if (!match) return refuse('bad_signature');
      signature = hex.toLowerCase();
    }
    return { ok: true, signature };
  }

  private allows(ip: string): boolean {
    if (!ipaddr.isValid(ip)) return false;
    // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d: compared as IPv4.
    const address = ipaddr.process(ip);
    return this.ranges.some(([range, bits]) => address.kind() === range.kind() && address.match(range, bits));
  }
}

/**
 * Gateway authentication for `POST /ussd/{gateway}`: the rules of each gateway from config, the
 * replay check of signatures (each accepted once, across replicas with Redis), the refusal
 * counter, and one warning line at start naming the gateways without credentials.
 */
@Injectable()
export class GatewayAuth implements OnApplicationBootstrap {
  private readonly rules: Readonly<Record<UssdGatewayName, GatewayRules>>;
  private readonly refusals: Counter<'gateway' | 'reason'>;
  private readonly signatures: Limiter;

  constructor(
    @InjectConfig() private readonly config: PlatformConfig,
    @InjectLogger() private readonly logger: Logger,
    @InjectMetrics() registry: Registry,
    @Inject(RateLimits) limits: RateLimits,
  ) {
    const production = config.nodeEnv === 'production';
    this.rules = Object.fromEntries(USSD_GATEWAY_NAMES.map((name) => [name, new GatewayRules(config.ussd.gateways[name], production)])) as Record<UssdGatewayName, GatewayRules>;
    this.refusals = new Counter({
      name: 'ussd_gateway_refused_total',
      help: 'Gateway callbacks refused before they reached a session, by gateway and reason (not_configured, source_not_allowed, missing_credential, wrong_token, bad_signature, stale_signature, replayed).',
      labelNames: ['gateway', 'reason'],
      registers: [registry],
    });
    this.signatures = limits.create('gateway-signature', 1, SIGNATURE_TOLERANCE_SECONDS * 2, false);
  }

  onApplicationBootstrap(): void {
    const unprotected = USSD_GATEWAY_NAMES.filter((name) => this.rules[name].unprotected);
    const open = unprotected.filter((name) => this.rules[name].open);
    const closed = unprotected.filter((name) => !this.rules[name].open);
    const how = 'set USSD_GATEWAY_<NAME>_TOKEN, _HMAC_SECRET or _ALLOWED_CIDRS (docs/security.md, Gateway authentication)';
    if (open.length > 0) this.logger.warn(`USSD gateways open to anyone (no credential configured): ${open.join(', ')}; ${how}, or USSD_GATEWAY_<NAME>_AUTH=none to mean it.`);
    if (closed.length > 0) this.logger.warn(`USSD gateways refusing every callback (no credential configured${this.config.nodeEnv === 'production' ? ', NODE_ENV=production' : ''}): ${closed.join(', ')}; ${how}.`);
  }

  /** Checks a callback; a refusal is counted and logged (gateway, reason, client address; never a credential). */
  async check(gateway: UssdGatewayName, call: GatewayCall): Promise<GatewayVerdict> {
    // An adapter whose name is missing from USSD_GATEWAY_NAMES has no rules: closed, never open.
    const rules = this.rules[gateway] as GatewayRules | undefined;
    let verdict = rules === undefined ? refuse('not_configured') : rules.check(call, Date.now());
    if (verdict.ok && verdict.signature !== undefined && !(await this.signatures.consume(`${gateway}:${verdict.signature}`)).allowed) verdict = refuse('replayed');
    if (!verdict.ok) {
      this.refusals.inc({ gateway, reason: verdict.reason });
      this.logger.warn({ gateway, reason: verdict.reason, ip: call.ip }, 'USSD gateway callback refused');
    }
    return verdict;
  }
}
