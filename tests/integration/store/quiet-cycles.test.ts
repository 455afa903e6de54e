import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleSink } from '../../../shared/alerts/sinks';
import { parseConfig } from '../../../shared/config/load';
import { recordCycle } from '../../../shared/cycle/record';
import { localStore } from '../../../shared/store/local';
import type { Store } from '../../../shared/ledger/store';
import { nodeSnapshot } from '../../helpers/snapshots';

// A quiet cycle costs reads, not writes: the state is written only when what the
// rules decide on changed, and observations when what they show changed (or every
// 15 minutes). This is what keeps DynamoDB cost per load balancer in cents (bench/).
function counting(store: Store) {
  const counts = { putState: 0, putObservation: 0 };
  const wrapped: Store = Object.create(store);
  wrapped.putState = async (...args) => (counts.putState++, store.putState(...args));
  wrapped.observations = async (op) => {
    if (op.op === 'put') counts.putObservation++;
    return store.observations(op);
  };
  return { wrapped, counts };
}

describe('Quiet cycles', () => {
  it('write nothing once the window is full, and write again when something changes', async () => {
    const { wrapped, counts } = counting(localStore(mkdtempSync(join(tmpdir(), 'elbscope-quiet-'))));
    const config = parseConfig({ loadBalancers: [{ dnsName: 'test-1.us-east-1.elb.amazonaws.com' }] }, 'test');
    const deps = { store: wrapped, sink: consoleSink(() => undefined), now: () => new Date(), claimant: 't' };
    const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
    for (let m = 0; m < 10; m++)
      await recordCycle(config, [nodeSnapshot('test-1.us-east-1.elb.amazonaws.com', ['10.0.0.1'])], at(m), deps);
    expect(counts.putState).toBe(3); // filling the 3-sample window
    expect(counts.putObservation).toBe(1);

    await recordCycle(
      config,
      [nodeSnapshot('test-1.us-east-1.elb.amazonaws.com', ['10.0.0.1', '10.0.0.2'])],
      at(10),
      deps,
    );
    const events = await recordCycle(
      config,
      [nodeSnapshot('test-1.us-east-1.elb.amazonaws.com', ['10.0.0.1', '10.0.0.2'])],
      at(11),
      deps,
    );
    expect(events.map((e) => e.summary)).toEqual(['test us-east-1a scaled 1 → 2 nodes']);
    expect(counts.putObservation).toBe(2);

    await recordCycle(
      config,
      [nodeSnapshot('test-1.us-east-1.elb.amazonaws.com', ['10.0.0.1', '10.0.0.2'])],
      at(30),
      deps,
    ); // 15 minutes on: one more chart point
    expect(counts.putObservation).toBe(3);
  });
});

describe('Snapshots carry their load balancer', () => {
  it('are recorded under their own names whatever their order beside the configuration', async () => {
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-identity-')));
    const a = 'alpha-1.us-east-1.elb.amazonaws.com';
    const b = 'beta-1.us-east-1.elb.amazonaws.com';
    const config = parseConfig(
      { loadBalancers: [{ dnsName: a }, { dnsName: b }], detect: { confirm: { m: 1, n: 1 } } },
      'test',
    );
    const deps = { store, sink: consoleSink(() => undefined), now: () => new Date(), claimant: 't' };
    const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
    // Given in the other order than configured: pairing by position would cross them.
    await recordCycle(
      config,
      [nodeSnapshot(b, ['10.0.0.1', '10.0.0.2', '10.0.0.3']), nodeSnapshot(a, ['10.0.1.1'])],
      at(0),
      deps,
    );
    const events = await recordCycle(
      config,
      [nodeSnapshot(a, ['10.0.1.1', '10.0.1.2']), nodeSnapshot(b, ['10.0.0.1', '10.0.0.2', '10.0.0.3'])],
      at(1),
      deps,
    );
    expect(events.map((e) => e.summary)).toEqual(['alpha us-east-1a scaled 1 → 2 nodes']);
    expect((await store.listLoadBalancers()).sort()).toEqual(['alpha', 'beta']);
  });
});
