import { describe, expect, it } from 'vitest';
import type { PrewarmTarget } from '../../../shared/detect/rules';
import { emptyState } from '../../../shared/ledger/state';
import { chainObservation, prewarmHash, verifyObservations } from '../../../shared/ledger/chain';
import { commitEvents } from '../../../shared/ledger/commit';
import { observationKey, prewarmKey, stateKey } from '../../../shared/ledger/keys';
import type { StoredObservation } from '../../../shared/ledger/store';
import { MemoryRecords, memoryStore } from '../../../shared/store/memory';
import { memoryKey } from './fixtures';

// The rules of the records beside the trail, over records in memory: the observation
// chain (and the head a rebuilt state continues from), expiry by the wall clock and
// by the ledger's own time, and pre-warm targets trusted only when sealed or vouched for.

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 25, 0, 0);
const snapshot = { observation: { azs: {}, nodes: [] }, backends: [] };

/** Chain and store an observation of `lb` at each time, one a cycle; answers the head. */
async function observe(store: ReturnType<typeof memoryStore>, lb: string, times: number[], ttlDays = 1) {
  let head = (await store.getState(lb))?.state.head.observationChain;
  const stored: StoredObservation[] = [];
  for (const t of times) {
    const chained = chainObservation(head, { loadBalancer: lb, at: new Date(t).toISOString(), snapshot }, ttlDays);
    await store.observations({ op: 'put', observation: chained.record, ttlDays });
    stored.push(chained.record);
    head = chained.head;
  }
  return { head, stored };
}

describe('Observations (in memory)', () => {
  it('are listed in time order; a state rebuilt after damage continues their chain', async () => {
    const memory = new MemoryRecords();
    const store = memoryStore(memory);
    await commitEvents(store, 'web', () => [], { at: '2026-11-25T10:00:00.000Z' });
    const { head } = await observe(store, 'web', [T0, T0 + HOUR, T0 + 2 * HOUR]);
    const listed = await store.observations({ op: 'list', lb: 'web' });
    expect(listed.map((o) => o.seq)).toEqual([1, 2, 3]);
    expect((await store.observations({ op: 'list', lb: 'web', from: new Date(T0 + HOUR).toISOString() })).length).toBe(
      2,
    );
    const check = verifyObservations(
      'web',
      listed.map((record) => ({ record, location: record.at })),
      head ?? null,
      new Date(T0 + 3 * HOUR),
    );
    expect([check.firstBreak, check.verified]).toEqual([null, 3]);
    memory.raw(stateKey('web'), '');
    expect((await store.getState('web'))?.state.head.observationChain).toEqual(head);
  });

  it('a store without an expiry of its own prunes the oldest once the records since span the retention', async () => {
    const store = memoryStore(new MemoryRecords(false));
    await observe(
      store,
      'web',
      Array.from({ length: 30 }, (_, i) => T0 + i * HOUR),
    );
    const kept = await store.observations({ op: 'list', lb: 'web' });
    expect(kept.length).toBe(24);
    expect(kept[0]?.at).toBe(new Date(T0 + 6 * HOUR).toISOString());
  });

  it('a clock that jumps ahead takes nothing the ledger has not run past', async () => {
    const store = memoryStore(new MemoryRecords(false));
    await observe(store, 'web', [...Array.from({ length: 5 }, (_, i) => T0 + i * HOUR), T0 + 10 * 24 * HOUR]);
    expect((await store.observations({ op: 'list', lb: 'web' })).length).toBe(6);
  });

  it('a store that expires records itself is told never less than the newest record plus the retention', async () => {
    const memory = new MemoryRecords(true);
    const store = memoryStore(memory);
    const { stored } = await observe(store, 'web', [T0 + 5 * HOUR, T0]); // the second writer's clock is behind
    const late = stored[1] as StoredObservation;
    expect(memory.expiryOf(observationKey('web', late.at, late.hash))).toBe((T0 + 5 * HOUR) / 1000 + 86_400);
    expect((await store.observations({ op: 'list', lb: 'web' })).length).toBe(2); // nothing pruned by the ledger
  });
});

describe('Pre-warm targets (in memory)', () => {
  const target: PrewarmTarget = {
    id: 'pw-1',
    loadBalancer: 'web',
    nodesPerAz: 3,
    total: null,
    deadline: null,
    caseId: null,
    requestedAt: '2026-11-25T09:00:00.000Z',
  };

  it('are stored once', async () => {
    const store = memoryStore();
    await store.prewarms({ op: 'put', target });
    await expect(store.prewarms({ op: 'put', target })).rejects.toThrow(/exists already/);
    expect(await store.prewarms({ op: 'list' })).toEqual([target]);
  });

  it('with a key, one written into the store is acted on only when a sealed state vouches for its digest', async () => {
    const memory = new MemoryRecords();
    const store = memoryStore(memory, { seal: memoryKey() });
    await commitEvents(store, 'web', () => [], { at: '2026-11-25T10:00:00.000Z' });
    await memory.put(prewarmKey('web', target.id), target); // unsealed: not elbscope prewarm's
    expect(await store.prewarms({ op: 'list', lb: 'web' })).toEqual([]);
    expect((await store.prewarms({ op: 'audit', lb: 'web' })).map((a) => a.seal)).toEqual(['none']);
    const current = await store.getState('web');
    const state = current?.state ?? emptyState();
    state.head.prewarmDigests = { [target.id]: prewarmHash(target) };
    expect(await store.putState('web', state, current?.version ?? 0)).toBe(true);
    expect(await store.prewarms({ op: 'list', lb: 'web' })).toEqual([target]);
    // A digest that does not match (the target edited since) vouches for nothing.
    await memory.put(prewarmKey('web', target.id), { ...target, nodesPerAz: 9 });
    expect(await store.prewarms({ op: 'list', lb: 'web' })).toEqual([]);
  });
});
