import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoveryRecorder } from '../../../shared/discovery/ledger';
import { chainEvents } from '../../../shared/ledger/chain';
import { commitEvents } from '../../../shared/ledger/commit';
import { DISCOVERY_LEDGER, stateKey } from '../../../shared/ledger/keys';
import { listEvents, type Store } from '../../../shared/ledger/store';
import { emptyHead } from '../../../shared/ledger/state';
import { localStore } from '../../../shared/store/local';
import { MemoryRecords, memoryStore } from '../../../shared/store/memory';
import { flatState } from '../../helpers/flat-state';
import { scaled } from './fixtures';

// States stored before the split (memory, head and metadata flat in one object) read as
// the three parts, from a local directory and from records in memory (shared/ledger/upgrade.ts);
// so does discovery's record of an earlier elbscope, a whole load balancer's state then, which
// is no load balancer now.

const AT = '2026-11-25T11:00:00.000Z';
const { chained, head } = chainEvents([scaled('web', 2), scaled('web', 3)], emptyHead().chain);
const observationChain = { seq: 4, hash: 'b'.repeat(64), expiresAt: '2026-12-25T10:00:00.000Z' };
const identity = { account: null, region: 'us-east-1', name: 'web', arn: null };
/** A load balancer's flat state as an earlier elbscope wrote it, with something in every part. */
const webFlat = flatState({
  lastCycleAt: '2026-11-25T10:05:00.000Z',
  nodes: { 'us-east-1a': ['10.0.0.1', '10.0.0.2'] },
  kind: 'classic',
  chain: head,
  observationChain,
  prewarmDigests: { 'pw-1': 'c'.repeat(64) },
  observed: { key: 'k', at: '2026-11-25T10:05:00.000Z' },
  identity,
});
/** Discovery's flat state: a load balancer's, with us-west-2's discovery failing. */
const discoveryFlat = flatState({
  conditions: {
    '["discovery-failed","us-west-2"]': {
      kind: 'discovery-failed',
      scope: 'us-west-2',
      since: '2026-11-25T09:00:00.000Z',
      lastNotified: '2026-11-25T09:00:00.000Z',
    },
  },
});
/** A state record as written with a digest (over the flat state, as earlier ones were). */
const record = (state: Record<string, unknown>, version: number) => ({
  version,
  state,
  digest: createHash('sha256').update(JSON.stringify(state)).digest('hex'),
});

/** The two stores, each holding the earlier records: web's state and two events, discovery's state. */
const stores: [string, () => { store: Store; stored: () => Promise<unknown> }][] = [
  [
    'local directory',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'elbscope-split-'));
      for (const [lb, state] of [
        ['web', webFlat],
        [DISCOVERY_LEDGER, discoveryFlat],
      ] as const) {
        mkdirSync(join(dir, 'loadbalancers', lb, 'events'), { recursive: true });
        writeFileSync(join(dir, 'loadbalancers', lb, 'state.json'), JSON.stringify(record(state, 2)));
      }
      for (const e of chained)
        writeFileSync(
          join(dir, 'loadbalancers', 'web', 'events', `${String(e.seq).padStart(10, '0')}.json`),
          JSON.stringify(e),
        );
      return {
        store: localStore(dir),
        stored: async () => JSON.parse(readFileSync(join(dir, 'loadbalancers', 'web', 'state.json'), 'utf8')),
      };
    },
  ],
  [
    'records in memory',
    () => {
      const memory = new MemoryRecords();
      const { version, ...web } = record(webFlat, 2);
      memory.raw(stateKey('web'), JSON.stringify(web), { version });
      const { version: v, ...discovery } = record(discoveryFlat, 2);
      memory.raw(stateKey(DISCOVERY_LEDGER), JSON.stringify(discovery), { version: v });
      for (const e of chained)
        memory.raw({ kind: 'event', lb: 'web', id: String(e.seq).padStart(10, '0') }, JSON.stringify(e));
      return { store: memoryStore(memory), stored: async () => (await memory.get(stateKey('web')))?.value };
    },
  ],
];

describe.each(stores)('A state stored before the split (%s)', (_name, open) => {
  it('reads as the three parts, its digest holding; the next commit writes the three parts', async () => {
    const { store, stored } = open();
    const read = await store.getState('web');
    expect(read?.recovered).toBeUndefined(); // its digest (over the flat state) holds: not taken for an edit
    expect(read?.state.memory).toEqual({
      samples: [],
      tlsSamples: [],
      nodes: { 'us-east-1a': ['10.0.0.1', '10.0.0.2'] },
      preopen: {},
      certs: {},
      firstSign: {},
      conditions: {},
      prewarm: {},
      kind: 'classic',
    });
    expect(read?.state.head).toEqual({
      chain: head,
      pending: [],
      observationChain,
      prewarmDigests: { 'pw-1': 'c'.repeat(64) },
    });
    expect(read?.state.meta).toEqual({
      lastCycleAt: '2026-11-25T10:05:00.000Z',
      lastTlsAt: null,
      observed: { key: 'k', at: '2026-11-25T10:05:00.000Z' },
      identity,
    });
    const [next] = await commitEvents(store, 'web', () => [scaled('web', 4)], { at: AT });
    expect([next?.seq, next?.prevHash]).toEqual([3, head.hash]);
    const { state } = (await stored()) as { state: Record<string, unknown> };
    expect(Object.keys(state).sort()).toEqual(['head', 'memory', 'meta']);
    expect((await store.getState('web'))?.state.head.chain.seq).toBe(3);
  });

  it("discovery's earlier record reads as discovery's own: not a load balancer, its firing condition kept", async () => {
    const { store } = open();
    expect(await store.listLoadBalancers()).toEqual(['web']);
    const read = await store.getState(DISCOVERY_LEDGER);
    expect(read?.state.memory).toEqual({ conditions: discoveryFlat.conditions });
    // The failing region answers again: the condition the earlier record held resolves, once.
    await discoveryRecorder(store)(
      [{ key: 'us-west-2', region: 'us-west-2', loadBalancers: [], error: null }],
      AT,
      new Map(),
    );
    const events = (await listEvents(store, DISCOVERY_LEDGER)).map((e) => [e.record.kind, e.record.status]);
    expect(events).toEqual([['discovery-failed', 'resolved']]);
    // Every event, discovery's too, is still listed (after the load balancers').
    expect((await listEvents(store)).map((e) => e.record.loadBalancer)).toEqual(['web', 'web', DISCOVERY_LEDGER]);
  });
});
