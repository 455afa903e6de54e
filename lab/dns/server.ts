import dns2 from 'dns2';
import { isIP } from 'node:net';
import { addressBytes } from '../../shared/nodes/address';

const { Packet } = dns2;
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

/** What the server answers for one name. */
interface HostRecords {
  a?: string[];
  aaaa?: string[];
  /** Override the zone's records-per-answer (`all.<name>` answers hold every node). */
  maxAnswers?: number;
  /** Answer with an error, or not at all (`silent`: the client times out). */
  fail?: 'nxdomain' | 'servfail' | 'silent';
  /**
   * A CNAME to this name: every query is answered with the CNAME, then the target's records (as a recursive resolver
   * does).
   */
  cname?: string;
  /** A Route 53 alias to this name: A/AAAA queries get the target's records under this name, and no CNAME shows. */
  alias?: string;
  /**
   * The CNAME query of this name alone fails (SERVFAIL, NXDOMAIN, or no answer) while A/AAAA answer: a server broken
   * for one type.
   */
  cnameFail?: 'servfail' | 'nxdomain' | 'silent';
}

/** A mutable zone: the lab changes it while the server runs. */
export interface DnsZone {
  hosts: Map<string, HostRecords>;
  /** IP address → PTR name. */
  ptr: Map<string, string>;
  /** IP address → how its PTR query fails instead (SERVFAIL, or no answer at all). */
  ptrFail?: Map<string, 'servfail' | 'silent'>;
  /** Records per answer (Route 53 gives at most 8 and rotates them). */
  maxAnswers: number;
  ttl: number;
}

export interface RunningDnsServer {
  /** `127.0.0.1:PORT`, ready for `Resolver.setServers` or `--dns-server`. */
  address: string;
  port: number;
  /** How many queries were answered (or ignored), by question type. */
  queries: Record<string, number>;
  close(): Promise<void>;
}

/** An empty zone with Route 53's answer limits. */
export function emptyZone(): DnsZone {
  return { hosts: new Map(), ptr: new Map(), maxAnswers: 8, ttl: 60 };
}

/**
 * Start a DNS server on loopback (UDP, port chosen by the OS) answering A, AAAA
 * and PTR from `zone`. Answers longer than `maxAnswers` rotate from one query to
 * the next, as Route 53's do; names not in the zone get NXDOMAIN.
 */
export async function startDnsServer(zone: DnsZone, host = '127.0.0.1'): Promise<RunningDnsServer> {
  const rotation = new Map<string, number>();
  const queries: Record<string, number> = {};
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const question = request.questions[0];
      if (!question) return;
      const name = question.name.toLowerCase().replace(/\.$/, '');
      const typeName =
        question.type === Packet.TYPE.A
          ? 'A'
          : question.type === Packet.TYPE.AAAA
            ? 'AAAA'
            : question.type === Packet.TYPE.PTR
              ? 'PTR'
              : question.type === Packet.TYPE.CNAME
                ? 'CNAME'
                : String(question.type);
      queries[typeName] = (queries[typeName] ?? 0) + 1;

      if (question.type === Packet.TYPE.PTR) {
        const ip = ipFromReverseName(name);
        const fail = ip ? zone.ptrFail?.get(ip) : undefined;
        if (fail === 'silent') return;
        const target = ip ? zone.ptr.get(ip) : undefined;
        if (fail === 'servfail') response.header.rcode = RCODE.SERVFAIL;
        else if (target === undefined) response.header.rcode = RCODE.NXDOMAIN;
        else
          response.answers.push({
            name: question.name,
            type: Packet.TYPE.PTR,
            class: Packet.CLASS.IN,
            ttl: zone.ttl,
            domain: target,
          });
        send(response);
        return;
      }
      let records = zone.hosts.get(name);
      if (question.type === Packet.TYPE.CNAME && records?.cnameFail) {
        if (records.cnameFail === 'silent') return;
        response.header.rcode = records.cnameFail === 'nxdomain' ? RCODE.NXDOMAIN : RCODE.SERVFAIL;
        send(response);
        return;
      }
      // CNAME chains (a few hops at most, as resolvers bound them) and aliases.
      for (let hop = 0; hop < 8 && records && (records.cname || records.alias); hop++) {
        const next = (records.cname ?? records.alias) as string;
        if (records.cname) {
          response.answers.push({
            name: hop === 0 ? question.name : (response.answers.at(-1) as { domain: string }).domain,
            type: Packet.TYPE.CNAME,
            class: Packet.CLASS.IN,
            ttl: zone.ttl,
            domain: next,
          });
          if (question.type === Packet.TYPE.CNAME) break;
        }
        records = zone.hosts.get(next);
      }
      if (question.type === Packet.TYPE.CNAME) {
        // A name that fails, fails for every type (SERVFAIL, NXDOMAIN or silence); one without a CNAME has NODATA.
        if (response.answers.length === 0) {
          if (records?.fail === 'silent') return;
          response.header.rcode =
            !records || records.fail === 'nxdomain'
              ? RCODE.NXDOMAIN
              : records.fail === 'servfail'
                ? RCODE.SERVFAIL
                : RCODE.NOERROR;
        }
        send(response);
        return;
      }
      if (records?.fail === 'silent') return;
      if (!records || records.fail === 'nxdomain') response.header.rcode = RCODE.NXDOMAIN;
      else if (records.fail === 'servfail') response.header.rcode = RCODE.SERVFAIL;
      else {
        const family = question.type === Packet.TYPE.A ? 'a' : question.type === Packet.TYPE.AAAA ? 'aaaa' : null;
        const all = family ? (records[family] ?? []) : [];
        const owner =
          response.answers.length > 0 ? (response.answers.at(-1) as { domain: string }).domain : question.name;
        const key = `${owner}/${family}`;
        const max = records.maxAnswers ?? zone.maxAnswers;
        const start = rotation.get(key) ?? 0;
        rotation.set(key, start + max);
        for (let i = 0; i < Math.min(all.length, max); i++) {
          const address = all[(start + i) % all.length] as string;
          response.answers.push({
            name: owner,
            type: question.type,
            class: Packet.CLASS.IN,
            ttl: zone.ttl,
            address: family === 'aaaa' ? fullIpv6(address) : address,
          });
        }
      }
      send(response);
    },
  });
  await server.listen({ udp: { port: 0, address: host, type: isIP(host) === 6 ? 'udp6' : 'udp4' } });
  const port = server.addresses().udp?.port;
  if (!port) throw new Error('DNS server did not report its port');
  return {
    address: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`,
    port,
    queries,
    close: async () => {
      await server.close();
    },
  };
}

/** `4.3.2.1.in-addr.arpa` → `1.2.3.4`; nibble `ip6.arpa` names → the full IPv6 address. */
function ipFromReverseName(name: string): string | null {
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
  if (v4) return [v4[4], v4[3], v4[2], v4[1]].join('.');
  const v6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(name);
  if (v6) {
    const hex = (v6[1] as string).split('.').filter(Boolean).reverse().join('');
    return normaliseIpv6(hex.match(/.{4}/g)?.join(':') ?? '');
  }
  return null;
}

/** Eight groups, no `::` and no dotted tail (`::ffff:1.2.3.4`): the only IPv6 spelling dns2's encoder reads right. */
function fullIpv6(ip: string): string {
  const bytes = addressBytes(ip);
  if (bytes?.length !== 16) return ip;
  return Array.from({ length: 8 }, (_, i) =>
    (((bytes[2 * i] as number) << 8) | (bytes[2 * i + 1] as number)).toString(16),
  ).join(':');
}

/** One spelling per IPv6 address, so zone keys and reverse names compare equal. */
function normaliseIpv6(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}
