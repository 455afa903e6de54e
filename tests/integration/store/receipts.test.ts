import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlertSink } from '../../../shared/alerts/sinks';
import { makeEvent } from '../../../shared/detect/events';
import type { ChainedEvent } from '../../../shared/detect/state';
import { commitEvents } from '../../../shared/ledger/commit';
import { flushOutbox } from '../../../shared/ledger/flush';
import { localStore } from '../../../shared/store/local';
import { runCli } from '../../../cli/program';

// A receipt says an alert went out (or why it cannot): it is sealed to its event,
// so `verify` names one that was edited, moved onto another event, or removed —
// and an edited or unreadable receipt still stops a second publish.
const at = (m: number) => `2026-11-25T10:0${m}:00.000Z`;
const event = (m: number) =>
  makeEvent({
    kind: 'scaled',
    status: 'event',
    severity: 'info',
    loadBalancer: 'web',
    az: 'us-east-1a',
    backend: null,
    from: m,
    to: m + 1,
    at: at(m),
    summary: `web us-east-1a scaled ${m} → ${m + 1} nodes`,
    details: {},
  });

/** A store with three events: #1 and #2 published, #3 waiting in the outbox (its sink down). */
async function seeded(): Promise<{ dir: string; events: ChainedEvent[]; receipt: (e: ChainedEvent) => string }> {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-receipts-'));
  const store = localStore(dir);
  const ok: AlertSink = { description: 'ok', publish: async () => ({ messageId: 'm' }) };
  const down: AlertSink = {
    description: 'down',
    publish: async () => Promise.reject(Object.assign(new Error('down'), { name: 'InternalError' })),
  };
  const events: ChainedEvent[] = [];
  for (const m of [1, 2, 3]) {
    events.push(...(await commitEvents(store, 'web', () => [event(m)], { at: '2026-11-25T10:00:00.000Z' })));
    await flushOutbox({ store, sink: m < 3 ? ok : down, now: () => new Date(at(m)), claimant: 't' });
  }
  return { dir, events, receipt: (e) => join(dir, 'loadbalancers', 'web', 'published', `${e.id}.json`) };
}

async function verify(dir: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['verify', '--store', dir], { out: (t) => out.push(t), err: (t) => err.push(t), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('Receipts in the audit', () => {
  it('verify counts delivered and waiting events when every receipt holds', async () => {
    const { dir } = await seeded();
    const r = await verify(dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('web: receipts: 2 delivered or refused for good, 1 on their way');
  });

  it('names an edited receipt, a receipt moved onto another event, a removed one, and one for no event', async () => {
    const cases: [string, (s: Awaited<ReturnType<typeof seeded>>) => void, RegExp][] = [
      [
        'edited',
        ({ events, receipt }) =>
          writeFileSync(
            receipt(events[0]!),
            readFileSync(receipt(events[0]!), 'utf8').replace(
              /"publishedAt": "[^"]+"/,
              '"publishedAt": "2026-11-25T09:00:00.000Z"',
            ),
          ),
        /the receipt of record #1 its content does not hash to its seal \(edited\)/,
      ],
      [
        'moved',
        ({ events, receipt }) => cpSync(receipt(events[1]!), receipt(events[0]!)),
        /the receipt of record #1 it closes another event \(\w+ #2\)/,
      ],
      [
        'removed',
        ({ events, receipt }) => rmSync(receipt(events[1]!)),
        /record #2 has no receipt and is not in the outbox: its receipt was removed, or the alert was lost/,
      ],
      [
        'inserted for no event',
        ({ dir, events, receipt }) =>
          cpSync(receipt(events[0]!), join(dir, 'loadbalancers', 'web', 'published', 'ffffffffffffffffffffffff.json')),
        /a receipt for ffffffffffffffffffffffff, which is no stored event \(inserted, or its event removed\)/,
      ],
    ];
    for (const [label, damage, reason] of cases) {
      const seed = await seeded();
      damage(seed);
      const r = await verify(seed.dir);
      expect(r.code, label).toBe(1);
      expect(r.err, label).toMatch(reason);
      expect(
        r.err.split('\n').filter((l) => l.startsWith('elbscope: ')),
        label,
      ).toHaveLength(1);
    }
  });

  it('an edited or unreadable receipt still closes its event: the next flush publishes nothing again', async () => {
    for (const text of ['{"publishedAt": "2026-11-25T09:00:00.000Z", "hash": "forged"}', '{"cut']) {
      const { dir, events, receipt } = await seeded();
      writeFileSync(receipt(events[0]!), text);
      const store = localStore(dir);
      // Queue #1 again behind the store's back, as a re-drain racing a publisher can.
      writeFileSync(join(dir, 'outbox', `${events[0]!.id}.json`), JSON.stringify(events[0]));
      const published: string[] = [];
      await flushOutbox({
        store,
        sink: { description: 'rec', publish: async (e) => (published.push(e.id), { messageId: null }) },
        now: () => new Date(at(9)),
        claimant: 'u',
      });
      expect(published, text).toEqual([events[2]!.id]); // #3, waiting; never #1 again
      expect(
        readdirSync(join(dir, 'outbox')).filter((f) => f.endsWith('.json')),
        text,
      ).toEqual([]);
    }
  });
});
