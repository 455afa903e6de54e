import { isIP } from 'node:net';

/**
 * Special-purpose addresses: which an Elastic Load Balancer node can have, and
 * which no node ever has (a DNS answer carrying one is broken, hostile, or not
 * AWS's: a finding, never a node).
 *
 * From IANA's registries:
 * - IPv4 Special-Purpose Address Registry, https://www.iana.org/assignments/iana-ipv4-special-registry/
 * - IPv6 Special-Purpose Address Registry, https://www.iana.org/assignments/iana-ipv6-special-registry/
 * - IPv4 Multicast Address Space Registry, https://www.iana.org/assignments/multicast-addresses/ (224.0.0.0/4)
 * - IPv6 Address Space, https://www.iana.org/assignments/ipv6-address-space/ (2000::/3 is the global
 *   unicast space, fc00::/7 unique-local, fe80::/10 link-local, ff00::/8 multicast; the rest is
 *   "Reserved by IETF": no address there is anyone's node)
 *
 * Kept as nodes although special-purpose, because a VPC may be numbered from them and an
 * internal load balancer's nodes then resolve to them (Amazon VPC User Guide, "VPC CIDR
 * blocks", https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html: RFC 1918
 * ranges, 100.64.0.0/10 and 198.19.0.0/16 may be associated with a VPC): the RFC 1918
 * private-use ranges, shared address space 100.64.0.0/10, 198.19.0.0/16 (the upper half of
 * benchmarking 198.18.0.0/15), and IPv6 unique-local fc00::/7 (private IPv6 subnets).
 */
interface AddressClass {
  /** The block, in CIDR notation. */
  prefix: string;
  /** What the registry calls it. */
  name: string;
  /** The document that reserves it. */
  rfc: string;
  /** `node`: a load balancer node may have it; `never`: none has; `loopback`: only the lab's (a configuration flag). */
  use: 'node' | 'never' | 'loopback';
}

// Most specific first: the first block an address falls in names it.
const IPV4: AddressClass[] = [
  { prefix: '0.0.0.0/8', name: '"this network" (unspecified)', rfc: 'RFC 791', use: 'never' },
  { prefix: '10.0.0.0/8', name: 'private-use', rfc: 'RFC 1918', use: 'node' },
  { prefix: '100.64.0.0/10', name: 'shared address space', rfc: 'RFC 6598', use: 'node' },
  { prefix: '127.0.0.0/8', name: 'loopback', rfc: 'RFC 1122', use: 'loopback' },
  { prefix: '169.254.0.0/16', name: 'link-local', rfc: 'RFC 3927', use: 'never' },
  { prefix: '172.16.0.0/12', name: 'private-use', rfc: 'RFC 1918', use: 'node' },
  { prefix: '192.0.0.0/24', name: 'IETF protocol assignments', rfc: 'RFC 6890', use: 'never' },
  { prefix: '192.0.2.0/24', name: 'documentation (TEST-NET-1)', rfc: 'RFC 5737', use: 'never' },
  { prefix: '192.31.196.0/24', name: 'AS112-v4', rfc: 'RFC 7535', use: 'never' },
  { prefix: '192.52.193.0/24', name: 'AMT', rfc: 'RFC 7450', use: 'never' },
  { prefix: '192.88.99.0/24', name: 'deprecated 6to4 relay anycast', rfc: 'RFC 7526', use: 'never' },
  { prefix: '192.168.0.0/16', name: 'private-use', rfc: 'RFC 1918', use: 'node' },
  { prefix: '192.175.48.0/24', name: 'direct delegation AS112 service', rfc: 'RFC 7534', use: 'never' },
  { prefix: '198.18.0.0/16', name: 'benchmarking', rfc: 'RFC 2544', use: 'never' },
  { prefix: '198.19.0.0/16', name: 'benchmarking (an Amazon VPC may use it)', rfc: 'RFC 2544', use: 'node' },
  { prefix: '198.51.100.0/24', name: 'documentation (TEST-NET-2)', rfc: 'RFC 5737', use: 'never' },
  { prefix: '203.0.113.0/24', name: 'documentation (TEST-NET-3)', rfc: 'RFC 5737', use: 'never' },
  { prefix: '224.0.0.0/4', name: 'multicast', rfc: 'RFC 5771', use: 'never' },
  { prefix: '255.255.255.255/32', name: 'limited broadcast', rfc: 'RFC 919', use: 'never' },
  { prefix: '240.0.0.0/4', name: 'reserved', rfc: 'RFC 1112', use: 'never' },
];

const IPV6: AddressClass[] = [
  { prefix: '::/128', name: 'unspecified', rfc: 'RFC 4291', use: 'never' },
  { prefix: '::1/128', name: 'loopback', rfc: 'RFC 4291', use: 'loopback' },
  { prefix: '::ffff:0:0/96', name: 'IPv4-mapped', rfc: 'RFC 4291', use: 'never' },
  { prefix: '::/96', name: 'IPv4-compatible (deprecated)', rfc: 'RFC 4291', use: 'never' },
  {
    prefix: '64:ff9b::/96',
    name: "IPv4-IPv6 translation (a DNS64 resolver's synthesis)",
    rfc: 'RFC 6052',
    use: 'never',
  },
  { prefix: '64:ff9b:1::/48', name: 'local-use IPv4-IPv6 translation', rfc: 'RFC 8215', use: 'never' },
  { prefix: '100::/64', name: 'discard-only', rfc: 'RFC 6666', use: 'never' },
  { prefix: '2001:db8::/32', name: 'documentation', rfc: 'RFC 3849', use: 'never' },
  {
    prefix: '2001::/23',
    name: 'IETF protocol assignments (Teredo, benchmarking, ORCHID, AMT, AS112)',
    rfc: 'RFC 2928',
    use: 'never',
  },
  { prefix: '2002::/16', name: '6to4', rfc: 'RFC 3056', use: 'never' },
  { prefix: '2620:4f:8000::/48', name: 'direct delegation AS112 service', rfc: 'RFC 7534', use: 'never' },
  { prefix: '3fff::/20', name: 'documentation', rfc: 'RFC 9637', use: 'never' },
  { prefix: '2000::/3', name: 'global unicast', rfc: 'RFC 4291', use: 'node' },
  { prefix: '5f00::/16', name: 'segment routing (SRv6) SIDs', rfc: 'RFC 9602', use: 'never' },
  { prefix: 'fc00::/7', name: 'unique-local', rfc: 'RFC 4193', use: 'node' },
  { prefix: 'fe80::/10', name: 'link-local', rfc: 'RFC 4291', use: 'never' },
  { prefix: 'fec0::/10', name: 'site-local (deprecated)', rfc: 'RFC 3879', use: 'never' },
  { prefix: 'ff00::/8', name: 'multicast', rfc: 'RFC 4291', use: 'never' },
  // Everything else: outside the global unicast space, "Reserved by IETF" in the IPv6 Address Space.
  { prefix: '::/0', name: 'reserved by the IETF', rfc: 'RFC 4291', use: 'never' },
];

interface Block {
  bytes: Uint8Array;
  bits: number;
  cls: AddressClass;
}

// The tables' own addresses are known to be well-formed: read without net.isIP, whose IPv6
// pattern (compiled on first use, several milliseconds) would otherwise run at every import.
const compile = (table: AddressClass[]): Block[] =>
  table.map((cls) => {
    const [address, bits] = cls.prefix.split('/') as [string, string];
    return { bytes: bytesOf(address, address.includes(':') ? 6 : 4), bits: Number(bits), cls };
  });

const BLOCKS4 = compile(IPV4);
const BLOCKS6 = compile(IPV6);

/**
 * The special-purpose block an address falls in (the registries' name for it),
 * or null for an ordinary IPv4 unicast address. Every IPv6 address falls in one:
 * global unicast 2000::/3 and unique-local fc00::/7 are the ones a node may have.
 * Throws on a string that is not an IP address.
 */
function addressClass(ip: string): AddressClass | null {
  const bytes = addressBytes(ip);
  if (!bytes) throw new Error(`${JSON.stringify(ip.slice(0, 64))} is not an IP address`);
  for (const block of bytes.length === 4 ? BLOCKS4 : BLOCKS6) if (inBlock(bytes, block)) return block.cls;
  return null;
}

/**
 * Why no load balancer node can have this address (`in 0.0.0.0/8 ("this network"
 * (unspecified), RFC 791): no load balancer node has such an address`), or null
 * when one can. Loopback is a node only where the
 * configuration says so (the lab's nodes live on 127.0.0.0/8).
 */
export function notANodeAddress(ip: string, allowLoopback: boolean): string | null {
  // A zone index (`fe80::1%eth0`) belongs to a host's own interface: DNS never carries one.
  if (ip.includes('%')) return 'an address with a zone index, which DNS cannot carry';
  const cls = addressClass(ip);
  if (cls === null || cls.use === 'node' || (cls.use === 'loopback' && allowLoopback)) return null;
  const where = cls.prefix === '::/0' ? 'outside the unicast blocks 2000::/3 and fc00::/7' : `in ${cls.prefix}`;
  const why = cls.use === 'loopback' ? " (the lab's nodes do: set dns.allowLoopbackNodes to watch one)" : '';
  return `${where} (${cls.name}, ${cls.rfc}): no load balancer node has such an address${why}`;
}

function inBlock(bytes: Uint8Array, block: Block): boolean {
  if (bytes.length !== block.bytes.length) return false;
  const whole = block.bits >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== block.bytes[i]) return false;
  const rest = block.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((bytes[whole] as number) & mask) === ((block.bytes[whole] as number) & mask);
}

/** An address as 4 or 16 bytes; null when it is not an IP address. A zone index is ignored. */
export function addressBytes(ip: string): Uint8Array | null {
  const plain = ip.replace(/%.*$/, '');
  const family = isIP(plain);
  return family === 4 || family === 6 ? bytesOf(plain, family) : null;
}

/** The bytes of an address already known to be a valid IPv4 or IPv6 address of `family`. */
function bytesOf(plain: string, family: 4 | 6): Uint8Array {
  if (family === 4) return Uint8Array.from(plain.split('.').map(Number));
  let text = plain.toLowerCase();
  // A trailing dotted IPv4 (`::ffff:1.2.3.4`) is two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    bytes[2 * i] = n >> 8;
    bytes[2 * i + 1] = n & 0xff;
  });
  return bytes;
}
