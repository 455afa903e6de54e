import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlertSink } from '../../../shared/alerts/sinks';
import type { RecordDeps } from '../../../shared/cycle/record';
import { commitEvents } from '../../../shared/ledger/commit';
import { flushOutbox } from '../../../shared/ledger/flush';
import { makeEvent } from '../../../shared/detect/events';
import type { ChainedEvent } from '../../../shared/detect/state';
import { recordHash } from '../../../shared/ledger/chain';
import { localStore } from '../../../shared/store/local';
import { runCli } from '../../../cli/program';

// The outbox holds copies of chained events; what goes out as an alert is the chained
// event in the audit trail, never the copy: an edited copy publishes the original, a
// forged entry (or one whose event was changed or removed) publishes nothing.
const at = '2026-11-25T10:02:00.000Z';
const event = (summary: string, m = 2) =>
  makeEvent({
    kind: 'scaled',
    status: 'event',
    severity: 'info',
    loadBalancer: 'web',
    az: 'us-east-1a',
    backend: null,
    from: 1,
    to: 3,
    at: `2026-11-25T10:0${m}:00.000Z`,
    summary,
    details: {},
  });

async function setup(): Promise<{
  dir: string;
  store: ReturnType<typeof localStore>;
  deps: RecordDeps;
  published: ChainedEvent[];
  warnings: string[];
  queued: ChainedEvent;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-outbox-integrity-'));
  const store = localStore(dir);
  const published: ChainedEvent[] = [];
  const warnings: string[] = [];
  const sink: AlertSink = { description: 'recording', publish: async (e) => (published.push(e), { messageId: 'm' }) };
  const deps: RecordDeps = { store, sink, now: () => new Date(at), claimant: 't', warn: (m) => warnings.push(m) };
  const [queued] = await commitEvents(store, 'web', () => [event('web us-east-1a scaled 1 → 3 nodes')], {
    at: '2026-11-25T10:00:00.000Z',
  });
  return { dir, store, deps, published, warnings, queued: queued! };
}
const outboxFile = (dir: string, id: string) => join(dir, 'outbox', `${id}.json`);

describe('Publishing from the outbox: the chained event, or nothing', () => {
  it('publishes the chained event when the outbox copy was edited (its text forged), and says so', async () => {
    const { dir, deps, published, warnings, queued } = await setup();
    const copy = JSON.parse(readFileSync(outboxFile(dir, queued.id), 'utf8'));
    writeFileSync(
      outboxFile(dir, queued.id),
      JSON.stringify({ ...copy, record: { ...copy.record, summary: 'web: all is well, ignore the pager' } }),
    );
    const result = await flushOutbox(deps);
    expect(result.published).toEqual([queued.id]);
    expect(published.map((e) => e.summary)).toEqual(['web us-east-1a scaled 1 → 3 nodes']);
    expect(warnings).toEqual([
      `outbox entry ${queued.id} differs from its chained event (it was edited): the chained event is what is published`,
    ]);
  });

  it('publishes nothing for a forged entry (an event the audit trail does not hold), and takes it out', async () => {
    const { dir, deps, published, warnings, queued } = await setup();
    await flushOutbox(deps); // the real one goes out
    const forged = { ...event('web: scaled 1 → 40 nodes, call finance', 3), seq: 2, prevHash: queued.hash };
    const forgedEvent = { ...forged, hash: recordHash(forged) };
    writeFileSync(outboxFile(dir, forgedEvent.id), JSON.stringify(forgedEvent));
    const result = await flushOutbox(deps);
    expect(result).toMatchObject({ published: [], rejected: [forgedEvent.id] });
    expect(published.map((e) => e.id)).toEqual([queued.id]);
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^outbox entry ${forgedEvent.id} has no sound event behind it at #2 of web's audit trail`),
      ),
    ]);
    expect(readdirSync(join(dir, 'outbox')).filter((f) => f.startsWith(forgedEvent.id))).toEqual([]);
  });

  it('publishes nothing when the event itself was changed or removed from the trail (verify names the break)', async () => {
    for (const damage of ['change', 'remove'] as const) {
      const { dir, deps, published, queued } = await setup();
      const file = join(dir, 'loadbalancers', 'web', 'events', '0000000001.json');
      if (damage === 'change')
        writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), summary: 'edited' }));
      else rmSync(file);
      const result = await flushOutbox(deps);
      expect(result.rejected, damage).toEqual([queued.id]);
      expect(published, damage).toEqual([]);
    }
  });

  it('verify names a forged outbox entry and an edited one before any flush', async () => {
    const verify = async (dir: string) => {
      const err: string[] = [];
      const code = await runCli(['verify', '--store', dir], { out: () => undefined, err: (t) => err.push(t), env: {} });
      return { code, err: err.join('\n') };
    };
    const edited = await setup();
    expect((await verify(edited.dir)).code).toBe(0);
    const copy = JSON.parse(readFileSync(outboxFile(edited.dir, edited.queued.id), 'utf8'));
    writeFileSync(
      outboxFile(edited.dir, edited.queued.id),
      JSON.stringify({ ...copy, record: { ...copy.record, summary: 'web: all is well' } }),
    );
    expect(await verify(edited.dir)).toEqual({
      code: 1,
      err: `elbscope: web: outbox entry ${edited.queued.id} differs from event #1 it copies (edited)`,
    });

    const forged = await setup();
    const fake = { ...event('web: scaled 1 → 40 nodes', 3), seq: 2, prevHash: forged.queued.hash };
    const fakeEvent = { ...fake, hash: recordHash(fake) };
    writeFileSync(outboxFile(forged.dir, fakeEvent.id), JSON.stringify(fakeEvent));
    expect(await verify(forged.dir)).toEqual({
      code: 1,
      err: `elbscope: web: outbox entry ${fakeEvent.id} copies no event of the audit trail (forged)`,
    });
  });
});
