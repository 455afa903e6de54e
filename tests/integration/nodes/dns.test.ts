import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyZone, startDnsServer, type RunningDnsServer } from '../../../lab/dns/server';
import { createDnsLookup } from '../../../shared/nodes/dns';
import { observeNodes } from '../../../shared/nodes/observe';

// A real DNS server on loopback (dns2, UDP), queried through node:dns's Resolver.
const zone = emptyZone();
let server: RunningDnsServer;
const now = () => new Date('2026-11-25T10:02:00Z');

const BIG = 'big-738445577.us-east-1.elb.amazonaws.com';
const bigIps = Array.from({ length: 11 }, (_, i) => `52.95.100.${i + 1}`);
const DUAL = 'dualstack.dual-1.us-west-2.elb.amazonaws.com';
const ODD = 'odd-1.us-east-1.elb.amazonaws.com';
// A dualstack load balancer with 10 nodes: one answer holds 8 of each family.
const WIDE = 'wide-5.us-west-2.elb.amazonaws.com';
const wide4 = Array.from({ length: 10 }, (_, i) => `52.94.2.${100 + i}`);
const wide6 = Array.from({ length: 10 }, (_, i) => `2600:1f18::${(0x100 + i).toString(16)}`);

beforeAll(async () => {
  zone.hosts.set(BIG, { a: bigIps });
  zone.hosts.set(`all.${BIG}`, { a: [...bigIps, '52.95.100.200'], maxAnswers: 64 });
  for (const ip of bigIps) zone.ptr.set(ip, `ec2-${ip.replaceAll('.', '-')}.compute-1.amazonaws.com`);
  zone.hosts.set(DUAL, { a: ['52.94.2.10'], aaaa: ['2600:1f18::10'] });
  zone.ptr.set('52.94.2.10', 'ec2-52-94-2-10.us-west-2.compute.amazonaws.com');
  zone.hosts.set(`dualstack.${WIDE}`, { a: wide4, aaaa: wide6 });
  zone.hosts.set(`ipv6.${WIDE}`, { aaaa: wide6 });
  zone.hosts.set(`all.${WIDE}`, { a: wide4, maxAnswers: 64 });
  zone.hosts.set(`all.ipv6.${WIDE}`, { aaaa: wide6, maxAnswers: 64 });
  zone.hosts.set(ODD, { a: ['52.94.2.20', '52.94.2.21', '52.94.2.22'] });
  zone.ptr.set('52.94.2.20', 'ec2-52-94-2-99.compute-1.amazonaws.com'); // embeds another IP
  zone.ptr.set('52.94.2.21', 'host.example.net'); // not EC2's form
  // 52.94.2.22 has no PTR at all
  zone.hosts.set('servfail-1.us-east-1.elb.amazonaws.com', { fail: 'servfail' });
  zone.hosts.set('silent-1.us-east-1.elb.amazonaws.com', { fail: 'silent' });
  zone.hosts.set('empty-1.us-east-1.elb.amazonaws.com', {});
  // PTR lookups that fail, not that find nothing: SERVFAIL, and no answer at all.
  zone.hosts.set('ptrfail-1.us-east-1.elb.amazonaws.com', { a: ['52.94.2.30', '52.94.2.31', '52.94.2.32'] });
  zone.ptrFail = new Map([
    ['52.94.2.30', 'servfail'],
    ['52.94.2.31', 'silent'],
  ]);
  server = await startDnsServer(zone);
});
afterAll(async () => server.close());

function observe(dnsName: string, queries = 4) {
  const dns = createDnsLookup({ servers: [server.address], timeoutMs: 300, tries: 1 });
  return observeNodes({ dnsName }, { dns, enis: null, now }, { queries });
}

describe('Function: observeNodes against a real DNS server', () => {
  it('unions rotating 8-record answers until every node is seen, and marks all. sources', async () => {
    const o = await observe(BIG, 2);
    const dnsIps = o.nodes.filter((n) => n.sources.includes('dns')).map((n) => n.ip);
    expect(new Set(dnsIps)).toEqual(new Set(bigIps));
    // One answer alone would not have held them all:
    expect(bigIps.length).toBeGreaterThan(zone.maxAnswers);
    expect(o.nodes.find((n) => n.ip === '52.95.100.200')?.sources).toEqual(['all']);
    expect(o.nodes.find((n) => n.ip === '52.95.100.1')).toMatchObject({
      sources: ['dns', 'all'],
      hostname: 'ec2-52-95-100-1.compute-1.amazonaws.com',
      region: 'us-east-1',
      findings: [],
    });
  });

  it('sees only 8 of 11 with a single query (why elbscope queries more than once)', async () => {
    const o = await observe(BIG, 1);
    expect(o.nodes.filter((n) => n.sources.includes('dns'))).toHaveLength(8);
  });

  it('tells a PTR lookup that failed (SERVFAIL, timeout: an error) from a missing PTR record (a finding)', async () => {
    const o = await observe('ptrfail-1.us-east-1.elb.amazonaws.com', 1);
    expect(o.nodes.map((n) => [n.ip, n.findings])).toEqual([
      ['52.94.2.30', []],
      ['52.94.2.31', []],
      ['52.94.2.32', ['no PTR record']],
    ]);
    expect(
      o.errors
        .filter((e) => e.source === 'ptr')
        .map((e) => e.message)
        .sort(),
    ).toEqual([
      '52.94.2.30 PTR: SERVFAIL from the DNS server',
      '52.94.2.31 PTR: no answer from the DNS server (timed out)',
    ]);
  });

  it('resolves A and AAAA of a dualstack name, regions from the PTR name', async () => {
    const o = await observe(DUAL, 1);
    expect(o.nodes.map((n) => [n.ip, n.family])).toEqual([
      ['52.94.2.10', 4],
      ['2600:1f18::10', 6],
    ]);
    expect(o.nodes[0]).toMatchObject({
      hostname: 'ec2-52-94-2-10.us-west-2.compute.amazonaws.com',
      region: 'us-west-2',
    });
    expect(o.nodes[1]?.findings).toContain('no PTR record');
  });

  it.each([
    [`dualstack.${WIDE}`, [...wide4, ...wide6]],
    [`ipv6.${WIDE}`, wide6],
  ])(
    'asks all. (A) and all.ipv6. (AAAA) of the own name of %s, so one query sees every node of each family',
    async (name, expected) => {
      const o = await observe(name, 1);
      expect(o.errors.filter((e) => e.code !== 'eni-off')).toEqual([]);
      expect(new Set(o.nodes.map((n) => n.ip))).toEqual(new Set(expected));
      expect(o.nodes.filter((n) => n.sources.includes('dns'))).toHaveLength(name.startsWith('ipv6.') ? 8 : 16);
    },
  );

  it('flags a PTR that embeds another IP, a non-EC2 PTR and a missing PTR', async () => {
    const o = await observe(ODD, 1);
    const findings = Object.fromEntries(o.nodes.map((n) => [n.ip, n.findings.filter((f) => !f.startsWith('ENI'))]));
    expect(findings).toEqual({
      '52.94.2.20': ['PTR ec2-52-94-2-99.compute-1.amazonaws.com embeds 52.94.2.99, not the node IP 52.94.2.20'],
      '52.94.2.21': ['PTR host.example.net is not an EC2 host name'],
      '52.94.2.22': ['no PTR record'],
    });
  });

  it.each([
    ['nx-1.us-east-1.elb.amazonaws.com', 'nx-1.us-east-1.elb.amazonaws.com: NXDOMAIN (the name does not exist)'],
    [
      'servfail-1.us-east-1.elb.amazonaws.com',
      'servfail-1.us-east-1.elb.amazonaws.com A: SERVFAIL from the DNS server',
    ],
    [
      'silent-1.us-east-1.elb.amazonaws.com',
      'silent-1.us-east-1.elb.amazonaws.com A: no answer from the DNS server (timed out)',
    ],
    [
      'empty-1.us-east-1.elb.amazonaws.com',
      'empty-1.us-east-1.elb.amazonaws.com: the name exists but has no A or AAAA records',
    ],
  ])('names the failure for %s, with no nodes and no invented zero', async (name, message) => {
    const o = await observe(name, 2);
    expect(o.nodes).toEqual([]);
    expect(o.azs).toEqual({});
    expect(
      o.errors.filter((e) => e.source === 'dns').map((e) => e.message.replace(/ \(\d+ of \d+ queries\)$/, '')),
    ).toContain(message);
  });

  it('reports a DNS server that is not there', async () => {
    const dns = createDnsLookup({ servers: ['127.0.0.1:9'], timeoutMs: 200, tries: 1 });
    const o = await observeNodes({ dnsName: BIG }, { dns, enis: null, now }, { queries: 1 });
    expect(o.nodes).toEqual([]);
    expect(o.errors.some((e) => e.source === 'dns' && e.message.startsWith(`${BIG} A:`))).toBe(true);
  });
});
