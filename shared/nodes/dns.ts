import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import pLimit from 'p-limit';
import { describeError } from '../errors';
import { addressBytes } from './address';

/** The DNS lookups node observation needs; a port so tests can point it anywhere. */
export interface DnsLookup {
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  reverse(ip: string): Promise<string[]>;
  /**
   * The CNAME target of a name. node:dns follows CNAMEs inside an A/AAAA answer without
   * saying so, so this is how elbscope knows whose addresses an answer holds.
   */
  resolveCname(name: string): Promise<string[]>;
}

export interface DnsOptions {
  /** `host`, `host:port` or `[v6]:port`; empty means the system's resolvers. */
  servers: string[];
  timeoutMs: number;
  tries: number;
}

/** A DnsLookup over node:dns `Resolver` (c-ares), with its own servers, timeout and tries. */
export function createDnsLookup(options: DnsOptions): DnsLookup {
  const resolver = new Resolver({ timeout: options.timeoutMs, tries: options.tries });
  if (options.servers.length > 0) resolver.setServers(options.servers);
  return {
    resolve4: (name) => resolver.resolve4(name),
    resolve6: (name) => resolver.resolve6(name),
    // resolvePtr on the reverse name, not resolver.reverse: c-ares' reverse lookup reports
    // every failure (SERVFAIL, timeout) as ENOTFOUND, which would read as "no PTR record".
    reverse: (ip) => resolver.resolvePtr(reverseName(ip)),
    resolveCname: (name) => resolver.resolveCname(name),
  };
}

/** The PTR name of an address: `4.3.2.1.in-addr.arpa`, or 32 nibbles under `ip6.arpa`. */
export function reverseName(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const bytes = isIP(ip) === 6 ? addressBytes(ip) : null;
  if (!bytes) throw new Error(`${ip}: not an IP address`);
  const nibbles = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}

/** How a DNS query ended, in words a person reads in an error list. */
export function describeDnsFailure(name: string, rrtype: string, err: unknown): string {
  const code = (err as { code?: string } | null)?.code;
  switch (code) {
    case 'ENOTFOUND':
      // NXDOMAIN is about the name, whatever the type asked: one message for A and AAAA.
      return `${name}: NXDOMAIN (the name does not exist)`;
    case 'ESERVFAIL':
      return `${name} ${rrtype}: SERVFAIL from the DNS server`;
    case 'ETIMEOUT':
      return `${name} ${rrtype}: no answer from the DNS server (timed out)`;
    case 'ECONNREFUSED':
      return `${name} ${rrtype}: DNS server refused the connection`;
    case 'EREFUSED':
      return `${name} ${rrtype}: DNS server refused the query`;
    case 'EBADRESP':
      return `${name} ${rrtype}: malformed answer from the DNS server`;
    default:
      return `${name} ${rrtype}: ${describeError(err)}`;
  }
}

/** Whether the error means "the name exists but has no record of that type". */
export function isNoData(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'ENODATA';
}

/** Whether the error means "the name does not exist". */
export function isNxDomain(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'ENOTFOUND';
}

/** Keep only syntactically valid addresses of the asked family (a bad answer must not become a node). */
export function validAddresses(addresses: unknown, family: 4 | 6): { valid: string[]; invalid: string[] } {
  const valid: string[] = [];
  const invalid: string[] = [];
  for (const a of Array.isArray(addresses) ? addresses : []) {
    if (typeof a === 'string' && isIP(a) === family) valid.push(a);
    else invalid.push(String(a));
  }
  return { valid, invalid };
}

/** A DnsLookup that runs at most `concurrency` queries at once (one bound for a whole cycle). */
export function limitDns(dns: DnsLookup, concurrency: number): DnsLookup {
  const limit = pLimit(concurrency);
  return {
    resolve4: (name) => limit(() => dns.resolve4(name)),
    resolve6: (name) => limit(() => dns.resolve6(name)),
    reverse: (ip) => limit(() => dns.reverse(ip)),
    resolveCname: (name) => limit(() => dns.resolveCname(name)),
  };
}
