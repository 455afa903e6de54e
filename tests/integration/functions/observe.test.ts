import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Context } from 'aws-lambda';
import { LabElb } from '../../../lab/elb';
import { freePort } from '../../helpers/servers';

// The observe Lambda's handler module, loaded as Lambda loads it (config from
// ELBSCOPE_CONFIG at import), calling the lab through the real SDK.
const lab = new LabElb({ name: 'fn', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1c': 2 } });
const context = { functionName: 'elbscope-test-observe', awsRequestId: 'req-1', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:x', memoryLimitInMB: '256', functionVersion: '$LATEST', getRemainingTimeInMillis: () => 50_000 } as unknown as Context;
const scheduledEvent = { 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-11-25T10:02:00Z', detail: {} };

let ec2Url: string;
let dnsServer: string;
beforeAll(async () => {
  ({ ec2Url, dnsServer } = await lab.start());
});
afterAll(async () => {
  delete process.env.ELBSCOPE_CONFIG;
  delete process.env.AWS_ENDPOINT_URL_EC2;
  await lab.stop();
});

async function loadHandler(config: unknown) {
  vi.resetModules();
  process.env.ELBSCOPE_CONFIG = typeof config === 'string' ? config : JSON.stringify(config);
  process.env.AWS_ENDPOINT_URL_EC2 = ec2Url;
  return (await import('../../../functions/observe/handler')).handler;
}

describe('Lambda: observe', () => {
  it('observes every configured load balancer and logs each observation', async () => {
    const logged: string[] = [];
    // Powertools writes INFO to stdout and WARN to stderr.
    const spies = [process.stdout, process.stderr].map((stream) => vi.spyOn(stream, 'write').mockImplementation((chunk) => (logged.push(String(chunk)), true)));
    const handler = await loadHandler({ loadBalancers: [{ dnsName: lab.dnsName }, { dnsName: 'gone-1.us-east-1.elb.amazonaws.com' }], dns: { servers: [dnsServer], timeoutMs: 300, tries: 1 } });

    const result = await handler(scheduledEvent, context);
    for (const spy of spies) spy.mockRestore();

    expect(result).toEqual({ observed: 2, unresolved: ['gone-1.us-east-1.elb.amazonaws.com'], errors: 1 });
    const records = logged.join('').trim().split('\n').map((l) => JSON.parse(l));
    const ok = records.find((r) => r.observation?.loadBalancer === lab.dnsName);
    expect(ok).toMatchObject({ level: 'INFO', message: 'observation', function_request_id: 'req-1' });
    expect(ok.observation.azs).toEqual({ 'us-east-1a': { provisioned: 1, advertised: 1 }, 'us-east-1c': { provisioned: 2, advertised: 2 } });
    expect(records.find((r) => r.observation?.loadBalancer !== lab.dnsName)).toMatchObject({ level: 'WARN' });
  });

  it('fails at cold start with a one-line configuration error', async () => {
    await expect(loadHandler({ loadBalancers: [{ dnsName: lab.dnsName, typo: 1 }] })).rejects.toThrow(/^ELBSCOPE_CONFIG: loadBalancers\[0\]: unknown key\(s\) "typo"$/);
  });
});

describe('Lambda: tls-probe', () => {
  it('probes each configured TLS target and reports the failures', async () => {
    vi.resetModules();
    const closed = `127.0.0.1:${await freePort()}`;
    process.env.ELBSCOPE_CONFIG = JSON.stringify({ loadBalancers: [{ dnsName: lab.dnsName, backends: [{ name: 'i-0abc', tls: { target: closed } }] }] });
    const spies = [process.stdout, process.stderr].map((stream) => vi.spyOn(stream, 'write').mockImplementation(() => true));
    const { handler } = await import('../../../functions/tls-probe/handler');
    const result = await handler(scheduledEvent, context);
    for (const spy of spies) spy.mockRestore();
    expect(result).toEqual({ probed: 1, failed: [`i-0abc (${closed})`] });
  });
});
