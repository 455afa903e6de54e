import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { watchLoop } from '../../cli/commands/watch';
import { CLASSIC_VERSION, V2_VERSION } from '../../lab/elb-api/contract';
import {
  emptyElbApi,
  startElbApi,
  type ElbCall,
  type ElbFault,
  type LabClassicLb,
  type RunningElbApi,
} from '../../lab/elb-api/server';
import { DescribeLoadBalancersCommand as DescribeV2 } from '@aws-sdk/client-elastic-load-balancing-v2';
import { consoleSink } from '../../shared/alerts/sinks';
import { elbClientsByRegion } from '../../shared/aws/elb-clients';
import { createBackendAuthLookup } from '../../shared/backends/auth-policy';
import { createReservationLookup, type Reservation } from '../../shared/capacity/reservation';
import { parseConfig } from '../../shared/config/load';
import { probeConfiguredTls, tlsRoundErrors } from '../../shared/cycle/tls-round';
import { detectTls, type RuleOptions } from '../../shared/detect/rules';
import { toTlsSample } from '../../shared/cycle/sample';
import { emptyMemory } from '../../shared/detect/state';
import { OpenMetrics } from '../../shared/metrics/openmetrics';
import type { DnsLookup } from '../../shared/nodes/dns';
import { localStore } from '../../shared/store/local';
import { errorLine } from '../../shared/errors';
import { createOwnNameLookup } from '../../shared/nodes/own-name';
import { selfSignedCert } from '../helpers/certs';

// ELB API answers a broken proxy, a misconfigured endpoint or an attacker could
// send, through the real SDK clients as elbscope builds them (elbClientsByRegion)
// against the lab's stand-in (its fault mode, after the documented contract's
// checks): the answer when it is the API's, else one named error of at most 500
// characters, never "no reservation", "no load balancer" or "no policy", never a hang.
const ALB_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188';
const NS = (version: string) => `http://elasticloadbalancing.amazonaws.com/doc/${version}/`;
const DEADLINES = { connectionTimeoutMs: 500, requestTimeoutMs: 300 };
const cert = selfSignedCert('backend.lab.internal');
const pem = (file: string) => readFileSync(file, 'utf8');
const spki = new X509Certificate(pem(cert.cert)).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

const api = emptyElbApi();
let endpoint: RunningElbApi;
let backend: Server;
let port = 0;
let reservation: Reservation | null = null;
const saved = {
  v1: process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING,
  v2: process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2,
};

beforeAll(async () => {
  backend = createServer({ cert: pem(cert.cert), key: pem(cert.key) }, (s) => s.end());
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  port = (backend.address() as AddressInfo).port;
  const web: LabClassicLb = {
    name: 'web',
    dnsName: 'web-1.us-east-1.elb.amazonaws.com',
    backendServers: [{ instancePort: port, policyNames: ['auth'] }],
    policies: [
      { name: 'auth', type: 'BackendServerAuthenticationPolicyType', attributes: [['PublicKeyPolicyName', 'key']] },
      { name: 'key', type: 'PublicKeyPolicyType', attributes: [['PublicKey', spki]] },
    ],
  };
  api.classic.push(web);
  api.v2.push({
    arn: ALB_ARN,
    name: 'shop',
    dnsName: 'shop-2.us-east-1.elb.amazonaws.com',
    type: 'application',
    reservation: () => reservation,
  });
  endpoint = await startElbApi(api);
  process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING = endpoint.url;
  process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = endpoint.url;
});
afterAll(async () => {
  process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING = saved.v1;
  process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = saved.v2;
  if (saved.v1 === undefined) delete process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING;
  if (saved.v2 === undefined) delete process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2;
  backend.close();
  await endpoint.close();
});
beforeEach(() => {
  api.faults = {};
  api.failNext = [];
  reservation = {
    capacityUnits: 100,
    decreaseRequestsRemaining: 3,
    azs: {
      'us-east-1a': { state: 'provisioned', reason: null, effectiveUnits: 50 },
      'us-east-1b': { state: 'provisioned', reason: null, effectiveUnits: 50 },
    },
  };
});

/** Clients as elbscope builds them, one attempt each (a fault is one answer), with short deadlines. */
const clients = () => elbClientsByRegion(1, DEADLINES)('us-east-1');
/** The same fault for one call, `times` requests in a row. */
const fault = (call: ElbCall, f: ElbFault, times = 1) =>
  ((api.faults ??= {})[call] = Array.from({ length: times }, () => f));
/** What a lookup gave: its value, or its error as elbscope reports one (its own errors' messages name the call). */
const outcome = <T>(p: Promise<T>): Promise<{ value?: T; error?: string }> =>
  p.then(
    (value) => ({ value }),
    (err: unknown) => ({ error: errorLine(err) }),
  );
const expectError = (out: { value?: unknown; error?: string }, reason: RegExp) => {
  expect(out.error, JSON.stringify(out)).toMatch(reason);
  expect(out.error?.length).toBeLessThanOrEqual(500);
  expect(out.error).not.toMatch(/[<>\n]/); // nothing of the answer raw
};

const html = {
  raw: { status: 200, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' },
};
const empty = { raw: { status: 200, body: '' } };
const json = {
  raw: { status: 200, body: '{"DescribeCapacityReservationResponse":{}}', contentType: 'application/json' },
};
const another = (version: string) => ({
  raw: {
    status: 200,
    body: `<DescribeTagsResponse xmlns="${NS(version)}"><DescribeTagsResult><TagDescriptions/></DescribeTagsResult></DescribeTagsResponse>`,
  },
});
const noResult = (action: string, version: string) => ({
  raw: {
    status: 200,
    body: `<${action}Response xmlns="${NS(version)}"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`,
  },
});
const dtd = {
  mangle: (xml: string) =>
    xml
      .replace('?>', '?><!DOCTYPE r [<!ENTITY x "provisioned">]>')
      .replace(/<Code>provisioned<\/Code>/g, '<Code>&x;</Code>'),
};
const markupError = {
  raw: {
    status: 400,
    body: `<ErrorResponse xmlns="${NS(V2_VERSION)}"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message><b>may not</b></Message></Error><RequestId>r</RequestId></ErrorResponse>`,
  },
};
const throttled = {
  raw: {
    status: 400,
    body: `<ErrorResponse xmlns="${NS(CLASSIC_VERSION)}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
  },
};
const hang = { hang: true } as const;
const mangle = (f: (xml: string) => string) => ({ mangle: f });

describe('DescribeCapacityReservation: a reservation, none, or one named error', () => {
  const lookup = () => outcome(createReservationLookup(clients().elbv2)(ALB_ARN));
  const call = 'v2:DescribeCapacityReservation';

  it('reads a well-formed answer, and one without MinimumLoadBalancerCapacity as "no reservation"', async () => {
    expect((await lookup()).value).toEqual(reservation);
    reservation = null;
    expect((await lookup()).value).toEqual({ capacityUnits: null, decreaseRequestsRemaining: null, azs: {} });
  });

  it.each<[string, ElbFault, RegExp]>([
    [
      'an empty 200',
      empty,
      /^DescribeCapacityReservation \(arn:\S+\): NotTheAnswer: not a DescribeCapacityReservation response: it is empty \(HTTP 200, 0 bytes\)$/,
    ],
    ['an HTML proxy page', html, /not a DescribeCapacityReservation response: its root element is "html"/],
    ['JSON', json, /not a DescribeCapacityReservation response: it is not XML \(JSON\?\)/],
    ["another call's answer", another(V2_VERSION), /its root element is "DescribeTagsResponse"/],
    [
      'the right root without its Result',
      noResult('DescribeCapacityReservation', V2_VERSION),
      /it has no DescribeCapacityReservationResult element/,
    ],
    ['a DTD entity as a state', dtd, /it carries a DTD/],
    [
      'a state AWS does not define',
      mangle((x) => x.replace('<Code>provisioned</Code>', '<Code>active</Code>')),
      /us-east-1a: a state AWS does not define: "active"$/,
    ],
    [
      'a zone without a state',
      mangle((x) => x.replace(/<State><Code>provisioned<\/Code><\/State>/, '')),
      /us-east-1a: a state AWS does not define: \(missing\)$/,
    ],
    [
      'a negative CapacityUnits',
      mangle((x) => x.replace('<CapacityUnits>100</CapacityUnits>', '<CapacityUnits>-5</CapacityUnits>')),
      /CapacityUnits is not a count: -5$/,
    ],
    [
      'a fractional DecreaseRequestsRemaining',
      mangle((x) =>
        x.replace(
          '<DecreaseRequestsRemaining>3</DecreaseRequestsRemaining>',
          '<DecreaseRequestsRemaining>2.5</DecreaseRequestsRemaining>',
        ),
      ),
      /DecreaseRequestsRemaining is not a count: 2\.5$/,
    ],
    [
      'a MinimumLoadBalancerCapacity without CapacityUnits',
      mangle((x) => x.replace('<CapacityUnits>100</CapacityUnits>', '')),
      /MinimumLoadBalancerCapacity has no CapacityUnits$/,
    ],
    [
      'the same AZ twice',
      mangle((x) =>
        x.replace('<AvailabilityZone>us-east-1b</AvailabilityZone>', '<AvailabilityZone>us-east-1a</AvailabilityZone>'),
      ),
      /us-east-1a is listed twice in CapacityReservationState$/,
    ],
    [
      'an AZ that is not one',
      mangle((x) =>
        x.replace(
          '<AvailabilityZone>us-east-1b</AvailabilityZone>',
          '<AvailabilityZone>&lt;img&gt;</AvailabilityZone>',
        ),
      ),
      /an availability zone that is not one: "\\u003cimg\\u003e"$/,
    ],
    [
      'a zone without an AZ',
      mangle((x) => x.replace('<AvailabilityZone>us-east-1b</AvailabilityZone>', '')),
      /an availability zone that is not one: \(missing\)$/,
    ],
    [
      'negative EffectiveCapacityUnits',
      mangle((x) =>
        x.replace(
          '<EffectiveCapacityUnits>50</EffectiveCapacityUnits>',
          '<EffectiveCapacityUnits>-1</EffectiveCapacityUnits>',
        ),
      ),
      /us-east-1a EffectiveCapacityUnits is not a number of units: -1$/,
    ],
    [
      'a LastModifiedTime that is no time',
      mangle((x) =>
        x.replace(
          '<CapacityReservationState>',
          '<LastModifiedTime>yesterday</LastModifiedTime><CapacityReservationState>',
        ),
      ),
      /Invalid RFC3339 timestamp format yesterday$/,
    ], // the SDK's own refusal
    ['an error message with markup', markupError, /^DescribeCapacityReservation \(arn:\S+\): AccessDenied: may not$/],
    ['no answer within the deadline', hang, /exceeded the configured 300 ms requestTimeout/],
  ])('%s', async (_label, f, reason) => {
    fault(call, f);
    expectError(await lookup(), reason);
  });

  it("keeps a zone's Reason as one line of text, its markup neutralised", async () => {
    reservation!.azs['us-east-1a'] = {
      state: 'failed',
      reason: 'INSUFFICIENT_CAPACITY\n<script>x</script>',
      effectiveUnits: 0,
    };
    expect((await lookup()).value).toMatchObject({
      azs: { 'us-east-1a': { state: 'failed', reason: 'INSUFFICIENT_CAPACITY ‹script›x‹/script›' } },
    });
  });
});

describe('DescribeLoadBalancers v1 and v2 (own DNS name): the load balancer asked, or one named error', () => {
  const lookup = (query: { name?: string; arn?: string }) => outcome(createOwnNameLookup(clients())(query));

  it('reads well-formed answers; "not found" on both APIs is an answer', async () => {
    expect((await lookup({ arn: ALB_ARN })).value).toBe('shop-2.us-east-1.elb.amazonaws.com');
    expect((await lookup({ name: 'web' })).value).toBe('web-1.us-east-1.elb.amazonaws.com');
    expectError(await lookup({ name: 'gone' }), /^no Classic, application or network load balancer is named "gone"/);
  });

  it('the stand-in still holds requests to the contract: a fault waits for a request AWS would serve', async () => {
    fault('v2:DescribeLoadBalancers', html);
    await expect(clients().elbv2.send(new DescribeV2({ PageSize: 401 }))).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/between 1 and 400/),
    });
    expect(api.faults?.['v2:DescribeLoadBalancers']).toHaveLength(1);
    expectError(await lookup({ arn: ALB_ARN }), /its root element is "html"/);
  });

  it.each<[string, { name?: string; arn?: string }, ElbCall, ElbFault, RegExp]>([
    [
      'v2 by ARN: an HTML page',
      { arn: ALB_ARN },
      'v2:DescribeLoadBalancers',
      html,
      /^DescribeLoadBalancers \(arn:\S+\): NotTheAnswer: not a DescribeLoadBalancers response: its root element is "html"/,
    ],
    [
      'v2 by ARN: an empty 200',
      { arn: ALB_ARN },
      'v2:DescribeLoadBalancers',
      empty,
      /not a DescribeLoadBalancers response: it is empty/,
    ],
    [
      'v2 by ARN: an empty list',
      { arn: ALB_ARN },
      'v2:DescribeLoadBalancers',
      mangle((x) => x.replace(/<LoadBalancers>.*<\/LoadBalancers>/, '<LoadBalancers/>')),
      /the answer describes 0 load balancers, not the one asked/,
    ],
    [
      'v2 by ARN: another load balancer',
      { arn: ALB_ARN },
      'v2:DescribeLoadBalancers',
      mangle((x) => x.replace('/shop/', '/other/')),
      /the answer describes another load balancer \(LoadBalancerArn "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer\/app\/other\//,
    ],
    [
      'v2 by ARN: no DNSName',
      { arn: ALB_ARN },
      'v2:DescribeLoadBalancers',
      mangle((x) => x.replace(/<DNSName>.*<\/DNSName>/, '')),
      /the answer's DNSName \(missing\) is not a load balancer DNS name/,
    ],
    [
      'v2 by ARN: a DNSName with markup',
      { arn: ALB_ARN },
      'v2:DescribeLoadBalancers',
      mangle((x) => x.replace(/<DNSName>.*<\/DNSName>/, '<DNSName>&lt;a href=x&gt;</DNSName>')),
      /the answer's DNSName "\\u003ca href=x\\u003e" is not a load balancer DNS name/,
    ],
    [
      'v2 by name: an empty list instead of LoadBalancerNotFound',
      { name: 'shop' },
      'v2:DescribeLoadBalancers',
      mangle((x) => x.replace(/<LoadBalancers>.*<\/LoadBalancers>/, '<LoadBalancers/>')),
      /DescribeLoadBalancers \(shop\): the answer describes 0 load balancers/,
    ],
    [
      'v2 by name: two load balancers',
      { name: 'shop' },
      'v2:DescribeLoadBalancers',
      mangle((x) => x.replace(/(<member>.*<\/member>)/, '$1$1')),
      /the answer describes 2 load balancers/,
    ],
    [
      'Classic by name: an empty list instead of LoadBalancerNotFound',
      { name: 'web' },
      'classic:DescribeLoadBalancers',
      mangle((x) =>
        x.replace(/<LoadBalancerDescriptions>.*<\/LoadBalancerDescriptions>/, '<LoadBalancerDescriptions/>'),
      ),
      /DescribeLoadBalancers \(Classic, web\): the answer describes 0 load balancers/,
    ],
    [
      'Classic by name: another document',
      { name: 'web' },
      'classic:DescribeLoadBalancers',
      another(CLASSIC_VERSION),
      /DescribeLoadBalancers \(Classic, web\): NotTheAnswer: .*its root element is "DescribeTagsResponse"/,
    ],
    [
      'Classic by name: throttled',
      { name: 'web' },
      'classic:DescribeLoadBalancers',
      throttled,
      /DescribeLoadBalancers \(Classic, web\): Throttling: Rate exceeded/,
    ],
    [
      'Classic by name: no answer within the deadline',
      { name: 'web' },
      'classic:DescribeLoadBalancers',
      hang,
      /DescribeLoadBalancers \(Classic, web\): .*exceeded the configured 300 ms requestTimeout/,
    ],
  ])('%s', async (_label, query, call, f, reason) => {
    fault(call, f);
    expectError(await lookup(query), reason);
  });
});

describe('DescribeLoadBalancers (Classic) and DescribeLoadBalancerPolicies: the policies, or one named error', () => {
  const lookup = () => outcome(createBackendAuthLookup(clients().elb)('web'));

  it('reads the keys for the port; an unknown name is null (no Classic ELB of that name)', async () => {
    expect((await lookup()).value).toEqual(new Map([[port, [spki]]]));
    expect(await createBackendAuthLookup(clients().elb)('gone')).toBeNull();
  });

  it.each<[string, ElbCall, ElbFault, RegExp]>([
    [
      'an HTML page',
      'classic:DescribeLoadBalancers',
      html,
      /^DescribeLoadBalancers \(Classic, web\): NotTheAnswer: not a DescribeLoadBalancers response: its root element is "html"/,
    ],
    [
      'an empty list instead of LoadBalancerNotFound',
      'classic:DescribeLoadBalancers',
      mangle((x) =>
        x.replace(/<LoadBalancerDescriptions>.*<\/LoadBalancerDescriptions>/, '<LoadBalancerDescriptions/>'),
      ),
      /the answer describes 0 load balancers, not the one asked/,
    ],
    [
      'no BackendServerDescriptions (unknown, not "no policy")',
      'classic:DescribeLoadBalancers',
      mangle((x) => x.replace(/<BackendServerDescriptions>.*<\/BackendServerDescriptions>/, '')),
      /the answer has no BackendServerDescriptions/,
    ],
    [
      'a backend description without its InstancePort',
      'classic:DescribeLoadBalancers',
      mangle((x) => x.replace(/<InstancePort>\d+<\/InstancePort>/, '')),
      /BackendServerDescriptions #1 has no InstancePort 1-65535 \(\(missing\)\)/,
    ],
    [
      'a backend description without PolicyNames',
      'classic:DescribeLoadBalancers',
      mangle((x) => x.replace(/<PolicyNames>.*<\/PolicyNames>/, '')),
      /the answer has no PolicyNames of instance port \d+/,
    ],
    [
      'policies: an empty 200',
      'classic:DescribeLoadBalancerPolicies',
      empty,
      /^DescribeLoadBalancerPolicies \(web\): NotTheAnswer: not a DescribeLoadBalancerPolicies response: it is empty/,
    ],
    [
      'policies: no PolicyDescriptions',
      'classic:DescribeLoadBalancerPolicies',
      mangle((x) => x.replace(/<PolicyDescriptions>.*<\/PolicyDescriptions>/, '')),
      /DescribeLoadBalancerPolicies \(web\): the answer has no PolicyDescriptions/,
    ],
    [
      'policies: no PolicyTypeName',
      'classic:DescribeLoadBalancerPolicies',
      mangle((x) => x.replace('<PolicyTypeName>BackendServerAuthenticationPolicyType</PolicyTypeName>', '')),
      /the PolicyTypeName of "auth" is missing/,
    ],
    [
      "policies: the port's policy not described",
      'classic:DescribeLoadBalancerPolicies',
      mangle((x) => x.replace('<PolicyName>auth</PolicyName>', '<PolicyName>other</PolicyName>')),
      /instance port \d+ names policy "auth", which the answer does not describe/,
    ],
    [
      'policies: the key policy not described',
      'classic:DescribeLoadBalancerPolicies',
      mangle((x) => x.replace('<PolicyName>key</PolicyName>', '<PolicyName>other</PolicyName>')),
      /authentication policy "auth" names policy "key", which the answer does not describe/,
    ],
    [
      'policies: the key policy without its PublicKey',
      'classic:DescribeLoadBalancerPolicies',
      mangle((x) => x.replace('<AttributeName>PublicKey</AttributeName>', '<AttributeName>Other</AttributeName>')),
      /PublicKeyPolicyType "key" has no PublicKey/,
    ],
    [
      'policies: no attributes on the authentication policy',
      'classic:DescribeLoadBalancerPolicies',
      mangle((x) =>
        x.replace(
          /(<PolicyTypeName>BackendServerAuthenticationPolicyType<\/PolicyTypeName>)<PolicyAttributeDescriptions>.*?<\/PolicyAttributeDescriptions>/,
          '$1',
        ),
      ),
      /the answer has no PolicyAttributeDescriptions of "auth"/,
    ],
    [
      'policies: an error message with markup',
      'classic:DescribeLoadBalancerPolicies',
      { raw: { status: 400, body: markupError.raw.body.replace(NS(V2_VERSION), NS(CLASSIC_VERSION)) } },
      /^DescribeLoadBalancerPolicies \(web\): AccessDenied: may not$/,
    ],
  ])('%s', async (_label, call, f, reason) => {
    fault(call, f);
    expectError(await lookup(), reason);
  });
});

describe('The TLS round: a back-end authentication lookup that fails is an observation error, recorded', () => {
  const options: RuleOptions = {
    confirm: { m: 1, n: 1 },
    tlsConfirm: { m: 2, n: 3 },
    repeatAfterMs: 3_600_000,
    pressureShare: 0.5,
    certWarningDays: 21,
  };
  const config = () =>
    parseConfig(
      {
        loadBalancers: [
          {
            dnsName: 'web-1.us-east-1.elb.amazonaws.com',
            backends: [{ name: 'b', tls: { target: `127.0.0.1:${port}` } }],
          },
        ],
      },
      'test',
    );
  const round = () =>
    probeConfiguredTls(
      config(),
      () => new Date(),
      () => createBackendAuthLookup(clients().elb),
    );

  it.each<[string, ElbFault, RegExp]>([
    ['throttled', throttled, /^DescribeLoadBalancers \(Classic, web\): Throttling: Rate exceeded$/],
    [
      'an HTML page',
      html,
      /^DescribeLoadBalancers \(Classic, web\): NotTheAnswer: not a DescribeLoadBalancers response: its root element is "html"/,
    ],
    [
      'no answer within the deadline',
      hang,
      /^DescribeLoadBalancers \(Classic, web\): .*exceeded the configured 300 ms requestTimeout/,
    ],
  ])('%s: an error of source backend-auth, the keys unknown (never "no policy")', async (_label, f, reason) => {
    fault('classic:DescribeLoadBalancers', f);
    const results = await round();
    expect(results).toHaveLength(1);
    expect(results[0]?.authKeys).toBeUndefined();
    expect(results[0]?.authError).toMatch(reason);
    expect(tlsRoundErrors(results)).toEqual([
      {
        loadBalancer: 'web-1.us-east-1.elb.amazonaws.com',
        source: 'backend-auth',
        message: expect.stringMatching(reason),
      },
    ]);
    expect(toTlsSample(results, '2026-11-27T10:00:00.000Z').failures).toEqual({
      'backend-auth': results[0]?.authError,
    });
  });

  it('not found: said in the findings (the load balancer may be Classic), neither an error nor "no policy"', async () => {
    api.classic[0]!.name = 'renamed';
    try {
      const results = await round();
      expect(results[0]?.authKeys).toBeUndefined();
      expect(results[0]?.authError).toBeUndefined();
      expect(results[0]?.finding.findings).toContain(
        'back-end authentication not checked: DescribeLoadBalancers (Classic) knows no load balancer named "web" (an ALB has no such policies; a Classic ELB should be found)',
      );
    } finally {
      api.classic[0]!.name = 'web';
    }
  });

  it('a custom DNS name with no "name": said in the findings (nothing names it to the ELB API), never a silent skip', async () => {
    const custom = parseConfig(
      {
        loadBalancers: [
          {
            dnsName: 'shop.example.com',
            region: 'us-east-1',
            backends: [{ name: 'b', tls: { target: `127.0.0.1:${port}` } }],
          },
        ],
      },
      'test',
    );
    const results = await probeConfiguredTls(
      custom,
      () => new Date(),
      () => createBackendAuthLookup(clients().elb),
    );
    expect(results[0]?.authKeys).toBeUndefined();
    expect(results[0]?.finding.findings).toContain(
      'back-end authentication not checked: nothing names shop.example.com to the ELB API (a name of your own, read without DNS here); set "name" if it is a Classic ELB',
    );
  });

  it('fires observation-failed backend-auth M of N rounds, holds the key rule, and resolves with recovered', async () => {
    const state = emptyMemory();
    state.kind = 'classic';
    let minute = 0;
    const next = async (f?: ElbFault) => {
      if (f) fault('classic:DescribeLoadBalancers', f);
      const results = await round();
      return detectTls(
        state,
        toTlsSample(results, new Date(Date.UTC(2026, 10, 27, 10, ++minute)).toISOString()),
        'web',
        options,
      ).map((e) => [e.kind, e.status, e.details.source ?? null]);
    };
    expect(await next()).toEqual([]); // policies read: the key is accepted
    expect(await next(throttled)).toEqual([]); // 1 of 3: not confirmed
    expect(await next(html)).toEqual([['observation-failed', 'firing', 'backend-auth']]); // 2 of 3
    expect(await next(hang)).toEqual([]); // still firing, no repeat within the hour; no backend-key-rejected from an unknown
    expect(await next()).toEqual([]); // 2 of the last 3 still failed
    expect(await next()).toEqual([['recovered', 'event', 'backend-auth']]);
  });
});

describe("watch: the TLS round's observation errors are said and counted", () => {
  it('prints a failed policy lookup, counts it on /metrics (source tls), and records observation-failed backend-auth', async () => {
    const config = parseConfig(
      {
        loadBalancers: [
          {
            dnsName: 'web-1.us-east-1.elb.amazonaws.com',
            backends: [{ name: 'b', tls: { target: `127.0.0.1:${port}` } }],
          },
        ],
        detect: { confirm: { m: 1, n: 1 } },
      },
      'test',
    );
    const refused = () => Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    const dns = { resolve4: refused, resolve6: refused, reverse: refused, resolveCname: refused } as DnsLookup; // the node cycle is not what this is about
    const deps = {
      dns,
      enisFor: null,
      now: () => new Date(),
      backendAuthFor: () => createBackendAuthLookup(clients().elb),
    };
    const warnings: string[] = [];
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-tls-round-')));
    const metrics = new OpenMetrics();
    fault('classic:DescribeLoadBalancers', html);
    await watchLoop(
      config,
      deps,
      { store, sink: consoleSink(() => {}), now: deps.now, claimant: 't', warn: (m) => warnings.push(m) },
      {
        interval: 1000,
        cycles: 1,
        tlsEveryMs: 0,
        signal: new AbortController().signal,
        metrics,
        print: () => {},
      },
    );
    expect(warnings).toEqual([
      expect.stringMatching(
        /^TLS round: web-1\.us-east-1\.elb\.amazonaws\.com backend-auth: DescribeLoadBalancers \(Classic, web\): NotTheAnswer: not a DescribeLoadBalancers response: its root element is "html"/,
      ),
    ]);
    expect(
      (await metrics.page('openmetrics')).body.match(
        /^elbscope_observation_failures_total\{source="tls"\} (\d+)$/m,
      )?.[1],
    ).toBe('1');
    const trail = await store.listTrail('web');
    expect(JSON.stringify(trail)).toContain(
      'web backend-auth observation failing: DescribeLoadBalancers (Classic, web): NotTheAnswer',
    );
  });
});
