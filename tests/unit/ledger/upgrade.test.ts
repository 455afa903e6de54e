import { describe, expect, it } from 'vitest';
import { emptyState } from '../../../shared/ledger/state';
import { chainEvents, verifyChain } from '../../../shared/ledger/chain';
import { commitEvents } from '../../../shared/ledger/commit';
import { outboxKey, stateKey } from '../../../shared/ledger/keys';
import { listEvents, StoreConflictError } from '../../../shared/ledger/store';
import { MemoryRecords, memoryStore } from '../../../shared/store/memory';
import { scaled } from './fixtures';
import { flatState } from '../../helpers/flat-state';

// Every format an earlier elbscope stored still reads (shared/ledger/upgrade.ts): event
// ids of 8 digits (the local directory before the ledger made ids), DynamoDB items with
// their value in `record` and their receipt on the event item, a bare state, a bare
// outbox entry, an entry's `delivered` list.

/** Two events as an earlier local directory kept them (ids of 8 digits), and a state naming their head. */
function earlierDirectory() {
  const memory = new MemoryRecords();
  const { chained, head } = chainEvents([scaled('web', 2), scaled('web', 3)], emptyState().head.chain);
  for (const e of chained)
    memory.raw({ kind: 'event', lb: 'web', id: String(e.seq).padStart(8, '0') }, JSON.stringify(e));
  memory.raw(stateKey('web'), JSON.stringify({ state: flatState({ chain: head }) }));
  return { memory, chained };
}

describe('The upgrade (in memory)', () => {
  it('reads events under ids of 8 digits, in chain order with the ones written since', async () => {
    const { memory, chained } = earlierDirectory();
    const store = memoryStore(memory);
    expect((await store.getEvent('web', 2))?.record.id).toBe(chained[1]?.id);
    const [next] = await commitEvents(store, 'web', () => [scaled('web', 4)], { at: '2026-11-25T10:00:00.000Z' });
    expect(next?.seq).toBe(3);
    // The adapter orders ids as strings (today's width first); the ledger reads them in chain order.
    expect(await memory.ids('event', 'web')).toEqual(['0000000003', '00000001', '00000002']);
    expect((await listEvents(store, 'web')).map((e) => e.record.seq)).toEqual([1, 2, 3]);
  });

  it('never writes a second event at a place an earlier id holds (the trail cannot fork)', async () => {
    const { memory, chained } = earlierDirectory();
    const store = memoryStore(memory);
    const other = chainEvents([scaled('web', 9)], emptyState().head.chain).chained[0];
    await expect(store.appendEvent(other as NonNullable<typeof other>)).rejects.toThrow(StoreConflictError);
    await store.appendEvent(chained[0] as NonNullable<(typeof chained)[0]>); // the same event: idempotent
    expect(await memory.ids('event', 'web')).toEqual(['00000001', '00000002']);
  });

  it("a record added under an earlier id beside today's is listed, so verify names it", async () => {
    const memory = new MemoryRecords();
    const store = memoryStore(memory);
    const [e] = await commitEvents(store, 'web', () => [scaled('web', 2)], { at: '2026-11-25T10:00:00.000Z' });
    memory.raw({ kind: 'event', lb: 'web', id: '00000001' }, JSON.stringify({ ...e, summary: 'FORGED' }));
    const trail = await listEvents(store, 'web');
    expect(trail.map((x) => x.record.seq)).toEqual([1, 1]);
    expect(verifyChain('web', trail, (await store.getState('web'))?.state.head.chain ?? null)).not.toBeNull();
    expect((await store.getEvent('web', 1))?.record.summary).toBe(e?.summary); // today's id is the one read
  });

  it("reads a DynamoDB item's value from `record` and its receipt from the item itself", async () => {
    const memory = new MemoryRecords(true);
    const [e] = chainEvents([scaled('api', 2)], emptyState().head.chain).chained;
    memory.raw({ kind: 'event', lb: 'api', id: '0000000001' }, '', {
      legacy: { record: JSON.stringify(e), publishedAt: '2026-11-25T10:03:00.000Z', messageId: 'sns-1' },
    });
    const stored = await memoryStore(memory).getEvent('api', 1);
    expect([stored?.record.id, stored?.publishedAt]).toEqual([e?.id, '2026-11-25T10:03:00.000Z']);
  });

  it('reads a bare state (DynamoDB before the ledger)', async () => {
    const memory = new MemoryRecords();
    memory.raw(stateKey('web'), JSON.stringify(flatState({ chain: { seq: 4, hash: 'h' } })));
    const read = await memoryStore(memory).getState('web');
    expect([read?.state.head.chain.seq, read?.recovered]).toEqual([4, undefined]);
  });

  it('reads a bare outbox entry as one nothing was delivered for, and a `delivered` list as delivered sinks', async () => {
    const memory = new MemoryRecords();
    const [a, b] = chainEvents([scaled('web', 2), scaled('web', 3)], emptyState().head.chain).chained;
    memory.raw(outboxKey(a?.id as string), JSON.stringify(a), { version: 0 });
    memory.raw(outboxKey(b?.id as string), JSON.stringify({ record: b, attempts: 0, delivered: ['console'] }));
    const entries = await memoryStore(memory).outbox({ op: 'list' });
    expect(entries.map((x) => [x.record.seq, x.sinks])).toEqual([
      [1, {}],
      [2, { console: { state: 'delivered', at: null, messageId: null } }],
    ]);
  });
});
