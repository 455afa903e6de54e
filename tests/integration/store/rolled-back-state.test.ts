import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSink } from '../../../shared/alerts/sinks';
import { parseConfig } from '../../../shared/config/load';
import { recordCycle, type ChainHeads } from '../../../shared/cycle/record';
import type { Ledger } from '../../../shared/ledger/ledger';
import { keyFilePort } from '../../../shared/ledger/seal';
import { verifyChain } from '../../../shared/ledger/chain';
import { dynamoDbStore } from '../../../shared/store/dynamodb';
import { localStore } from '../../../shared/store/local';
import { startDynalite } from '../../helpers/dynalite';
import { nodeSnapshot } from '../../helpers/snapshots';
import { listEvents } from '../../../shared/ledger/store';

// An older, validly sealed copy of a state written back (a rollback, a restored backup):
// the state is behind the chain it wrote. Committing on it would fork the trail and
// every later drain would fail on the same place — every later alert silenced. It is
// moved aside, the chain continues from the stored head, the change is alerted.
const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
const dns = (lb: string) => `${lb}-1.us-east-1.elb.amazonaws.com`;

async function rolledBack(store: Ledger, lb: string) {
  const config = parseConfig({ loadBalancers: [{ dnsName: dns(lb) }], detect: { confirm: { m: 1, n: 1 } } }, 'test');
  const sent: string[] = [];
  const warned: string[] = [];
  const heads: ChainHeads[] = [];
  const sink: AlertSink = {
    description: 'test',
    publish: async (e) => (sent.push(`${e.kind}#${e.seq}`), { messageId: null }),
  };
  const cycle = (m: number, nodes: string[]) =>
    recordCycle(config, [nodeSnapshot(dns(lb), nodes)], at(m), {
      store,
      sink,
      now: () => new Date(at(m)),
      claimant: 't',
      warn: (w) => warned.push(w),
      onHead: (_lb, h) => heads.push(h),
    });
  const key = { kind: 'state', lb, id: 'state' } as const;

  await cycle(0, ['10.0.0.1']);
  await cycle(1, ['10.0.0.1']);
  const old = structuredClone((await store.records.get(key))?.value);
  await cycle(2, ['10.0.0.1', '10.0.0.2']); // scaled: #1
  await cycle(3, ['10.0.0.1', '10.0.0.2']);
  const current = await store.records.get(key);
  expect(await store.records.putIfVersion(key, old, current?.version ?? 0)).toBe(true); // the rollback

  const events = await cycle(4, ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  expect(warned).toEqual([]);
  expect(events.map((e) => [e.kind, e.seq])).toEqual([
    ['store-record-corrupt', 2],
    ['scaled', 3],
  ]);
  expect(events[0]?.summary).toContain('state behind its chain (rolled back?)');
  expect(sent).toEqual(['scaled#1', 'store-record-corrupt#2', 'scaled#3']);
  const state = await store.getState(lb);
  // The cycle's line names the head the store holds, not the one the stale state would have had.
  expect(heads.at(-1)).toMatchObject(state?.state.head.chain ?? {});
  expect(state?.state.head.chain.seq).toBe(3);
  expect(verifyChain(lb, await listEvents(store, lb), state?.state.head.chain ?? null)).toBeNull();
  // It keeps working: the next change is alerted once, the rollback announced only once.
  await cycle(5, ['10.0.0.1']);
  expect(sent).toEqual(['scaled#1', 'store-record-corrupt#2', 'scaled#3', 'scaled#4']);
  expect(warned).toEqual([]);
}

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dynamo = await startDynalite('elbscope-rollback');
});
afterAll(() => dynamo?.stop());

describe('a state rolled back behind its chain', () => {
  it('local store (sealed): moved aside, the chain continues, the change alerted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-rollback-'));
    const keyPath = join(mkdtempSync(join(tmpdir(), 'elbscope-key-')), 'seal.key');
    await rolledBack(
      localStore(dir, { seal: keyFilePort(keyPath, { create: true, now: () => new Date(at(0)) }) }),
      'web',
    );
    expect(
      readdirSync(join(dir, 'loadbalancers', 'web')).filter((f) => f.startsWith('state.json.corrupt-')),
    ).toHaveLength(1);
  });

  it('DynamoDB store: the same', async () => {
    await rolledBack(dynamoDbStore(dynamo.client, dynamo.table), 'api');
  });
});
