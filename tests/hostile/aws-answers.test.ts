import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEc2Endpoint, type Ec2State, type RunningEc2Endpoint } from '../../lab/ec2/server';
import { consoleSink } from '../../shared/alerts/sinks';
import { ec2ClientsByRegion } from '../../shared/aws/clients';
import { parseConfig } from '../../shared/config/load';
import { recordCycle } from '../../shared/cycle/record';
import { snapshotConfigured } from '../../shared/cycle/snapshot';
import { createDnsLookup } from '../../shared/nodes/dns';
import { createEniLookup } from '../../shared/nodes/eni';
import { describeError } from '../../shared/errors';
import { localStore } from '../../shared/store/local';
import { useLabElb } from '../helpers/lab-elb';

// EC2 answers a broken proxy, a misconfigured endpoint or an attacker could send,
// through the real SDK: ENIs when the answer is EC2's, else one named error —
// never "zero ENIs" (which would fire az-removed for every AZ), never a hang.
const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const wrap = (inner: string) =>
  `<DescribeNetworkInterfacesResponse xmlns="${NS}"><requestId>r</requestId>${inner}</DescribeNetworkInterfacesResponse>`;
const eni = (fields: string) => wrap(`<networkInterfaceSet><item>${fields}</item></networkInterfaceSet>`);
const good =
  '<networkInterfaceId>eni-1</networkInterfaceId><availabilityZone>us-east-1a</availabilityZone><description>ELB web</description><privateIpAddress>10.0.0.1</privateIpAddress>';

const notTheAnswer = (what: RegExp | string) =>
  new RegExp(
    `^NotTheAnswer: not a DescribeNetworkInterfaces response: ${typeof what === 'string' ? what : what.source}`,
  );
const cases: [string, { status: number; body: string }, RegExp][] = [
  ['an empty 200', { status: 200, body: '' }, notTheAnswer('it is empty \\(HTTP 200, 0 bytes\\)$')],
  [
    'an HTML proxy page',
    { status: 200, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' },
    notTheAnswer('its root element is "html"'),
  ],
  [
    'JSON instead of XML',
    { status: 200, body: '{"NetworkInterfaces": []}' },
    notTheAnswer('it is not XML \\(JSON\\?\\)'),
  ],
  [
    "another API's answer",
    { status: 200, body: `<DescribeInstancesResponse xmlns="${NS}"><reservationSet/></DescribeInstancesResponse>` },
    notTheAnswer('its root element is "DescribeInstancesResponse"'),
  ],
  ['the right root, no set', { status: 200, body: wrap('') }, /no networkInterfaceSet/],
  [
    'cut-off XML',
    { status: 200, body: wrap('<networkInterfaceSet><item><networkInterfaceId>eni-1').slice(0, -40) },
    /networkInterfaceSet|parse|Deserialization|Unexpected|closed/i,
  ],
  [
    'an AZ named __proto__',
    { status: 200, body: eni(good.replace('us-east-1a', '__proto__')) },
    /availability zone that is not one: "__proto__"/,
  ],
  [
    'an AZ with markup',
    { status: 200, body: eni(good.replace('us-east-1a', '&lt;script&gt;')) },
    /availability zone that is not one: "\\u003cscript\\u003e"/,
  ],
  [
    'an AZ element holding markup',
    { status: 200, body: eni(good.replace('us-east-1a', '<b>us-east-1a</b>')) },
    /unhandled schema type for AvailabilityZone/,
  ], // the SDK's own refusal
  [
    'no AZ',
    { status: 200, body: eni(good.replace('<availabilityZone>us-east-1a</availabilityZone>', '')) },
    /^Error: DescribeNetworkInterfaces: interface eni-1 has no availability zone; EC2 always sends one$/,
  ],
  [
    'an empty AZ',
    { status: 200, body: eni(good.replace('us-east-1a', '')) },
    /interface eni-1 has no availability zone/,
  ],
  [
    'an AZ that is an undefined entity',
    { status: 200, body: eni(good.replace('us-east-1a', '&az;')) },
    notTheAnswer('it refers to an entity XML does not define \\(&az;\\)'),
  ],
  [
    'a DTD entity as the AZ',
    {
      status: 200,
      body: `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY az "us-east-1a">]>${eni(good.replace('us-east-1a', '&az;'))}`,
    },
    notTheAnswer('it carries a DTD'),
  ],
  [
    'a DTD with no entity used',
    { status: 200, body: `<!DOCTYPE DescribeNetworkInterfacesResponse>${eni(good)}` },
    notTheAnswer('it carries a DTD'),
  ],
  [
    'no id',
    { status: 200, body: eni(good.replace('<networkInterfaceId>eni-1</networkInterfaceId>', '')) },
    /interface #1 on page 1 \(private IP "10\.0\.0\.1"\) has no networkInterfaceId$/,
  ],
  [
    'an id that is not one',
    { status: 200, body: eni(good.replace('eni-1', 'i-&lt;x&gt;')) },
    /a networkInterfaceId that is not one: "i-\\u003cx\\u003e"/,
  ],
  [
    'no description',
    { status: 200, body: eni(good.replace('<description>ELB web</description>', '')) },
    /interface eni-1 has no description/,
  ],
  [
    'a private IP that is not one',
    { status: 200, body: eni(good.replace('10.0.0.1', 'not-an-ip')) },
    /private IP that is not an IPv4 address/,
  ],
  [
    'an IPv6 address as the private IPv4',
    { status: 200, body: eni(good.replace('10.0.0.1', '2001:db8::1')) },
    /private IP that is not an IPv4 address/,
  ],
  [
    'a public IP that is not one',
    { status: 200, body: eni(`${good}<association><publicIp>999.1.1.1</publicIp></association>`) },
    /public IP that is not an IPv4 address/,
  ],
  [
    'an IPv6 entry that is not one',
    {
      status: 200,
      body: eni(`${good}<ipv6AddressesSet><item><ipv6Address>fe80::zz</ipv6Address></item></ipv6AddressesSet>`),
    },
    /IPv6 address that is not an IPv6 address/,
  ],
  ['a 500 with an HTML body', { status: 500, body: '<html>Internal</html>' }, /./],
  [
    'a 503 throttle',
    {
      status: 503,
      body: `<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>slow down</Message></Error></Errors></Response>`,
    },
    /RequestLimitExceeded|slow down/,
  ],
  ['a 403 with an empty body', { status: 403, body: '' }, /./],
  [
    'an unknown error code',
    {
      status: 400,
      body: `<Response><Errors><Error><Code>Weird&lt;Code</Code><Message>${'m'.repeat(5000)}</Message></Error></Errors></Response>`,
    },
    /./,
  ],
  [
    'an error message with markup',
    {
      status: 400,
      body: '<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>a<b>c</b></Message></Error></Errors></Response>',
    },
    /^UnauthorizedOperation: a( c)?$/,
  ], // EC2's reader keeps the text before the markup
  [
    'an error message with escaped markup and lines',
    {
      status: 400,
      body: '<Response><Errors><Error><Code>Blocked</Code><Message>&lt;script&gt;x&lt;/script&gt;\nsecond line</Message></Error></Errors></Response>',
    },
    /^Blocked: ‹script›x‹\/script›$/,
  ],
];

const state: Ec2State = { enis: [], failNext: [], requests: [], rawNext: [] };
let endpoint: RunningEc2Endpoint;
beforeAll(async () => {
  endpoint = await startEc2Endpoint(state);
  process.env.AWS_ENDPOINT_URL_EC2 = endpoint.url;
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_EC2;
  await endpoint.close();
});

describe(`Hostile EC2 answers (${cases.length} cases): ENIs or one named error`, () => {
  it.each(cases)(
    '%s',
    async (_label, answer, reason) => {
      // Each answer on every attempt (the SDK retries 5xx): the lookup must give up, naming it.
      state.rawNext = Array.from({ length: 8 }, () => answer);
      const client = ec2ClientsByRegion(2)('us-east-1');
      const out = await createEniLookup(client)({ descriptions: ['ELB web'] }).then(
        (enis) => ({ enis }),
        (err: Error) => ({ error: describeError(err) }),
      ); // as observe reports it
      client.destroy();
      expect('error' in out, JSON.stringify(out)).toBe(true);
      expect((out as { error: string }).error).toMatch(reason);
      expect((out as { error: string }).error.length).toBeLessThanOrEqual(500);
    },
    20_000,
  );

  it('a page holding more interfaces than MaxResults asked is refused, naming the bound', async () => {
    state.rawNext = [
      {
        status: 200,
        body: wrap(
          `<networkInterfaceSet>${Array.from({ length: 6 }, (_, i) => `<item>${good.replace('eni-1', `eni-${i}`)}</item>`).join('')}</networkInterfaceSet>`,
        ),
      },
    ];
    const client = ec2ClientsByRegion(1)('us-east-1');
    await expect(createEniLookup(client, 5)({ descriptions: ['ELB web'] })).rejects.toThrow(
      /page 1 holds 6 interfaces, more than the 5 asked \(MaxResults\)/,
    );
    client.destroy();
  });

  it('and a well-formed answer is read', async () => {
    state.rawNext = [{ status: 200, body: eni(good) }];
    const client = ec2ClientsByRegion(1)('us-east-1');
    expect(
      (await createEniLookup(client)({ descriptions: ['ELB web'] })).map((e) => [e.eniId, e.az, e.privateIp]),
    ).toEqual([['eni-1', 'us-east-1a', '10.0.0.1']]);
    client.destroy();
  });
});

// The rules' side: a dropped interface used to read as its AZ losing its node ("us-east-1a removed (had 1 node)").
describe("A watch fed an EC2 answer that is not EC2's after a good baseline", () => {
  const running = useLabElb({ name: 'noaz', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 2 } });
  const { lab } = running;

  it('raises no az-removed or scaled event, records an eni observation failure, and keeps the baseline', async () => {
    // Confirm 1 of 1: the most eager rules there are, so one bad answer would be an event at once.
    const config = parseConfig(
      {
        loadBalancers: [{ dnsName: lab.dnsName }],
        dns: { servers: [running.dnsServer], timeoutMs: 1000, tries: 1, allowLoopbackNodes: true },
        detect: { confirm: { m: 1, n: 1 } },
      },
      'test',
    );
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-noaz-')));
    const deps = {
      dns: createDnsLookup(config.dns),
      enisFor: () => createEniLookup(running.ec2),
      now: () => new Date(),
    };
    const record = { store, sink: consoleSink(() => {}), now: () => new Date(), claimant: 't' };
    const cycle = async (m: number) => {
      const snapshots = await snapshotConfigured(config, deps);
      const events = await recordCycle(
        config,
        snapshots,
        new Date(Date.UTC(2026, 10, 27, 10, m)).toISOString(),
        record,
      );
      return {
        errors: snapshots[0]?.observation.errors ?? [],
        events: events.map((e) => [e.kind, e.status, e.details.source ?? e.az]),
      };
    };
    expect((await cycle(0)).events).toEqual([]); // the baseline, silently
    const baseline = (await store.getState('noaz'))?.state.memory.nodes;
    expect(Object.keys(baseline ?? {})).toEqual(['us-east-1a', 'us-east-1b']);

    const mangled = [
      // us-east-1a's only ENI without its AZ
      (xml: string) => xml.replace('<availabilityZone>us-east-1a</availabilityZone>', ''),
      // ... and with an entity a DTD defines in its place
      (xml: string) =>
        xml
          .replace('?>', '?><!DOCTYPE r [<!ENTITY az "us-east-1a">]>')
          .replace('<availabilityZone>us-east-1a</availabilityZone>', '<availabilityZone>&az;</availabilityZone>'),
      // ... and a well-formed answer with no interface at all, while DNS advertises all three nodes
      (xml: string) => xml.replace(/<networkInterfaceSet>[\s\S]*<\/networkInterfaceSet>/, '<networkInterfaceSet/>'),
    ];
    const seen = [];
    for (const [i, mangle] of mangled.entries()) {
      lab.ec2.mangleNext = [mangle];
      seen.push(await cycle(i + 1));
    }
    const events = seen.flatMap((s) => s.events);
    expect(
      events.filter(
        ([kind]) => kind === 'az-removed' || kind === 'scaled' || kind === 'az-added' || kind === 'node-replaced',
      ),
    ).toEqual([]);
    expect(events).toEqual([['observation-failed', 'firing', 'eni']]); // once, still firing in the second
    expect(seen[0]?.errors).toEqual([
      {
        source: 'eni',
        message: expect.stringMatching(
          /^DescribeNetworkInterfaces \(ELB noaz\): .*interface eni-\S+ has no availability zone; EC2 always sends one$/,
        ),
      },
    ]);
    expect(seen[1]?.errors).toEqual([
      {
        source: 'eni',
        message: expect.stringMatching(
          /^DescribeNetworkInterfaces \(ELB noaz\): NotTheAnswer: not a DescribeNetworkInterfaces response: it carries a DTD/,
        ),
      },
    ]);
    expect(seen[2]?.errors).toEqual([
      {
        source: 'eni',
        message: expect.stringMatching(
          /^DescribeNetworkInterfaces: none of the 3 advertised addresses is on one of the 0 ENIs found: the answer contradicts DNS/,
        ),
      },
    ]);
    expect((await store.getState('noaz'))?.state.memory.nodes).toEqual(baseline);

    expect((await cycle(4)).events).toEqual([['recovered', 'event', 'eni']]); // EC2's own answer again: nothing else changed
  });
});
