import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEc2Endpoint, type Ec2State, type RunningEc2Endpoint } from '../../lab/ec2/server';
import { ec2ClientsByRegion } from '../../shared/aws/clients';
import { createEniLookup } from '../../shared/nodes/eni';
import { describeError } from '../../shared/errors';

// EC2 answers a broken proxy, a misconfigured endpoint or an attacker could send,
// through the real SDK: ENIs when the answer is EC2's, else one named error —
// never "zero ENIs" (which would fire az-removed for every AZ), never a hang.
const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const wrap = (inner: string) => `<DescribeNetworkInterfacesResponse xmlns="${NS}"><requestId>r</requestId>${inner}</DescribeNetworkInterfacesResponse>`;
const eni = (fields: string) => wrap(`<networkInterfaceSet><item>${fields}</item></networkInterfaceSet>`);
const good = '<networkInterfaceId>eni-1</networkInterfaceId><availabilityZone>us-east-1a</availabilityZone><description>ELB web</description><privateIpAddress>10.0.0.1</privateIpAddress>';

const cases: [string, { status: number; body: string }, RegExp][] = [
  ['an empty 200', { status: 200, body: '' }, /no networkInterfaceSet/],
  ['an HTML proxy page', { status: 200, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }, /no networkInterfaceSet/],
  ['JSON instead of XML', { status: 200, body: '{"NetworkInterfaces": []}' }, /no networkInterfaceSet|Deserialization|Unexpected|parse/i],
  ['another API\'s answer', { status: 200, body: `<DescribeInstancesResponse xmlns="${NS}"><reservationSet/></DescribeInstancesResponse>` }, /no networkInterfaceSet/],
  ['the right root, no set', { status: 200, body: wrap('') }, /no networkInterfaceSet/],
  ['cut-off XML', { status: 200, body: wrap('<networkInterfaceSet><item><networkInterfaceId>eni-1').slice(0, -40) }, /networkInterfaceSet|parse|Deserialization|Unexpected|closed/i],
  ['an AZ named __proto__', { status: 200, body: eni(good.replace('us-east-1a', '__proto__')) }, /availability zone that is not one: "__proto__"/],
  ['an AZ with markup', { status: 200, body: eni(good.replace('us-east-1a', '&lt;script&gt;')) }, /availability zone that is not one/],
  ['a private IP that is not one', { status: 200, body: eni(good.replace('10.0.0.1', 'not-an-ip')) }, /private IP that is not an IPv4 address/],
  ['an IPv6 address as the private IPv4', { status: 200, body: eni(good.replace('10.0.0.1', '2001:db8::1')) }, /private IP that is not an IPv4 address/],
  ['a public IP that is not one', { status: 200, body: eni(`${good}<association><publicIp>999.1.1.1</publicIp></association>`) }, /public IP that is not an IPv4 address/],
  ['an IPv6 entry that is not one', { status: 200, body: eni(`${good}<ipv6AddressesSet><item><ipv6Address>fe80::zz</ipv6Address></item></ipv6AddressesSet>`) }, /IPv6 address that is not an IPv6 address/],
  ['a 500 with an HTML body', { status: 500, body: '<html>Internal</html>' }, /./],
  ['a 503 throttle', { status: 503, body: `<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>slow down</Message></Error></Errors></Response>` }, /RequestLimitExceeded|slow down/],
  ['a 403 with an empty body', { status: 403, body: '' }, /./],
  ['an unknown error code', { status: 400, body: `<Response><Errors><Error><Code>Weird&lt;Code</Code><Message>${'m'.repeat(5000)}</Message></Error></Errors></Response>` }, /./],
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
  it.each(cases)('%s', async (_label, answer, reason) => {
    // Each answer on every attempt (the SDK retries 5xx): the lookup must give up, naming it.
    state.rawNext = Array.from({ length: 8 }, () => answer);
    const client = ec2ClientsByRegion(2)('us-east-1');
    const out = await createEniLookup(client)({ descriptions: ['ELB web'] }).then((enis) => ({ enis }), (err: Error) => ({ error: describeError(err) })); // as observe reports it
    client.destroy();
    expect('error' in out, JSON.stringify(out)).toBe(true);
    expect((out as { error: string }).error).toMatch(reason);
    expect((out as { error: string }).error.length).toBeLessThanOrEqual(500);
  }, 20_000);

  it('and a well-formed answer is read', async () => {
    state.rawNext = [{ status: 200, body: eni(good) }];
    const client = ec2ClientsByRegion(1)('us-east-1');
    expect((await createEniLookup(client)({ descriptions: ['ELB web'] })).map((e) => [e.eniId, e.az, e.privateIp])).toEqual([['eni-1', 'us-east-1a', '10.0.0.1']]);
    client.destroy();
  });
});
