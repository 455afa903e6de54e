import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../../shared/ledger/chain';
import { commitEvents } from '../../../shared/ledger/commit';
import { eventKey, stateKey } from '../../../shared/ledger/keys';
import type { Records } from '../../../shared/ledger/records';
import { listEvents } from '../../../shared/ledger/store';
import { MemoryRecords, memoryStore } from '../../../shared/store/memory';
import { scaled } from './fixtures';

const AT = '2026-11-25T10:30:00.000Z';

// The commit's rules, over records in memory: the state (with its pending events) is
// the commit point; the audit trail and the outbox follow from it, and a crash between
// is finished by the next commit; a state that does not hold is moved aside and the
// chains continue; a state behind its own chain (rolled back) is replaced, announced.

/** Records whose writes of one kind fail while `failing` holds (a crash or an outage between two writes). */
function failingWrites(records: Records, kind: 'event' | 'outbox') {
  const gate = { failing: true };
  const wrapped: Records = Object.create(records);
  wrapped.putIfAbsent = async (key, value, options) => {
    if (gate.failing && key.kind === kind) throw new Error(`${kind} write failed`);
    return records.putIfAbsent(key, value, options);
  };
  return { records: wrapped, gate };
}

describe('The commit (in memory)', () => {
  it('writes the state first, then the trail and the outbox, in chain order', async () => {
    const store = memoryStore();
    const chained = await commitEvents(store, 'web', () => [scaled('web', 2), scaled('web', 3)], {
      at: '2026-11-25T10:00:00.000Z',
    });
    expect(chained.map((e) => e.seq)).toEqual([1, 2]);
    const state = await store.getState('web');
    expect(state?.state.head.chain).toEqual({ seq: 2, hash: chained[1]?.hash });
    expect(state?.state.head.pending).toEqual([]); // drained
    const trail = await listEvents(store, 'web');
    expect(verifyChain('web', trail, state?.state.head.chain ?? null)).toBeNull();
    expect((await store.outbox({ op: 'list' })).map((e) => e.record.seq)).toEqual([1, 2]);
    // The next commit continues the chain.
    const next = await commitEvents(store, 'web', () => [scaled('web', 4)], { at: '2026-11-25T10:00:00.000Z' });
    expect(next.map((e) => [e.seq, e.prevHash])).toEqual([[3, chained[1]?.hash]]);
  });

  it('a crash after the state keeps the events pending; the next commit appends them, nothing lost or doubled', async () => {
    const memory = new MemoryRecords();
    const { records, gate } = failingWrites(memory, 'event');
    const store = memoryStore(records);
    await expect(
      commitEvents(store, 'web', () => [scaled('web', 2)], { at: '2026-11-25T10:00:00.000Z' }),
    ).rejects.toThrow(/event write failed/);
    expect((await store.getState('web'))?.state.head.pending.map((e) => e.seq)).toEqual([1]); // committed
    expect(await listEvents(store, 'web')).toEqual([]);
    gate.failing = false;
    await commitEvents(store, 'web', () => [scaled('web', 3)], { at: '2026-11-25T10:00:00.000Z' });
    expect((await listEvents(store, 'web')).map((e) => e.record.seq)).toEqual([1, 2]);
    expect((await store.outbox({ op: 'list' })).map((e) => e.record.seq)).toEqual([1, 2]);
    expect((await store.getState('web'))?.state.head.pending).toEqual([]);
  });

  it('an event appended before a crash that came before its outbox write is queued on the next drain', async () => {
    const { records, gate } = failingWrites(new MemoryRecords(), 'outbox');
    const store = memoryStore(records);
    await expect(
      commitEvents(store, 'web', () => [scaled('web', 2)], { at: '2026-11-25T10:00:00.000Z' }),
    ).rejects.toThrow(/outbox write failed/);
    expect((await listEvents(store, 'web')).map((e) => e.record.seq)).toEqual([1]);
    gate.failing = false;
    await commitEvents(store, 'web', () => [], { at: '2026-11-25T10:00:00.000Z' });
    expect((await store.outbox({ op: 'list' })).map((e) => e.record.seq)).toEqual([1]);
  });

  it('a quiet decision writes nothing', async () => {
    const memory = new MemoryRecords();
    const store = memoryStore(memory);
    await commitEvents(store, 'web', () => [scaled('web', 2)], { at: '2026-11-25T10:00:00.000Z' });
    const before = (await memory.get(stateKey('web')))?.version;
    await commitEvents(store, 'web', () => [], { at: AT, unchanged: () => true });
    expect((await memory.get(stateKey('web')))?.version).toBe(before);
  });

  it('a state that does not parse is moved aside; the fresh one continues the chain, and says so once', async () => {
    const memory = new MemoryRecords();
    const store = memoryStore(memory);
    const [first] = await commitEvents(store, 'web', () => [scaled('web', 2)], { at: '2026-11-25T10:00:00.000Z' });
    memory.raw(stateKey('web'), '{"version": 3, "sta');
    const read = await store.getState('web', 'read');
    expect(read?.recovered?.movedTo).toBe(''); // a reader moves nothing
    expect(memory.quarantined.size).toBe(0);
    // The commit announces it, before the decision's events: no caller builds the announcement.
    const chained = await commitEvents(store, 'web', () => [scaled('web', 3)], { at: AT });
    expect(chained.map((e) => [e.kind, e.seq, e.severity, e.at])).toEqual([
      ['store-record-corrupt', 2, 'critical', AT],
      ['scaled', 3, 'info', scaled('web', 3).at],
    ]);
    expect(chained[0]?.prevHash).toBe(first?.hash);
    expect(chained[0]?.summary).toMatch(/stored state could not be used \((Unterminated|JSON|Expected)/);
    expect(memory.quarantined.size).toBe(1);
    expect((await store.getState('web'))?.recovered).toBeUndefined(); // announced with that commit, then cleared
    // Once: the next commit (a replay that decides nothing) announces nothing.
    expect(await commitEvents(store, 'web', () => [], { at: AT })).toEqual([]);
  });

  it('a state edited without its digest is moved aside as one that does not parse', async () => {
    const memory = new MemoryRecords();
    const store = memoryStore(memory);
    await commitEvents(store, 'web', () => [scaled('web', 2)], { at: '2026-11-25T10:00:00.000Z' });
    const found = await memory.get(stateKey('web'));
    const value = found?.value as { state: { memory: { samples: unknown[] } } };
    value.state.memory.samples = [{ forged: true }];
    memory.raw(stateKey('web'), JSON.stringify(value), { version: found?.version ?? 0 });
    const state = await store.getState('web');
    expect(state?.recovered?.reason).toMatch(/does not match the digest/);
    expect(state?.state.head.chain.seq).toBe(1);
  });

  it('a state behind its own chain (rolled back) is replaced: one critical event, its events re-chained after the stored head', async () => {
    const memory = new MemoryRecords();
    const store = memoryStore(memory);
    await commitEvents(store, 'web', () => [], { at: '2026-11-25T10:00:00.000Z' });
    const old = await memory.get(stateKey('web'));
    await commitEvents(store, 'web', () => [scaled('web', 2)], { at: '2026-11-25T10:00:00.000Z' }); // #1
    const now = await memory.get(stateKey('web'));
    expect(await memory.putIfVersion(stateKey('web'), old?.value, now?.version ?? 0)).toBe(true); // the rollback
    const chained = await commitEvents(store, 'web', () => [scaled('web', 3)], { at: '2026-11-25T10:00:00.000Z' });
    expect(chained.map((e) => [e.kind, e.seq])).toEqual([
      ['store-record-corrupt', 2],
      ['scaled', 3],
    ]);
    const trail = await listEvents(store, 'web');
    expect(trail.map((e) => e.record.seq)).toEqual([1, 2, 3]);
    expect(verifyChain('web', trail, (await store.getState('web'))?.state.head.chain ?? null)).toBeNull();
    expect(memory.quarantined.size).toBe(1);
  });

  it('an event id is its place padded by the ledger: every store orders the trail alike', async () => {
    const memory = new MemoryRecords();
    const store = memoryStore(memory);
    await commitEvents(store, 'web', () => Array.from({ length: 11 }, (_, i) => scaled('web', i + 2)), {
      at: '2026-11-25T10:00:00.000Z',
    });
    expect(await memory.ids('event', 'web', { newest: 2 })).toEqual(['0000000010', '0000000011']);
    expect(eventKey('web', 11).id).toBe('0000000011');
    expect((await listEvents(store, 'web')).map((e) => e.record.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});
