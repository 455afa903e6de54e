import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushOutbox } from '../../../shared/ledger/flush';
import type { ChainedEvent } from '../../../shared/detect/state';
import { emptyState } from '../../../shared/ledger/state';
import { flatState } from '../../helpers/flat-state';
import { makeEvent } from '../../../shared/detect/events';
import { chainEvents, verifyChain } from '../../../shared/ledger/chain';
import { commitEvents } from '../../../shared/ledger/commit';
import { dynamoDbStore } from '../../../shared/store/dynamodb';
import { localStore } from '../../../shared/store/local';
import { type Store, listEvents } from '../../../shared/ledger/store';
import { startDynalite } from '../../helpers/dynalite';

// One contract, two adapters: the local directory store, and DynamoDB through
// the real SDK against dynalite on loopback (conditional writes included).
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(() => dynamo?.stop());

const localDirs = new Map<Store, string>();
const adapters: [string, () => Store][] = [
  [
    'LocalStore',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'elbscope-store-'));
      const store = localStore(dir);
      localDirs.set(store, dir);
      return store;
    },
  ],
  ['DynamoDbStore', () => dynamoDbStore(dynamo.client, dynamo.table)],
];

/** Put an event in the outbox behind the store's back, as a re-drain racing a publisher can. */
async function queueBehindTheStoresBack(store: Store, record: ChainedEvent): Promise<void> {
  const dir = localDirs.get(store);
  if (dir) writeFileSync(join(dir, 'outbox', `${record.id}.json`), JSON.stringify(record));
  else
    await DynamoDBDocumentClient.from(dynamo.client).send(
      new PutCommand({
        TableName: dynamo.table,
        Item: { pk: 'OUTBOX', sk: record.id, record: JSON.stringify(record) },
      }),
    );
}

const event = (lb: string, minute: number, kind: 'scaled' | 'az-added' = 'scaled') =>
  makeEvent({
    kind,
    status: 'event',
    severity: 'info',
    loadBalancer: lb,
    az: 'us-east-1a',
    backend: null,
    from: 1,
    to: 2,
    at: new Date(Date.UTC(2026, 10, 25, 10, minute)).toISOString(),
    summary: `${lb} scaled`,
    details: {},
  });

describe.each(adapters)('%s', (_name, make) => {
  let store: Store;
  let lb: string;
  let n = 0;
  beforeAll(() => {
    store = make();
  });
  const fresh = () => `lb${++n}-${Math.random().toString(36).slice(2, 8)}`;

  it('writes state only at the expected version (conditional write conflicts)', async () => {
    lb = fresh();
    expect(await store.getState(lb)).toBeNull();
    const s = emptyState();
    expect(await store.putState(lb, s, 0)).toBe(true);
    expect(await store.putState(lb, s, 0)).toBe(false); // someone already created it
    s.meta.lastCycleAt = '2026-11-25T10:00:00.000Z';
    expect(await store.putState(lb, s, 1)).toBe(true);
    const stale = { ...s, meta: { ...s.meta, lastCycleAt: 'stale' } };
    expect(await store.putState(lb, stale, 1)).toBe(false); // a writer that read version 1 loses
    expect(await store.getState(lb)).toMatchObject({
      version: 2,
      state: { meta: { lastCycleAt: '2026-11-25T10:00:00.000Z' } },
    });
    expect(await store.listLoadBalancers()).toContain(lb);
  });

  it('lets exactly one of two racing writers win', async () => {
    lb = fresh();
    await store.putState(lb, emptyState(), 0);
    const results = await Promise.all([
      store.putState(lb, { ...emptyState(), meta: { lastCycleAt: 'a', lastTlsAt: null } }, 1),
      store.putState(lb, { ...emptyState(), meta: { lastCycleAt: 'b', lastTlsAt: null } }, 1),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('appends events idempotently, keeps order, and queues them in the outbox until published', async () => {
    lb = fresh();
    const { chained } = chainEvents([event(lb, 1), event(lb, 2, 'az-added')], { seq: 0, hash: '0'.repeat(64) });
    for (const r of chained) await store.appendEvent(r);
    for (const r of chained) await store.appendEvent(r); // a retry
    const listed = await listEvents(store, lb);
    expect(listed.map((e) => [e.record.seq, e.record.id, e.publishedAt])).toEqual(
      chained.map((r) => [r.seq, r.id, null]),
    );
    expect(
      (await store.outbox({ op: 'list' })).filter((e) => e.record.loadBalancer === lb).map((e) => e.record.id),
    ).toEqual(chained.map((r) => r.id));

    const other = chainEvents([event(lb, 9)], { seq: 0, hash: '0'.repeat(64) }).chained[0];
    await expect(store.appendEvent({ ...other!, seq: 1 })).rejects.toThrow(/already holds event/);

    const now = new Date('2026-11-25T10:05:00Z');
    const first = chained[0]!;
    expect((await store.outbox({ op: 'claim', id: first.id, claimant: 'a', now: now, leaseMs: 60_000 })) !== null).toBe(
      true,
    );
    expect((await store.outbox({ op: 'claim', id: first.id, claimant: 'b', now: now, leaseMs: 60_000 })) !== null).toBe(
      false,
    );
    expect(
      (await store.outbox({
        op: 'claim',
        id: first.id,
        claimant: 'b',
        now: new Date(now.getTime() + 61_000),
        leaseMs: 60_000,
      })) !== null,
    ).toBe(true); // lease expired
    await store.outbox({ op: 'published', record: first, at: now, messageId: 'msg-1' });
    expect((await store.outbox({ op: 'list' })).map((e) => e.record.id)).not.toContain(first.id);
    expect((await listEvents(store, lb))[0]?.publishedAt).toBe(now.toISOString());
    await store.appendEvent(first); // appending a published event again does not re-queue it
    expect((await store.outbox({ op: 'list' })).map((e) => e.record.id)).not.toContain(first.id);
  });

  it('keeps transient failures with the entry, and marks permanent ones beside the event, out of the outbox', async () => {
    lb = fresh();
    const { chained } = chainEvents([event(lb, 1), event(lb, 2, 'az-added')], { seq: 0, hash: '0'.repeat(64) });
    for (const r of chained) await store.appendEvent(r);
    const [a, b] = chained as [(typeof chained)[0], (typeof chained)[0]];
    const now = new Date('2026-11-25T10:05:00Z');
    expect((await store.outbox({ op: 'claim', id: a.id, claimant: 'w', now: now, leaseMs: 60_000 })) !== null).toBe(
      true,
    );
    await store.outbox({
      op: 'defer',
      id: a.id,
      retry: {
        attempts: 2,
        notBefore: '2026-11-25T10:07:00.000Z',
        lastError: 'SNS x: ThrottledException: Rate exceeded',
        delivered: ['console'],
      },
    });
    const mine = (await store.outbox({ op: 'list' })).filter((e) => e.record.loadBalancer === lb);
    expect(mine.map((e) => [e.record.id, e.attempts, e.notBefore, e.lastError, e.delivered])).toEqual([
      [a.id, 2, '2026-11-25T10:07:00.000Z', 'SNS x: ThrottledException: Rate exceeded', ['console']],
      [b.id, 0, null, null, []],
    ]);
    expect((await store.outbox({ op: 'claim', id: a.id, claimant: 'w2', now: now, leaseMs: 60_000 })) !== null).toBe(
      true,
    ); // deferring released the claim

    await store.outbox({
      op: 'undeliverable',
      record: b,
      at: now,
      error: 'SNS x: InvalidParameterException: Invalid parameter: Subject',
    });
    expect((await store.outbox({ op: 'list' })).map((e) => e.record.id)).not.toContain(b.id);
    const listed = await listEvents(store, lb);
    expect(listed.map((e) => [e.record.id, e.publishedAt, e.deliveryError])).toEqual([
      [a.id, null, null],
      [b.id, null, { at: now.toISOString(), error: 'SNS x: InvalidParameterException: Invalid parameter: Subject' }],
    ]);
    await store.appendEvent(b); // a re-drain does not queue a refused event again
    expect((await store.outbox({ op: 'list' })).map((e) => e.record.id)).not.toContain(b.id);

    // redeliver: queued again, the mark cleared; once published it cannot be re-queued.
    await store.outbox({ op: 'requeue', record: b });
    expect((await store.outbox({ op: 'list' })).find((e) => e.record.id === b.id)).toMatchObject({
      attempts: 0,
      notBefore: null,
    });
    expect((await listEvents(store, lb))[1]?.deliveryError).toBeNull();
    await store.outbox({ op: 'published', record: b, at: now, messageId: 'm-1' });
    await expect(store.outbox({ op: 'requeue', record: b })).rejects.toThrow(/published already/);
  });

  it('a re-drain of a queued event keeps its claim and its retry count (a second writer cannot take it)', async () => {
    lb = fresh();
    const [record] = chainEvents([event(lb, 1)], { seq: 0, hash: '0'.repeat(64) }).chained as [ChainedEvent];
    await store.appendEvent(record);
    const now = new Date('2026-11-25T10:05:00Z');
    expect(
      (await store.outbox({ op: 'claim', id: record.id, claimant: 'writer-a', now: now, leaseMs: 60_000 })) !== null,
    ).toBe(true);
    await store.appendEvent(record); // writer b drains the same pending event
    expect(
      (await store.outbox({ op: 'claim', id: record.id, claimant: 'writer-b', now: now, leaseMs: 60_000 })) !== null,
    ).toBe(false);
    await store.outbox({
      op: 'defer',
      id: record.id,
      retry: {
        attempts: 3,
        notBefore: '2026-11-25T10:09:00.000Z',
        lastError: 'SNS: Throttled',
      },
    });
    await store.appendEvent(record);
    expect((await store.outbox({ op: 'list' })).find((e) => e.record.id === record.id)).toMatchObject({
      attempts: 3,
      notBefore: '2026-11-25T10:09:00.000Z',
    });
  });

  it('drops, unpublished, a copy queued again after the event was published', async () => {
    lb = fresh();
    const [record] = chainEvents([event(lb, 1)], { seq: 0, hash: '0'.repeat(64) }).chained as [ChainedEvent];
    await store.appendEvent(record);
    const published: string[] = [];
    const sink = {
      description: 'counting',
      publish: async (e: ChainedEvent) => (published.push(e.id), { messageId: `m-${published.length}` }),
    };
    const deps = { store, sink, now: () => new Date('2026-11-25T10:05:00Z'), claimant: 'a' };
    await flushOutbox(deps, new Set([record.id]));
    await queueBehindTheStoresBack(store, record); // a re-drain that read "not published" just before
    const second = await flushOutbox({ ...deps, claimant: 'b' }, new Set([record.id]));
    expect(published).toEqual([record.id]);
    expect(second.published).toEqual([]);
    expect((await store.outbox({ op: 'list' })).map((e) => e.record.id)).not.toContain(record.id);
    expect((await store.getEvent(record.loadBalancer, record.seq))?.publishedAt).toEqual(expect.any(String));
  });

  it('publishes an event redeliver queued while its undeliverable mark is still there', async () => {
    lb = fresh();
    const [record] = chainEvents([event(lb, 1)], { seq: 0, hash: '0'.repeat(64) }).chained as [ChainedEvent];
    await store.appendEvent(record);
    const now = new Date('2026-11-25T10:05:00Z');
    await store.outbox({ op: 'undeliverable', record, at: now, error: 'SNS x: NotFound: Topic does not exist' });
    await queueBehindTheStoresBack(store, record); // requeue's first step; the mark is cleared after it
    const published: string[] = [];
    const sink = {
      description: 'counting',
      publish: async (e: ChainedEvent) => (published.push(e.id), { messageId: 'm-1' }),
    };
    await flushOutbox({ store, sink, now: () => now, claimant: 'w' }, new Set([record.id]));
    expect(published).toEqual([record.id]);
  });

  it('keeps observations in time order within a window, and pre-warm targets', async () => {
    lb = fresh();
    const snap = (m: number) => ({
      observation: { azs: { 'us-east-1a': { provisioned: m, advertised: m } }, nodes: [], errors: [] },
      backends: [],
    });
    for (const m of [1, 2, 3])
      await store.observations({
        op: 'put',
        observation: { loadBalancer: lb, at: `2026-11-25T10:0${m}:00.000Z`, snapshot: snap(m) },
        ttlDays: 30,
      });
    const window = await store.observations({
      op: 'list',
      lb,
      from: '2026-11-25T10:02:00.000Z',
      to: '2026-11-25T10:03:00.000Z',
    });
    expect(window.map((o) => o.snapshot)).toEqual([snap(2), snap(3)]);
    await store.prewarms({
      op: 'put',
      target: {
        id: 'pw-1',
        loadBalancer: lb,
        nodesPerAz: 3,
        total: null,
        deadline: null,
        caseId: '1234',
        requestedAt: '2026-11-25T10:00:00.000Z',
      },
    });
    expect(await store.prewarms({ op: 'list', lb })).toEqual([expect.objectContaining({ id: 'pw-1', caseId: '1234' })]);
  });
});

describe('LocalStore', () => {
  it('queues an event again when a crash came between writing its audit record and its outbox file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-store-'));
    const store = localStore(dir);
    const [record] = chainEvents([event('crash', 1)], { seq: 0, hash: '0'.repeat(64) }).chained;
    await store.appendEvent(record!);
    rmSync(join(dir, 'outbox', `${record!.id}.json`)); // the outbox write never happened
    await store.appendEvent(record!); // the next drain
    expect((await store.outbox({ op: 'list' })).map((e) => e.record.id)).toEqual([record!.id]);
  });

  it('reads a directory an earlier elbscope wrote (event files of 8 digits) and continues its trail after them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-store-'));
    const { chained, head } = chainEvents([event('old', 1), event('old', 2)], emptyState().head.chain);
    mkdirSync(join(dir, 'loadbalancers', 'old', 'events'), { recursive: true });
    for (const e of chained)
      writeFileSync(join(dir, 'loadbalancers', 'old', 'events', `0000000${e.seq}.json`), JSON.stringify(e));
    writeFileSync(
      join(dir, 'loadbalancers', 'old', 'state.json'),
      JSON.stringify({ version: 1, state: flatState({ chain: head }) }),
    );
    const store = localStore(dir);
    expect((await store.getEvent('old', 2))?.record.id).toBe(chained[1]?.id);
    const [next] = await commitEvents(store, 'old', () => [event('old', 3)], { at: '2026-11-25T10:03:00.000Z' });
    expect(next?.seq).toBe(3);
    const trail = await listEvents(store, 'old');
    expect(trail.map((e) => e.record.seq)).toEqual([1, 2, 3]);
    expect(verifyChain('old', trail, (await store.getState('old'))?.state.head.chain ?? null)).toBeNull();
    expect(readdirSync(join(dir, 'loadbalancers', 'old', 'events')).sort()).toEqual([
      '0000000003.json',
      '00000001.json',
      '00000002.json',
    ]);
  });
});

describe('DynamoDB stand-in (dynalite) enforces what DynamoDB does', () => {
  // DynamoDB Developer Guide, "Service, account, and table quotas": "The maximum item size in DynamoDB is
  // 400 KB, which includes both attribute name binary length … and attribute value lengths"; a
  // ConditionExpression that fails is ConditionalCheckFailedException (HTTP 400).
  it('refuses an item over 400 KB with ValidationException, and a failed condition with ConditionalCheckFailedException', async () => {
    const store = dynamoDbStore(dynamo.client, dynamo.table);
    await expect(
      store.observations({
        op: 'put',
        observation: { loadBalancer: 'big', at: '2026-11-25T10:00:00.000Z', snapshot: { pad: 'x'.repeat(410_000) } },
        ttlDays: 30,
      }),
    ).rejects.toThrow(/Item size has exceeded the maximum allowed size/);
    const doc = DynamoDBDocumentClient.from(dynamo.client);
    const putIfAbsent = (data: string) =>
      doc.send(
        new PutCommand({
          TableName: dynamo.table,
          Item: { pk: 'LB#big', sk: 'PREWARM#pw-x', data },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    await putIfAbsent('{}');
    await expect(putIfAbsent('{"again": true}')).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
      $metadata: { httpStatusCode: 400 },
    });
    // The ledger turns the refused condition into its own typed conflict, naming the target.
    await expect(
      store.prewarms({
        op: 'put',
        target: {
          id: 'pw-x',
          loadBalancer: 'big',
          nodesPerAz: 2,
          total: null,
          deadline: null,
          caseId: null,
          requestedAt: '2026-11-25T10:00:00.000Z',
        },
      }),
    ).rejects.toThrow(/pre-warm target pw-x of big exists already/);
  });
});
