import { describe, expect, it } from 'vitest';
import type { AlertSink } from '../../../shared/alerts/sinks';
import { commitEvents } from '../../../shared/ledger/commit';
import { flushOutbox } from '../../../shared/ledger/flush';
import { outboxKey, receiptKey } from '../../../shared/ledger/keys';
import { MemoryRecords, memoryStore } from '../../../shared/store/memory';
import { clock, memoryKey, scaled } from './fixtures';

// The outbox's rules, over records in memory: each event reaches each sink at most
// once; a claim keeps a second publisher off; a receipt closes the event for good; a
// failing sink is retried after its backoff, a refusing one gives the event up.

/** A sink that records what it was sent, failing as told. */
function recording(description = 'test', fail: () => Error | null = () => null) {
  const sent: string[] = [];
  const sink: AlertSink = {
    description,
    publish: async (e) => {
      const err = fail();
      if (err) throw err;
      sent.push(e.id);
      return { messageId: `m-${e.seq}` };
    },
  };
  return { sink, sent };
}

describe('The outbox (in memory)', () => {
  it('publishes each event once, writes its receipt, and never again', async () => {
    const store = memoryStore();
    const t = clock('2026-11-25T10:05:00Z');
    const events = await commitEvents(store, 'web', () => [scaled('web', 2), scaled('web', 3)], {
      at: '2026-11-25T10:00:00.000Z',
    });
    const { sink, sent } = recording();
    const first = await flushOutbox({ store, sink, now: t.now, claimant: 'a' });
    expect(first.published).toEqual(events.map((e) => e.id));
    expect(await store.outbox({ op: 'list' })).toEqual([]);
    expect((await store.getEvent('web', 1))?.publishedAt).toBe('2026-11-25T10:05:00.000Z');
    // A re-drain (the state's pending events appended again) queues nothing that has its receipt.
    for (const e of events) await store.appendEvent(e);
    expect(await store.outbox({ op: 'list' })).toEqual([]);
    await flushOutbox({ store, sink, now: t.now, claimant: 'b' });
    expect(sent).toEqual(events.map((e) => e.id));
  });

  it('a claim keeps a second publisher off until its lease runs out', async () => {
    const store = memoryStore();
    const t = clock('2026-11-25T10:05:00Z');
    const [e] = await commitEvents(store, 'web', () => [scaled('web', 2)], { at: '2026-11-25T10:00:00.000Z' });
    const id = e?.id as string;
    expect(await store.outbox({ op: 'claim', id, claimant: 'a', now: t.now(), leaseMs: 60_000 })).not.toBeNull();
    expect(await store.outbox({ op: 'claim', id, claimant: 'b', now: t.now(), leaseMs: 60_000 })).toBeNull();
    const { sink, sent } = recording();
    const held = await flushOutbox({ store, sink, now: t.now, claimant: 'b' });
    expect(held.published).toEqual([]);
    t.advance(61_000);
    await flushOutbox({ store, sink, now: t.now, claimant: 'b' });
    expect(sent).toEqual([id]);
  });

  it('a sink that fails is retried after its backoff; one that refuses gives the event up, and requeue sends it again', async () => {
    const store = memoryStore();
    const t = clock('2026-11-25T10:05:00Z');
    const [e] = await commitEvents(store, 'web', () => [scaled('web', 2)], { at: '2026-11-25T10:00:00.000Z' });
    let failure: Error | null = Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    const { sink, sent } = recording('test', () => failure);
    const failed = await flushOutbox({ store, sink, now: t.now, claimant: 'a' });
    expect(failed.failed.map((f) => f.id)).toEqual([e?.id]);
    expect((await flushOutbox({ store, sink, now: t.now, claimant: 'a' })).waiting).toEqual([e?.id]); // backing off
    failure = Object.assign(new Error('denied'), { name: 'AuthorizationErrorException' });
    t.advance(3_600_000);
    const refused = await flushOutbox({ store, sink, now: t.now, claimant: 'a' });
    expect(refused.undeliverable.map((u) => u.id)).toEqual([e?.id]);
    expect((await store.getEvent('web', 1))?.deliveryError?.error).toMatch(/denied/);
    expect(await store.outbox({ op: 'list' })).toEqual([]);
    failure = null;
    await store.outbox({ op: 'requeue', record: e as NonNullable<typeof e> });
    expect((await store.getEvent('web', 1))?.deliveryError).toBeNull();
    await flushOutbox({ store, sink, now: t.now, claimant: 'a' });
    expect(sent).toEqual([e?.id]);
  });

  it('an outbox entry that does not read is set aside and queued again from the trail', async () => {
    const memory = new MemoryRecords();
    const store = memoryStore(memory);
    const [e] = await commitEvents(store, 'web', () => [scaled('web', 2)], { at: '2026-11-25T10:00:00.000Z' });
    memory.raw(outboxKey(e?.id as string), 'garbage');
    expect((await store.outbox({ op: 'list' })).map((x) => x.record.id)).toEqual([e?.id]);
    expect(memory.quarantined.size).toBe(1);
  });

  it('with a key, a receipt without a seal closes nothing: the alert is sent (a repeat beats a silenced alert)', async () => {
    const memory = new MemoryRecords();
    const store = memoryStore(memory, { seal: memoryKey() });
    const t = clock('2026-11-25T10:05:00Z');
    const [e] = await commitEvents(store, 'web', () => [scaled('web', 2)], { at: '2026-11-25T10:00:00.000Z' });
    await memory.put(receiptKey(e as NonNullable<typeof e>), { publishedAt: t.now().toISOString(), messageId: 'x' });
    const { sink, sent } = recording();
    await flushOutbox({ store, sink, now: t.now, claimant: 'a' });
    expect(sent).toEqual([e?.id]);
  });

  it('with a key, a forged delivered mark on an entry is not trusted: that sink is sent the alert', async () => {
    const memory = new MemoryRecords();
    const store = memoryStore(memory, { seal: memoryKey() });
    const t = clock('2026-11-25T10:05:00Z');
    const [e] = await commitEvents(store, 'web', () => [scaled('web', 2)], { at: '2026-11-25T10:00:00.000Z' });
    const key = outboxKey(e?.id as string);
    const found = await memory.get(key);
    const value = {
      ...(found?.value as object),
      sinks: { test: { state: 'delivered', at: null, messageId: null } },
      delivered: ['test'],
    };
    expect(await memory.putIfVersion(key, value, found?.version ?? 0)).toBe(true);
    const [listed] = await store.outbox({ op: 'list' });
    expect(listed?.untrusted?.map((u) => u.sink)).toEqual(['test']);
    const { sink, sent } = recording();
    await flushOutbox({ store, sink, now: t.now, claimant: 'a' });
    expect(sent).toEqual([e?.id]);
  });
});
