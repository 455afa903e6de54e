import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSink } from '../../../shared/alerts/sinks';
import { parseConfig } from '../../../shared/config/load';
import { flushOutbox, recordCycle, type RecordDeps } from '../../../shared/cycle/record';
import type { ChainedEvent } from '../../../shared/detect/state';
import { verifyChain } from '../../../shared/store/chain';
import { DynamoDbStore } from '../../../shared/store/dynamodb';
import { LocalStore } from '../../../shared/store/local';
import type { Store } from '../../../shared/store/store';
import { createTable, startDynalite } from '../../helpers/dynalite';
import { nodeSnapshot } from '../../helpers/snapshots';

// Two invocations on one load balancer at once (an overlapping schedule, a retry
// beside the original, two `watch` processes on one store): each cycle, both record
// and flush the same snapshot side by side, through their own store objects. The
// events are decided once, chained once, and each published once.
const DNS = 'web-1.us-east-1.elb.amazonaws.com';
const config = parseConfig({ loadBalancers: [{ dnsName: DNS }], detect: { confirm: { m: 1, n: 1 } }, capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 } }, 'test');
const T0 = Date.parse('2026-11-25T10:00:00Z');
const script = [['10.0.0.1'], ['10.0.0.1', '10.0.0.2'], ['10.0.0.1', '10.0.0.3'], ['10.0.0.1', '10.0.0.3', '10.0.0.4'], ['10.0.0.5', '10.0.0.3', '10.0.0.4']];

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.stop());

describe.each([
  ['a local directory', async (): Promise<() => Store> => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-race-'));
    return () => new LocalStore(dir);
  }],
  ['DynamoDB (dynalite)', async (): Promise<() => Store> => {
    const table = `race-${Math.random().toString(36).slice(2)}`;
    await createTable(dynamo.client, table);
    return () => new DynamoDbStore(dynamo.client, table);
  }],
] as const)('Two writers racing on one load balancer: %s', (_name, open) => {
  it('decides, chains and publishes every event once', async () => {
    const storeFor = await open();
    const published: string[] = [];
    // A publish takes a moment, as SNS's does: the other writer reaches the outbox meanwhile.
    // (On a loaded machine the race may come out sequential instead: the test then checks less, never wrongly.)
    const sink: AlertSink = { description: 'recording', publish: async (e: ChainedEvent) => (published.push(e.id), await new Promise((r) => setTimeout(r, 100)), { messageId: null }) };
    for (let i = 0; i < script.length; i++) {
      const at = new Date(T0 + i * 60_000);
      const deps = (claimant: string): RecordDeps => ({ store: storeFor(), sink, now: () => at, claimant, leaseMs: 60_000 });
      await Promise.all(['a', 'b'].map((c) => recordCycle(config, [nodeSnapshot(DNS, script[i]!)], at.toISOString(), deps(c))));
    }
    await flushOutbox({ store: storeFor(), sink, now: () => new Date(T0 + 3_600_000), claimant: 'late' });
    const store = storeFor();
    const events = await store.listEvents('web');
    expect(events.map((e) => `${e.record.kind} ${e.record.az}`)).toEqual(['scaled us-east-1a', 'node-replaced us-east-1a', 'scaled us-east-1a', 'node-replaced us-east-1a']);
    expect([...published].sort()).toEqual(events.map((e) => e.record.id).sort());
    expect(events.every((e) => e.publishedAt !== null)).toBe(true);
    expect(verifyChain('web', events, (await store.getState('web'))?.state.chain ?? null)).toBeNull();
    expect(await store.listOutbox()).toEqual([]);
  }, 60_000);
});
