import ipaddr, { type IPv4, type IPv6 } from 'ipaddr.js';
import { isIP } from 'node:net';

/**
 * Which addresses an `http.request` node may reach (docs/security.md, "Outbound HTTP";
 * decision 0016). Only globally routable unicast addresses are called: loopback, RFC 1918,
 * link-local (cloud metadata at 169.254.169.254), CGNAT, unique-local, unspecified, multicast,
 * broadcast, documentation, benchmarking and other reserved ranges are refused, and so is an
 * IPv4 address carried inside IPv6 (`::ffff:127.0.0.1`, NAT64 `64:ff9b::a.b.c.d`) whose IPv4
 * address is refused. The range table is ipaddr.js's (IANA special-purpose registries); IPv6
 * must also lie in 2000::/3, the only block allocated for global unicast.
 *
 * An allowlist (HTTP_ALLOWED_HOSTS) admits exactly what it names: a host name (that name, in
 * any case, with or without a trailing dot, whatever it resolves to; not its subdomains), an IP
 * address, or a CIDR (every address inside it, whichever name resolved to it).
 */

type Ip = IPv4 | IPv6;

export interface AddressVerdict {
  /** The address as parsed (IPv6 in its short form). */
  readonly address: string;
  /** A globally routable unicast address. */
  readonly public: boolean;
  /**
   * ipaddr.js's range name (`unicast` when public; `loopback`, `private`, `linkLocal`,
   * `carrierGradeNat`, `uniqueLocal`, `unspecified`, `multicast`, `broadcast`, `reserved`, ...),
   * or `invalid` for text that is not an IP address. For an IPv4 address inside IPv6, the
   * IPv4 address's range.
   */
  readonly range: string;
  /** How an IPv4 address was carried inside IPv6, when it was. */
  readonly via?: 'ipv4Mapped' | 'nat64';
}

export interface OutboundRefusal {
  /** The host as the URL named it. */
  readonly host: string;
  /** Why: the refused address's range (`loopback` for `localhost` names). */
  readonly range: string;
  /** For people: names the host, never the port, never whether anything listens there. */
  readonly message: string;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
/** A name ending in a number (127.1, 0x7f.1) is an IPv4 address in another spelling (WHATWG URL), never a host name. */
const ENDS_IN_NUMBER = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/;
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

/** `[::1]` -> `::1`, `Example.COM.` -> `example.com`. */
export function normalizeHost(host: string): string {
  let text = host.trim().toLowerCase();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  return text.replace(/\.+$/, '');
}

/** Classifies one IP address (IPv4 dotted quad or IPv6, brackets allowed); anything else is `invalid`. */
export function classifyAddress(input: string): AddressVerdict {
  const text = normalizeHost(input);
  if (isIP(text) === 0) return { address: input, public: false, range: 'invalid' };
  return classify(ipaddr.parse(text));
}

function classify(ip: Ip): AddressVerdict {
  if (ip.kind() === 'ipv4') {
    const range = (ip as IPv4).range();
    return { address: ip.toString(), public: range === 'unicast', range };
  }
  const v6 = ip as IPv6;
  const address = v6.toString();
  const range: string = v6.range();
  if (range === 'ipv4Mapped') return { ...classify(v6.toIPv4Address()), address, via: 'ipv4Mapped' };
  if (v6.match(NAT64_WELL_KNOWN)) return { ...classify(ipaddr.fromByteArray(v6.toByteArray().slice(12))), address, via: 'nat64' };
  if (range !== 'unicast') return { address, public: false, range };
  // ipaddr.js calls everything outside its special ranges unicast; only 2000::/3 is allocated for it.
  if (!v6.match(GLOBAL_UNICAST_V6)) return { address, public: false, range: 'reserved' };
  return { address, public: true, range };
}

const DESCRIPTIONS: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private (RFC 1918) address',
  linkLocal: 'a link-local address',
  carrierGradeNat: 'a carrier-grade NAT (RFC 6598) address',
  uniqueLocal: 'a unique-local IPv6 address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
};

function describe(verdict: AddressVerdict): string {
  const what = DESCRIPTIONS[verdict.range] ?? `a reserved or special-purpose address (${verdict.range})`;
  return verdict.via === undefined ? what : `${what} (${verdict.via === 'nat64' ? 'NAT64' : 'IPv4-mapped IPv6'})`;
}

const ADVICE = 'only public addresses are called unless the outbound allowlist (HTTP_ALLOWED_HOSTS) admits the host';

/** Names that are this machine by definition (RFC 6761): refused by name, before any lookup. */
function isLocalhostName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

export class InvalidAllowlistEntryError extends Error {
  override readonly name = 'InvalidAllowlistEntryError';
}

/** The address rules plus an allowlist; one per HTTP client. */
export class OutboundAddressPolicy {
  private readonly names = new Set<string>();
  private readonly networks: [Ip, number][] = [];

  /** @throws InvalidAllowlistEntryError for an entry that is neither a host name, an IP address nor a CIDR. */
  constructor(allowedHosts: readonly string[] = []) {
    for (const raw of allowedHosts) {
      const entry = normalizeHost(raw);
      if (entry === '') continue;
      const slash = entry.indexOf('/');
      if (slash >= 0) {
        // Plain notation only: isIP refuses 0x7f.1 or 127.1, which ipaddr.js would read.
        if (isIP(entry.slice(0, slash)) === 0 || !ipaddr.isValidCIDR(entry)) throw new InvalidAllowlistEntryError(`not a CIDR: ${JSON.stringify(raw)}`);
        this.networks.push(ipaddr.parseCIDR(entry));
      } else if (isIP(entry) !== 0) {
        const ip = ipaddr.parse(entry);
        this.networks.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
      } else if (HOST_NAME.test(entry) && !ENDS_IN_NUMBER.test(entry)) {
        this.names.add(entry);
      } else {
        throw new InvalidAllowlistEntryError(`not a host name, IP address or CIDR: ${JSON.stringify(raw)}`);
      }
    }
  }

  /** The allowlist names this host (a host name, compared without case or trailing dot). */
  admitsName(host: string): boolean {
    return this.names.has(normalizeHost(host));
  }

  /** The allowlist holds this address or a CIDR containing it (IPv4-mapped IPv6 compared as IPv4). */
  admitsAddress(address: string): boolean {
    const text = normalizeHost(address);
    if (isIP(text) === 0) return false;
    const ip = ipaddr.process(text);
    return this.networks.some(([network, bits]) => network.kind() === ip.kind() && ip.match(network, bits));
  }

  /**
   * Before any lookup or socket: an IP literal must be public or admitted; `localhost` and
   * `*.localhost` are refused unless listed by name. Undefined: go on (a host name's addresses
   * are checked when it is resolved for a connection, `checkResolved`).
   */
  checkHost(host: string): OutboundRefusal | undefined {
    const name = normalizeHost(host);
    if (isIP(name) !== 0) {
      if (this.admitsAddress(name)) return undefined;
      const verdict = classifyAddress(name);
      if (verdict.public) return undefined;
      return { host, range: verdict.range, message: `refused to call ${host}: it is ${describe(verdict)}; ${ADVICE}` };
    }
    if (isLocalhostName(name) && !this.admitsName(name)) {
      return { host, range: 'loopback', message: `refused to call ${host}: the name means this machine (loopback); ${ADVICE}` };
    }
    return undefined;
  }

  /** At connect time, what a host name resolved to: every address must be public or admitted (or the name listed). */
  checkResolved(host: string, addresses: readonly string[]): OutboundRefusal | undefined {
    if (this.admitsName(host)) return undefined;
    for (const address of addresses) {
      if (this.admitsAddress(address)) continue;
      const verdict = classifyAddress(address);
      if (!verdict.public) return { host, range: verdict.range, message: `refused to call ${host}: it resolves to ${describe(verdict)}; ${ADVICE}` };
    }
    return undefined;
  }
}
