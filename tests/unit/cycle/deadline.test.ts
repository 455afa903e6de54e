import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load';
import { cycleDeadlines } from '../../../shared/deadline';
import { recordCycle } from '../../../shared/cycle/record';
import { flushOutbox } from '../../../shared/ledger/flush';
import { snapshotConfigured } from '../../../shared/cycle/snapshot';
import { makeEvent } from '../../../shared/detect/events';
import type { DnsLookup } from '../../../shared/nodes/dns';
import { localStore } from '../../../shared/store/local';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertSink } from '../../../shared/alerts/sinks';

// A cycle that will not finish in time: a clock the test moves (every DNS answer
// costs 10 s of it), no waiting on the wall clock.
describe('Cycle deadlines', () => {
  it('split a budget: new work in the first 60 %, commits and publishes until just before the end', () => {
    expect(cycleDeadlines(0, 50_000)).toEqual({ startBy: 28_800, finishBy: 48_000 });
    expect(cycleDeadlines(0, 1_000)).toEqual({ startBy: 540, finishBy: 900 });
  });

  it('skips the load balancers not started by startBy, says so, commits the others, and publishes nothing after finishBy', async () => {
    let t = Date.parse('2026-11-25T10:00:00Z');
    const now = () => new Date(t);
    const dns: DnsLookup = {
      resolve4: async (name) => {
        t += 10_000;
        return name.startsWith('all.') ? [] : ['52.94.2.1'];
      },
      resolve6: async () => [],
      reverse: async () => ['ec2-52-94-2-1.compute-1.amazonaws.com'],
      resolveCname: async () => Promise.reject(Object.assign(new Error('no data'), { code: 'ENODATA' })),
    };
    const config = parseConfig(
      {
        loadBalancers: ['a', 'b', 'c'].map((n) => ({ dnsName: `${n}-1.us-east-1.elb.amazonaws.com` })),
        concurrency: 1,
        dns: { queries: 1 },
        eni: { enabled: false },
      },
      'test',
    );
    const { startBy, finishBy } = cycleDeadlines(t, 50_000); // start by +28.8 s
    const snapshots = await snapshotConfigured(config, { dns, enisFor: null, now, startBy });
    expect(snapshots.map((s) => s.observation.errors.filter((e) => e.source === 'cycle').length)).toEqual([0, 0, 1]);
    expect(snapshots[2]?.observation.errors[0]?.message).toMatch(
      /^skipped: the cycle had to start its last load balancer by 2026-11-25T10:00:28.800Z; the next cycle observes it$/,
    );

    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-deadline-')));
    const published: string[] = [];
    const sink: AlertSink = { description: 'test', publish: async (e) => (published.push(e.id), { messageId: null }) };
    await recordCycle(config, snapshots, '2026-11-25T10:00:00.000Z', { store, sink, now, claimant: 'x', finishBy });
    expect(await store.listLoadBalancers()).toEqual(['a', 'b']); // c was not observed: nothing recorded for it

    // Past finishBy: a queued alert is left queued and unclaimed, for the next cycle.
    await store.appendEvent({
      ...makeEvent({
        kind: 'scaled',
        status: 'event',
        severity: 'info',
        loadBalancer: 'a',
        az: 'x',
        backend: null,
        from: 1,
        to: 2,
        at: now().toISOString(),
        summary: 's',
        details: {},
      }),
      seq: 99,
      prevHash: '0',
      hash: '1',
    });
    t = finishBy;
    const flushed = await flushOutbox({ store, sink, now, claimant: 'x', finishBy });
    expect([flushed.published, flushed.waiting.length, published]).toEqual([[], 1, []]);
    expect(
      (await store.outbox({
        op: 'claim',
        id: flushed.waiting[0] as string,
        claimant: 'next',
        now: now(),
        leaseMs: 60_000,
      })) !== null,
    ).toBe(true); // nobody holds it
  });
});
