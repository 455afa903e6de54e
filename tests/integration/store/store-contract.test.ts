import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushOutbox } from '../../../shared/ledger/flush';
import type { ChainedEvent } from '../../../shared/detect/state';
import { emptyState } from '../../../shared/detect/state';
import { makeEvent } from '../../../shared/detect/events';
import { chainEvents } from '../../../shared/ledger/chain';
import { DynamoDbStore } from '../../../shared/store/dynamodb';
import { LocalStore } from '../../../shared/store/local';
import type { Store } from '../../../shared/ledger/store';
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
      const store = new LocalStore(dir);
      localDirs.set(store, dir);
      return store;
    },
  ],
  ['DynamoDbStore', () => new DynamoDbStore(dynamo.client, dynamo.table)],
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
    s.lastCycleAt = '2026-11-25T10:00:00.000Z';
    expect(await store.putState(lb, s, 1)).toBe(true);
    expect(await store.putState(lb, { ...s, lastCycleAt: 'stale' }, 1)).toBe(false); // a writer that read version 1 loses
    expect(await store.getState(lb)).toMatchObject({ version: 2, state: { lastCycleAt: '2026-11-25T10:00:00.000Z' } });
    expect(await store.listLoadBalancers()).toContain(lb);
  });

  it('lets exactly one of two racing writers win', async () => {
    lb = fresh();
    await store.putState(lb, emptyState(), 0);
    const results = await Promise.all([
      store.putState(lb, { ...emptyState(), lastCycleAt: 'a' }, 1),
      store.putState(lb, { ...emptyState(), lastCycleAt: 'b' }, 1),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('appends events idempotently, keeps order, and queues them in the outbox until published', async () => {
    lb = fresh();
    const { chained } = chainEvents([event(lb, 1), event(lb, 2, 'az-added')], { seq: 0, hash: '0'.repeat(64) });
    for (const r of chained) await store.appendEvent(r);
    for (const r of chained) await store.appendEvent(r); // a retry
    const listed = await store.listEvents(lb);
    expect(listed.map((e) => [e.record.seq, e.record.id, e.publishedAt])).toEqual(
      chained.map((r) => [r.seq, r.id, null]),
    );
    expect((await store.listOutbox()).filter((e) => e.record.loadBalancer === lb).map((e) => e.record.id)).toEqual(
      chained.map((r) => r.id),
    );

    const other = chainEvents([event(lb, 9)], { seq: 0, hash: '0'.repeat(64) }).chained[0];
    await expect(store.appendEvent({ ...other!, seq: 1 })).rejects.toThrow(/already holds event/);

    const now = new Date('2026-11-25T10:05:00Z');
    const first = chained[0]!;
    expect(await store.claimOutbox(first.id, 'a', now, 60_000)).toBe(true);
    expect(await store.claimOutbox(first.id, 'b', now, 60_000)).toBe(false);
    expect(await store.claimOutbox(first.id, 'b', new Date(now.getTime() + 61_000), 60_000)).toBe(true); // lease expired
    await store.markPublished(first, now, 'msg-1');
    expect((await store.listOutbox()).map((e) => e.record.id)).not.toContain(first.id);
    expect((await store.listEvents(lb))[0]?.publishedAt).toBe(now.toISOString());
    await store.appendEvent(first); // appending a published event again does not re-queue it
    expect((await store.listOutbox()).map((e) => e.record.id)).not.toContain(first.id);
  });

  it('keeps transient failures with the entry, and marks permanent ones beside the event, out of the outbox', async () => {
    lb = fresh();
    const { chained } = chainEvents([event(lb, 1), event(lb, 2, 'az-added')], { seq: 0, hash: '0'.repeat(64) });
    for (const r of chained) await store.appendEvent(r);
    const [a, b] = chained as [(typeof chained)[0], (typeof chained)[0]];
    const now = new Date('2026-11-25T10:05:00Z');
    expect(await store.claimOutbox(a.id, 'w', now, 60_000)).toBe(true);
    await store.deferOutbox(a.id, {
      attempts: 2,
      notBefore: '2026-11-25T10:07:00.000Z',
      lastError: 'SNS x: ThrottledException: Rate exceeded',
      delivered: ['console'],
    });
    const mine = (await store.listOutbox()).filter((e) => e.record.loadBalancer === lb);
    expect(mine.map((e) => [e.record.id, e.attempts, e.notBefore, e.lastError, e.delivered])).toEqual([
      [a.id, 2, '2026-11-25T10:07:00.000Z', 'SNS x: ThrottledException: Rate exceeded', ['console']],
      [b.id, 0, null, null, []],
    ]);
    expect(await store.claimOutbox(a.id, 'w2', now, 60_000)).toBe(true); // deferring released the claim

    await store.markUndeliverable(b, now, 'SNS x: InvalidParameterException: Invalid parameter: Subject');
    expect((await store.listOutbox()).map((e) => e.record.id)).not.toContain(b.id);
    const listed = await store.listEvents(lb);
    expect(listed.map((e) => [e.record.id, e.publishedAt, e.deliveryError])).toEqual([
      [a.id, null, null],
      [b.id, null, { at: now.toISOString(), error: 'SNS x: InvalidParameterException: Invalid parameter: Subject' }],
    ]);
    await store.appendEvent(b); // a re-drain does not queue a refused event again
    expect((await store.listOutbox()).map((e) => e.record.id)).not.toContain(b.id);

    // redeliver: queued again, the mark cleared; once published it cannot be re-queued.
    await store.requeue(b);
    expect((await store.listOutbox()).find((e) => e.record.id === b.id)).toMatchObject({
      attempts: 0,
      notBefore: null,
    });
    expect((await store.listEvents(lb))[1]?.deliveryError).toBeNull();
    await store.markPublished(b, now, 'm-1');
    await expect(store.requeue(b)).rejects.toThrow(/published already/);
  });

  it('a re-drain of a queued event keeps its claim and its retry count (a second writer cannot take it)', async () => {
    lb = fresh();
    const [record] = chainEvents([event(lb, 1)], { seq: 0, hash: '0'.repeat(64) }).chained as [ChainedEvent];
    await store.appendEvent(record);
    const now = new Date('2026-11-25T10:05:00Z');
    expect(await store.claimOutbox(record.id, 'writer-a', now, 60_000)).toBe(true);
    await store.appendEvent(record); // writer b drains the same pending event
    expect(await store.claimOutbox(record.id, 'writer-b', now, 60_000)).toBe(false);
    await store.deferOutbox(record.id, {
      attempts: 3,
      notBefore: '2026-11-25T10:09:00.000Z',
      lastError: 'SNS: Throttled',
    });
    await store.appendEvent(record);
    expect((await store.listOutbox()).find((e) => e.record.id === record.id)).toMatchObject({
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
    expect((await store.listOutbox()).map((e) => e.record.id)).not.toContain(record.id);
    expect((await store.getEvent(record.loadBalancer, record.seq))?.publishedAt).toEqual(expect.any(String));
  });

  it('publishes an event redeliver queued while its undeliverable mark is still there', async () => {
    lb = fresh();
    const [record] = chainEvents([event(lb, 1)], { seq: 0, hash: '0'.repeat(64) }).chained as [ChainedEvent];
    await store.appendEvent(record);
    const now = new Date('2026-11-25T10:05:00Z');
    await store.markUndeliverable(record, now, 'SNS x: NotFound: Topic does not exist');
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
      await store.putObservation({ loadBalancer: lb, at: `2026-11-25T10:0${m}:00.000Z`, snapshot: snap(m) }, 30);
    const window = await store.listObservations(lb, '2026-11-25T10:02:00.000Z', '2026-11-25T10:03:00.000Z');
    expect(window.map((o) => o.snapshot)).toEqual([snap(2), snap(3)]);
    await store.putPrewarm({
      id: 'pw-1',
      loadBalancer: lb,
      nodesPerAz: 3,
      total: null,
      deadline: null,
      caseId: '1234',
      requestedAt: '2026-11-25T10:00:00.000Z',
    });
    expect(await store.listPrewarms(lb)).toEqual([expect.objectContaining({ id: 'pw-1', caseId: '1234' })]);
  });
});

describe('LocalStore', () => {
  it('queues an event again when a crash came between writing its audit record and its outbox file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-store-'));
    const store = new LocalStore(dir);
    const [record] = chainEvents([event('crash', 1)], { seq: 0, hash: '0'.repeat(64) }).chained;
    await store.appendEvent(record!);
    rmSync(join(dir, 'outbox', `${record!.id}.json`)); // the outbox write never happened
    await store.appendEvent(record!); // the next drain
    expect((await store.listOutbox()).map((e) => e.record.id)).toEqual([record!.id]);
  });
});

describe('DynamoDB stand-in (dynalite) enforces what DynamoDB does', () => {
  // DynamoDB Developer Guide, "Service, account, and table quotas": "The maximum item size in DynamoDB is
  // 400 KB, which includes both attribute name binary length … and attribute value lengths"; a
  // ConditionExpression that fails is ConditionalCheckFailedException (HTTP 400).
  it('refuses an item over 400 KB with ValidationException, and a failed condition with ConditionalCheckFailedException', async () => {
    const store = new DynamoDbStore(dynamo.client, dynamo.table);
    await expect(
      store.putObservation(
        { loadBalancer: 'big', at: '2026-11-25T10:00:00.000Z', snapshot: { pad: 'x'.repeat(410_000) } },
        30,
      ),
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
      store.putPrewarm({
        id: 'pw-x',
        loadBalancer: 'big',
        nodesPerAz: 2,
        total: null,
        deadline: null,
        caseId: null,
        requestedAt: '2026-11-25T10:00:00.000Z',
      }),
    ).rejects.toThrow(/pre-warm target pw-x of big exists already/);
  });
});
