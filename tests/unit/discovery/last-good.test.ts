import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeLoadBalancersCommand as DescribeClassicCommand,
  DescribeTagsCommand as DescribeClassicTagsCommand,
  ElasticLoadBalancingClient,
  ElasticLoadBalancingServiceException,
} from '@aws-sdk/client-elastic-load-balancing';
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { discoveringConfig } from '../../../shared/discovery/merge';
import { parseConfig } from '../../../shared/config/load';
import { loadBalancerName } from '../../../shared/config/identity';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoveryRecorder } from '../../../shared/discovery/ledger';
import { DISCOVERY_LEDGER } from '../../../shared/ledger/keys';
import { localStore } from '../../../shared/store/local';
import { listEvents } from '../../../shared/ledger/store';

/** One region's clients, each instance mocked on its own: one Classic ELB tagged for elbscope. */
function region(name: string, lb: string) {
  const clients = {
    elb: new ElasticLoadBalancingClient({ region: name, maxAttempts: 1 }),
    elbv2: new ElasticLoadBalancingV2Client({ region: name, maxAttempts: 1 }),
    ec2: new EC2Client({ region: name, maxAttempts: 1 }),
  };
  const elb = mockClient(clients.elb);
  mockClient(clients.elbv2).on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [] });
  mockClient(clients.ec2).on(DescribeInstancesCommand).resolves({ Reservations: [] });
  const answer = () => {
    elb.reset();
    elb.on(DescribeClassicCommand).resolves({
      LoadBalancerDescriptions: [{ LoadBalancerName: lb, DNSName: `${lb}-1.${name}.elb.amazonaws.com`, Instances: [] }],
    });
    elb
      .on(DescribeClassicTagsCommand)
      .resolves({ TagDescriptions: [{ LoadBalancerName: lb, Tags: [{ Key: 'elbscope', Value: 'watch' }] }] });
  };
  answer();
  return {
    clients,
    throttle: () => {
      elb.reset();
      elb.on(DescribeClassicCommand).rejects(
        new ElasticLoadBalancingServiceException({
          name: 'Throttling',
          message: 'Rate exceeded',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      );
    },
    answer,
  };
}

describe('Function: discoveringConfig', () => {
  it("keeps a throttled region's load balancers watched from its last good answer, says so, and takes the new answer when it comes back", async () => {
    const east = region('us-east-1', 'shop');
    const west = region('us-west-2', 'api');
    const config = parseConfig(
      {
        loadBalancers: [],
        discovery: { regions: ['us-east-1', 'us-west-2'], tags: { elbscope: 'watch' }, refreshMinutes: 15 },
      },
      'test',
    );
    let t = Date.parse('2026-11-27T10:00:00Z');
    const warnings: string[] = [];
    const current = discoveringConfig(
      config,
      (r) => (r === 'us-east-1' ? east.clients : west.clients),
      () => new Date(t),
      (m) => warnings.push(m),
    );
    const names = async () => (await current()).loadBalancers.map(loadBalancerName);

    expect(await names()).toEqual(['shop', 'api']);
    west.throttle();
    t += 15 * 60_000;
    expect(await names()).toEqual(['shop', 'api']); // api is still watched
    expect(warnings).toEqual([
      'discovery in us-west-2: Throttling: Rate exceeded; its 1 load balancer(s) found at 2026-11-27T10:00:00.000Z stay watched',
    ]);
    west.answer();
    t += 15 * 60_000;
    expect(await names()).toEqual(['shop', 'api']);
    expect(warnings).toHaveLength(1);
  });

  it('says when a region has failed from the start (nothing of it can be watched yet)', async () => {
    const east = region('us-east-1', 'shop');
    const west = region('us-west-2', 'api');
    west.throttle();
    const config = parseConfig(
      {
        loadBalancers: [],
        discovery: { regions: ['us-east-1', 'us-west-2'], tags: { elbscope: 'watch' }, refreshMinutes: 15 },
      },
      'test',
    );
    const warnings: string[] = [];
    const current = discoveringConfig(
      config,
      (r) => (r === 'us-east-1' ? east.clients : west.clients),
      () => new Date('2026-11-27T10:00:00Z'),
      (m) => warnings.push(m),
    );
    expect((await current()).loadBalancers.map(loadBalancerName)).toEqual(['shop']);
    expect(warnings).toEqual([
      'discovery in us-west-2: Throttling: Rate exceeded; nothing found there yet, so nothing of it is watched',
    ]);
  });

  it('records discovery-failed once when a region starts failing and resolves it once when it answers, in the store and its outbox', async () => {
    const east = region('us-east-1', 'shop');
    const west = region('us-west-2', 'api');
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-discovery-')));
    const config = parseConfig(
      {
        loadBalancers: [],
        discovery: { regions: ['us-east-1', 'us-west-2'], tags: { elbscope: 'watch' }, refreshMinutes: 15 },
      },
      'test',
    );
    let t = Date.parse('2026-11-27T10:00:00Z');
    const current = discoveringConfig(
      config,
      (r) => (r === 'us-east-1' ? east.clients : west.clients),
      () => new Date(t),
      () => undefined,
      discoveryRecorder(store),
    );
    await current();
    expect(await store.listLoadBalancers()).toEqual([]); // nothing failing: no ledger started
    west.throttle();
    for (let i = 0; i < 3; i++) {
      t += 15 * 60_000;
      await current(); // three failing refreshes: one event
    }
    west.answer();
    t += 15 * 60_000;
    await current();
    const events = (await listEvents(store, DISCOVERY_LEDGER)).map((e) => [
      e.record.kind,
      e.record.status,
      e.record.severity,
      e.record.summary,
    ]);
    expect(events).toEqual([
      [
        'discovery-failed',
        'firing',
        'warning',
        'discovery in us-west-2: Throttling: Rate exceeded; its 1 load balancer(s) stay watched from the last good answer',
      ],
      ['discovery-failed', 'resolved', 'info', 'discovery in us-west-2 works again'],
    ]);
    expect((await store.outbox({ op: 'list' })).map((e) => e.record.kind)).toEqual([
      'discovery-failed',
      'discovery-failed',
    ]);
  });

  it("announces its own ledger's state rebuilt when it did not read (store-record-corrupt), like a load balancer's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-discovery-'));
    const store = localStore(dir);
    const record = discoveryRecorder(store);
    const scope = { key: 'us-west-2', region: 'us-west-2', loadBalancers: [] };
    await record([{ ...scope, error: 'Throttling: Rate exceeded' }], '2026-11-27T10:00:00.000Z', new Map());
    writeFileSync(join(dir, 'loadbalancers', DISCOVERY_LEDGER, 'state.json'), '{"version": 2, "sta');
    await record([{ ...scope, error: null }], '2026-11-27T10:15:00.000Z', new Map());
    expect((await listEvents(store, DISCOVERY_LEDGER)).map((e) => [e.record.kind, e.record.severity])).toEqual([
      ['discovery-failed', 'warning'],
      ['store-record-corrupt', 'critical'],
    ]);
  });
});
