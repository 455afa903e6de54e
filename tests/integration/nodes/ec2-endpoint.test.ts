import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DescribeNetworkInterfacesCommand,
  type EC2Client,
  type DescribeNetworkInterfacesCommandInput,
} from '@aws-sdk/client-ec2';
import { startEc2Endpoint, type Ec2State, type RunningEc2Endpoint } from '../../../lab/ec2/server';
import { createEniLookup } from '../../../shared/nodes/eni';
import { ec2ClientsByRegion } from '../../../shared/aws/clients';
import { startSilentServer } from '../../helpers/servers';

// The real SDK (serialisation, endpoint resolution from AWS_ENDPOINT_URL_EC2,
// XML parsing, retries) against the lab's EC2 Query-API endpoint on loopback.
const state: Ec2State = { enis: [], failNext: [], requests: [] };
let endpoint: RunningEc2Endpoint;
let client: EC2Client;

beforeAll(async () => {
  endpoint = await startEc2Endpoint(state);
  process.env.AWS_ENDPOINT_URL_EC2 = endpoint.url;
  client = ec2ClientsByRegion()('us-east-1');
  for (let i = 1; i <= 12; i++) {
    state.enis.push({
      eniId: `eni-${i}`,
      az: `us-east-1${'abc'[i % 3]}`,
      description: 'ELB web',
      privateIp: `10.0.0.${i}`,
      publicIp: `192.0.2.${i}`,
    });
  }
  state.enis.push({ eniId: 'eni-alb', az: 'us-east-1a', description: 'ELB app/web/0123abcd', privateIp: '10.0.9.1' });
  state.enis.push({ eniId: 'eni-other', az: 'us-east-1a', description: 'ELB other', privateIp: '10.0.9.2' });
  state.enis.push({
    eniId: 'eni-user',
    az: 'us-east-1a',
    description: 'ELB web',
    privateIp: '10.0.9.3',
    requesterManaged: false,
  });
});
afterAll(async () => {
  client.destroy();
  delete process.env.AWS_ENDPOINT_URL_EC2;
  await endpoint.close();
});
beforeEach(() => {
  state.requests.length = 0;
  state.failNext.length = 0;
});

describe('EC2 DescribeNetworkInterfaces through the real SDK', () => {
  it('follows every page and applies the description and requester-managed filters', async () => {
    const enis = await createEniLookup(client, 5)({ descriptions: ['ELB web'] });

    expect(enis.map((e) => e.eniId)).toEqual(Array.from({ length: 12 }, (_, i) => `eni-${i + 1}`));
    expect(enis[0]).toEqual({
      eniId: 'eni-1',
      az: 'us-east-1b',
      description: 'ELB web',
      privateIp: '10.0.0.1',
      publicIp: '192.0.2.1',
      ipv6: [],
    });
    expect(state.requests).toHaveLength(3);
    expect(state.requests[0]).toMatchObject({
      Action: 'DescribeNetworkInterfaces',
      'Filter.1.Name': 'description',
      'Filter.1.Value.1': 'ELB web',
      'Filter.2.Name': 'requester-managed',
      'Filter.2.Value.1': 'true',
      MaxResults: '5',
    });
  });

  it('matches ALB descriptions with the wildcard', async () => {
    const enis = await createEniLookup(client)({ descriptions: ['ELB app/web/*'] });
    expect(enis.map((e) => e.eniId)).toEqual(['eni-alb']);
  });

  it('retries throttling, as the SDK standard retry mode does', async () => {
    state.failNext.push({ code: 'RequestLimitExceeded', status: 503, message: 'Request limit exceeded.' });
    const enis = await createEniLookup(client)({ descriptions: ['ELB other'] });
    expect(enis.map((e) => e.eniId)).toEqual(['eni-other']);
    expect(state.requests).toHaveLength(2);
  });

  it('surfaces UnauthorizedOperation with its code', async () => {
    state.failNext.push({
      code: 'UnauthorizedOperation',
      status: 403,
      message: 'You are not authorized to perform this operation.',
    });
    await expect(createEniLookup(client)({ descriptions: ['ELB web'] })).rejects.toMatchObject({
      name: 'UnauthorizedOperation',
    });
  });
});

describe('The lab EC2 endpoint holds DescribeNetworkInterfaces to its documented contract', () => {
  const send = (input: DescribeNetworkInterfacesCommandInput) =>
    client.send(new DescribeNetworkInterfacesCommand(input)).then(
      (out) => `ok ${out.NetworkInterfaces?.length}`,
      (e: { name: string; message: string; $metadata?: { httpStatusCode?: number } }) =>
        `${e.name} ${e.$metadata?.httpStatusCode}: ${e.message}`,
    );
  const values = (n: number) => Array.from({ length: n }, (_, i) => `ELB lb${i}`);

  it('refuses MaxResults outside 5..1000, and with network interface ids', async () => {
    expect(await send({ MaxResults: 4 })).toBe(
      'InvalidParameterValue 400: Value ( 4 ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.',
    );
    expect(await send({ MaxResults: 1001 })).toMatch(/^InvalidParameterValue 400: Value \( 1001 \)/);
    expect(await send({ MaxResults: 5, NetworkInterfaceIds: ['eni-1'] })).toMatch(/^InvalidParameterCombination 400/);
    expect(await send({ MaxResults: 5 })).toBe('ok 5');
  });

  it('refuses more than 200 filter values on one call, counted across filters, and filters it does not know', async () => {
    expect(
      await send({
        Filters: [
          { Name: 'description', Values: values(199) },
          { Name: 'requester-managed', Values: ['true'] },
        ],
      }),
    ).toBe('ok 0');
    expect(
      await send({
        Filters: [
          { Name: 'description', Values: values(200) },
          { Name: 'requester-managed', Values: ['true'] },
        ],
      }),
    ).toBe('FilterLimitExceeded 400: The maximum number of filter values specified on a single call is 200');
    expect(await send({ Filters: [{ Name: 'descriptoin', Values: ['ELB web'] }] })).toBe(
      "InvalidParameterValue 400: The filter 'descriptoin' is invalid",
    );
  });
});

describe('ENI lookups against an EC2 endpoint that misbehaves: an error, never "zero ENIs", never a hang', () => {
  const page = (token: string | null) =>
    `<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><networkInterfaceSet/>${token ? `<nextToken>${token}</nextToken>` : ''}</DescribeNetworkInterfacesResponse>`;
  const lookup = () =>
    createEniLookup(client)({ descriptions: ['ELB web'] }).then(
      (enis) => `${enis.length} ENIs`,
      (e: Error) => e.message,
    );

  it('an HTML proxy page, an empty 200 or another document', async () => {
    for (const body of [
      '<html><body>502 Bad Gateway (proxy)</body></html>',
      '',
      '<?xml version="1.0"?><Other><requestId>x</requestId></Other>',
    ]) {
      state.rawNext = [{ status: 200, body }];
      // Refused by the clients' Query answer guard (shared/answer.ts) before the SDK reads it as "no members".
      expect(await lookup()).toMatch(
        /^not a DescribeNetworkInterfaces response: (its root element is "(html|Other)"|it is empty) \(HTTP 200, \d+ bytes\)$/,
      );
    }
  });

  it('a NextToken handed back again, or never ending', async () => {
    state.rawNext = [
      { status: 200, body: page('t1') },
      { status: 200, body: page('t2') },
      { status: 200, body: page('t1') },
    ];
    expect(await lookup()).toBe('DescribeNetworkInterfaces (ELB web…): NextToken repeated after 2 pages; stopped');
    state.rawNext = Array.from({ length: 60 }, (_, i) => ({ status: 200, body: page(`t${i}`) }));
    expect(await lookup()).toBe('DescribeNetworkInterfaces (ELB web…): still paging after 50 pages of 1000; stopped');
    state.rawNext = [];
    expect(await lookup()).toBe('12 ENIs'); // a well-behaved answer, empty set or not, is still read
  });

  it('an endpoint that accepts and never answers: bounded by the client deadline', async () => {
    const silent = await startSilentServer();
    const saved = process.env.AWS_ENDPOINT_URL_EC2;
    process.env.AWS_ENDPOINT_URL_EC2 = silent.url;
    try {
      const slow = ec2ClientsByRegion(2, { connectionTimeoutMs: 500, requestTimeoutMs: 300 })('us-east-1');
      const out = await createEniLookup(slow)({ descriptions: ['ELB web'] }).then(
        () => 'answered',
        (e: Error) => `${(e as { code?: string }).code ?? e.name}: ${e.message}`,
      );
      expect(out).toMatch(/^ETIMEDOUT: .*exceeded the configured 300 ms requestTimeout/);
      slow.destroy();
    } finally {
      process.env.AWS_ENDPOINT_URL_EC2 = saved;
      await silent.close();
    }
  });
});

describe('ENI values EC2 would never send', () => {
  const withEnis = async (enis: typeof state.enis) => {
    const saved = state.enis;
    state.enis = enis;
    try {
      return await createEniLookup(client)({ descriptions: ['ELB odd'] }).then(
        (e) => `${e.length} ENIs`,
        (e: Error) => e.message,
      );
    } finally {
      state.enis = saved;
    }
  };
  it('an AZ named __proto__ or an IP that is not one fails the lookup, naming the interface; nothing leaks into Object.prototype', async () => {
    expect(await withEnis([{ eniId: 'eni-p', az: '__proto__', description: 'ELB odd', privateIp: '10.0.0.1' }])).toBe(
      'DescribeNetworkInterfaces: interface eni-p has an availability zone that is not one: "__proto__"',
    );
    expect(await withEnis([{ eniId: 'eni-q', az: 'us-east-1a', description: 'ELB odd', privateIp: 'not-an-ip' }])).toBe(
      'DescribeNetworkInterfaces: interface eni-q has a private IP that is not an IPv4 address: "not-an-ip"',
    );
    expect(
      await withEnis([
        {
          eniId: 'eni-r',
          az: 'us-east-1-bos-1a',
          description: 'ELB odd',
          privateIp: '10.0.0.2',
          publicIp: '192.0.2.7',
        },
      ]),
    ).toBe('1 ENIs'); // a Local Zone is an AZ
    expect(({} as Record<string, unknown>).provisioned).toBeUndefined();
  });
});
