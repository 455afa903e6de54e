import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyZone, startDnsServer, type RunningDnsServer } from '../../lab/dns/server';
import { toCycleSample } from '../../shared/cycle/sample';
import { createDnsLookup } from '../../shared/nodes/dns';
import { observeNodes } from '../../shared/nodes/observe';
import type { Observation } from '../../shared/nodes/observation';

// DNS answers shaped the way mis-set aliases, broken resolvers and hostile zones
// shape them, from a real DNS server on loopback (the lab's, dns2) through node:dns
// as elbscope asks: nodes come only from the A/AAAA answers of the name asked or of
// the CNAMEs elbscope followed, never carry an address no load balancer node has,
// and what was refused is an error of its source (`dns`, `all`), never a zero.
const zone = emptyZone();
let server: RunningDnsServer;
const OWN = ['52.94.1.1', '52.94.1.2'];
const OTHER = 'other-2.us-east-1.elb.amazonaws.com';
const OTHER_NODES = ['52.94.9.1', '52.94.9.2', '52.94.9.3'];
const lb = (label: string) => `${label}-1.us-east-1.elb.amazonaws.com`;

beforeAll(async () => {
  zone.hosts.set(OTHER, { a: OTHER_NODES });
  zone.hosts.set(`all.${OTHER}`, { a: OTHER_NODES, maxAnswers: 64 });
  server = await startDnsServer(zone);
});
afterAll(async () => server.close());

const observe = (dnsName: string, allowLoopback = false) =>
  observeNodes(
    { dnsName },
    {
      dns: createDnsLookup({ servers: [server.address], timeoutMs: 300, tries: 1 }),
      enis: null,
      now: () => new Date('2026-11-25T10:00:00Z'),
    },
    { queries: 1, allowLoopback },
  );
const ips = (o: Observation) => o.nodes.map((n) => n.ip).sort();
const sampleOf = (o: Observation) =>
  toCycleSample(
    {
      name: 'x',
      identity: { key: 'x', account: null, region: 'us-east-1', name: 'x', arn: null, kind: null },
      observation: o,
      backends: [],
    },
    o.observedAt,
  );

describe('all.<name> that is a CNAME', () => {
  it("to another load balancer: a finding naming it, and none of that load balancer's nodes", async () => {
    zone.hosts.set(lb('merged'), { a: OWN });
    zone.hosts.set(`all.${lb('merged')}`, { cname: OTHER }); // the resolver follows it: A of all. gives OTHER's nodes
    const o = await observe(lb('merged'));
    expect(ips(o)).toEqual(OWN);
    expect(o.errors.filter((e) => e.code !== 'eni-off')).toEqual([
      {
        source: 'all',
        message: `all.${lb('merged')} is a CNAME to ${OTHER}: all.<name> answers with the load balancer's own nodes, and these addresses are another name's (another load balancer's?), so none is taken as a node`,
      },
    ]);
    // What the rules count (ENI lookups off: the nodes DNS advertises) is this load balancer's, not five.
    expect(sampleOf(o).perAz).toEqual({ '(all)': OWN });
  });

  it.each([
    ['no answer', 'silent' as const, 'no answer from the DNS server (timed out)'],
    ['SERVFAIL', 'servfail' as const, 'SERVFAIL from the DNS server'],
  ])(
    'whose CNAME query gets %s while its A query answers: unverified, so not nodes, and said (never a zero)',
    async (_label, fail, why) => {
      const name = lb(`cname-${fail}`);
      zone.hosts.set(name, { a: OWN });
      zone.hosts.set(`all.${name}`, { a: [...OWN, ...OTHER_NODES], maxAnswers: 64, cnameFail: fail });
      const o = await observe(name);
      expect(ips(o)).toEqual(OWN);
      expect(o.errors.filter((e) => e.source === 'all')).toEqual([
        {
          source: 'all',
          message: `all.${name} CNAME: ${why}: whether all.${name} is an alias of another name (another load balancer) is unknown, so its addresses are not taken as nodes`,
        },
      ]);
    },
  );

  it('that does not exist to the CNAME query and answers the A query: inconsistent, so not nodes, and said', async () => {
    const name = lb('cname-nx');
    zone.hosts.set(name, { a: OWN });
    zone.hosts.set(`all.${name}`, { a: OTHER_NODES, maxAnswers: 64, cnameFail: 'nxdomain' });
    const o = await observe(name);
    expect(ips(o)).toEqual(OWN);
    expect(o.errors.filter((e) => e.source === 'all')).toEqual([
      {
        source: 'all',
        message: `all.${name}: NXDOMAIN to the CNAME query, addresses to the A query: an inconsistent answer, so none is taken as a node`,
      },
    ]);
  });
});

describe("The name's own CNAMEs", () => {
  it('a CNAME query that fails while A answers: no address taken, the name did not resolve (observation-failed, never zero nodes)', async () => {
    const name = lb('unverified');
    zone.hosts.set(name, { a: OWN, cnameFail: 'servfail' });
    const o = await observe(name);
    expect(o.nodes).toEqual([]);
    expect(o.errors.filter((e) => e.source === 'dns')).toEqual([
      {
        source: 'dns',
        message: `${name} CNAME: SERVFAIL from the DNS server: whether ${name} is an alias of another name is unknown, so no answer of it is taken as nodes (2 addresses not taken)`,
      },
    ]);
    const sample = sampleOf(o);
    expect(sample.perAz).toBeNull();
    expect(sample.failures.dns).toContain('CNAME: SERVFAIL');
  });

  it('CNAMEs that loop: no address taken, and the loop named', async () => {
    zone.hosts.set('a.loop.example', { cname: 'b.loop.example' });
    zone.hosts.set('b.loop.example', { cname: 'a.loop.example' });
    const o = await observe('a.loop.example');
    expect(o.nodes).toEqual([]);
    expect(o.errors).toContainEqual({
      source: 'dns',
      message:
        'a.loop.example: its CNAMEs loop (a.loop.example -> b.loop.example -> a.loop.example): no address is taken as a node',
    });
  });

  it('more CNAMEs than a resolver follows (8): no address taken, and said', async () => {
    for (let i = 0; i < 10; i++) zone.hosts.set(`c${i}.long.example`, { cname: `c${i + 1}.long.example` });
    zone.hosts.set('c10.long.example', { a: OWN });
    const o = await observe('c0.long.example');
    expect(o.nodes).toEqual([]);
    expect(o.errors).toContainEqual({
      source: 'dns',
      message:
        'c0.long.example: more than 8 CNAMEs (c1.long.example -> c2.long.example -> c3.long.example …): no address is taken as a node',
    });
  });
});

// One address of each class IANA's special-purpose registries (and the multicast and
// reserved space) hold that no load balancer node can have, beside an ordinary one.
const V4: [string, string][] = [
  ['0.0.0.0', '0.0.0.0/8'],
  ['0.1.2.3', '0.0.0.0/8'],
  ['169.254.169.254', '169.254.0.0/16'],
  ['192.0.0.8', '192.0.0.0/24'],
  ['192.0.2.1', '192.0.2.0/24'],
  ['198.51.100.7', '198.51.100.0/24'],
  ['203.0.113.9', '203.0.113.0/24'],
  ['198.18.0.1', '198.18.0.0/16'],
  ['192.31.196.1', '192.31.196.0/24'],
  ['192.52.193.1', '192.52.193.0/24'],
  ['192.88.99.1', '192.88.99.0/24'],
  ['192.175.48.1', '192.175.48.0/24'],
  ['224.0.0.251', '224.0.0.0/4'],
  ['239.255.255.250', '224.0.0.0/4'],
  ['240.0.0.1', '240.0.0.0/4'],
  ['255.255.255.255', '255.255.255.255/32'],
];
const V6: [string, string][] = [
  ['::', '::/128'],
  ['::ffff:10.0.0.1', '::ffff:0:0/96'],
  ['::a00:1', '::/96'],
  ['64:ff9b::a00:1', '64:ff9b::/96'],
  ['64:ff9b:1::1', '64:ff9b:1::/48'],
  ['100::1', '100::/64'],
  ['2001::1', '2001::/23'],
  ['2001:2::1', '2001::/23'],
  ['2001:db8::1', '2001:db8::/32'],
  ['2002:a00:1::1', '2002::/16'],
  ['2620:4f:8000::1', '2620:4f:8000::/48'],
  ['3fff::1', '3fff::/20'],
  ['5f00::1', '5f00::/16'],
  ['fe80::1', 'fe80::/10'],
  ['fec0::1', 'fec0::/10'],
  ['ff02::1', 'ff00::/8'],
  ['4000::1', 'outside the unicast blocks 2000::/3 and fc00::/7'],
];

describe('Addresses no load balancer node has: findings of their source, never nodes', () => {
  it.each(V4)("%s (%s) in the name's A answer and in all.", async (address, block) => {
    const name = lb(`v4-${address.replaceAll('.', '-')}`);
    zone.hosts.set(name, { a: [address, '52.94.3.1'] });
    zone.hosts.set(`all.${name}`, { a: [address, '52.94.3.2'], maxAnswers: 64 });
    const o = await observe(name);
    expect(ips(o)).toEqual(['52.94.3.1', '52.94.3.2']);
    expect(o.errors.filter((e) => e.source === 'dns').map((e) => e.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${esc(`${name} A: ${address} is in ${block} (`)}.*\\): no load balancer node has such an address; not taken as a node$`,
        ),
      ),
    ]);
    expect(o.errors.filter((e) => e.source === 'all').map((e) => e.message)).toEqual([
      expect.stringContaining(`all.${name} A: ${address} is in ${block} (`),
    ]);
  });

  it.each(V6)("%s (%s) in a dualstack name's AAAA answer and in all.ipv6.", async (address, block) => {
    const own = `v6-${V6.findIndex(([a]) => a === address)}-1.us-east-1.elb.amazonaws.com`;
    zone.hosts.set(`dualstack.${own}`, { a: ['52.94.4.1'], aaaa: [address, '2600:1f18::1'] });
    zone.hosts.set(`all.${own}`, { a: ['52.94.4.1'], maxAnswers: 64 });
    zone.hosts.set(`all.ipv6.${own}`, { aaaa: [address, '2600:1f18::2'], maxAnswers: 64 });
    const o = await observe(`dualstack.${own}`);
    expect(ips(o)).toEqual(['2600:1f18::1', '2600:1f18::2', '52.94.4.1']);
    const where = block.startsWith('outside') ? block : `in ${block}`;
    expect(o.errors.filter((e) => e.source === 'dns').map((e) => e.message)).toEqual([
      expect.stringMatching(new RegExp(`^dualstack\\.${esc(own)} AAAA: \\S+ is ${esc(where)} \\(`)),
    ]);
    expect(o.errors.filter((e) => e.source === 'all').map((e) => e.message)).toEqual([
      expect.stringContaining(`all.ipv6.${own} AAAA: `),
    ]);
  });

  it('an answer of nothing but such addresses: the name did not resolve (a failure of dns, never zero nodes)', async () => {
    const name = lb('only-special');
    zone.hosts.set(name, { a: ['0.0.0.0', '169.254.0.1'] });
    const o = await observe(name);
    expect(o.nodes).toEqual([]);
    expect(sampleOf(o).perAz).toBeNull();
    expect(sampleOf(o).failures.dns).toMatch(
      /^only-special-1\.us-east-1\.elb\.amazonaws\.com A: (0\.0\.0\.0|169\.254\.0\.1) is in /,
    );
  });

  it('keeps what an internal load balancer resolves to: RFC 1918, shared 100.64.0.0/10, 198.19.0.0/16 (Amazon VPC ranges), unique-local fc00::/7', async () => {
    const own = 'internal-private-1.us-east-1.elb.amazonaws.com';
    const v4 = [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.254',
      '192.168.0.1',
      '100.64.0.1',
      '100.127.255.254',
      '198.19.0.1',
    ];
    zone.hosts.set(`dualstack.${own}`, { a: v4, aaaa: ['fd00::1', 'fc00::2'] });
    const o = await observe(`dualstack.${own}`);
    expect(ips(o)).toEqual([...v4, 'fc00::2', 'fd00::1'].sort());
    expect(o.errors.filter((e) => e.source === 'dns' || e.source === 'all')).toEqual([]);
  });
});

describe("Loopback (the lab's nodes)", () => {
  const own = 'loop-1.us-east-1.elb.amazonaws.com';
  beforeAll(() => {
    zone.hosts.set(`dualstack.${own}`, { a: ['127.1.1.1'], aaaa: ['::1'] });
  });

  it('is refused without dns.allowLoopbackNodes, and the flag named', async () => {
    const o = await observe(`dualstack.${own}`);
    expect(o.nodes).toEqual([]);
    expect(
      o.errors
        .filter((e) => e.source === 'dns')
        .map((e) => e.message)
        .sort(),
    ).toEqual([
      `dualstack.${own} A: 127.1.1.1 is in 127.0.0.0/8 (loopback, RFC 1122): no load balancer node has such an address (the lab's nodes do: set dns.allowLoopbackNodes to watch one); not taken as a node`,
      `dualstack.${own} AAAA: ::1 is in ::1/128 (loopback, RFC 4291): no load balancer node has such an address (the lab's nodes do: set dns.allowLoopbackNodes to watch one); not taken as a node`,
    ]);
  });

  it('is taken where the configuration says so', async () => {
    const o = await observe(`dualstack.${own}`, true);
    expect(ips(o)).toEqual(['127.1.1.1', '::1']);
    expect(o.errors.filter((e) => e.source === 'dns')).toEqual([]);
  });
});

function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
