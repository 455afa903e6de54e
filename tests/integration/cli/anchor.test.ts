import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertAttributes, alertBody } from '../../../shared/alerts/format';
import { commitEvents } from '../../../shared/ledger/commit';
import { makeEvent } from '../../../shared/detect/events';
import type { ChainedEvent } from '../../../shared/detect/state';
import { recordHash } from '../../../shared/ledger/chain';
import { localStore } from '../../../shared/store/local';
import { runElbscope } from '../../helpers/cli';

// An audit chain is only as trustworthy as something outside the store that pins
// it: every alert carries the chain's head as of its event ("audit anchor"), every
// cycle's line the head after its commit, and `verify --anchor` proves the trail up
// to such an anchor was not rewritten — even a rewrite that recomputes every hash.
describe('Command: elbscope verify --anchor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-anchor-'));
  const event = (m: number, summary: string) =>
    makeEvent({
      kind: 'scaled',
      status: 'event',
      severity: 'info',
      loadBalancer: 'web',
      az: 'us-east-1a',
      backend: null,
      from: m,
      to: m + 1,
      at: `2026-11-25T10:0${m}:00.000Z`,
      summary,
      details: {},
    });
  const eventsFile = (seq: number) =>
    join(dir, 'loadbalancers', 'web', 'events', `${String(seq).padStart(10, '0')}.json`);
  const chained: ChainedEvent[] = [];

  it('finds the anchor an alert carries and proves the trail up to it', async () => {
    const store = localStore(dir);
    for (let m = 1; m <= 3; m++)
      chained.push(
        ...(await commitEvents(store, 'web', () => [event(m, `web us-east-1a scaled ${m} → ${m + 1} nodes`)], {
          at: '2026-11-25T10:00:00.000Z',
        })),
      );
    const last = chained[2]!;
    // What a person receiving the alert of #3 keeps: its body's anchor line, or the chainHead attribute.
    const line = alertBody(last)
      .split('\n')
      .find((l) => l.startsWith('audit anchor:'));
    expect(line).toBe(`audit anchor:  #3 ${last.hash}`);
    expect(alertAttributes(last).chainHead?.StringValue).toBe(`3:${last.hash}`);
    const r = await runElbscope(['verify', '--store', dir, '--anchor', line!.replace('audit anchor:', '').trim()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `web: anchor #3 ${last.hash} found; the 3 records up to it recompute to it from the first: not rewritten`,
    );
    const short = await runElbscope(['verify', '--store', dir, '--anchor', last.hash.slice(0, 16)]);
    expect(short.code).toBe(0);
  });

  it('catches a rewrite of the whole chain that plain verify cannot: the anchor is in no chain any more', async () => {
    // Rewrite #2 and re-hash #2 and #3 and the state's head, as an editor who knows the scheme would.
    const rewritten: ChainedEvent[] = [];
    let prev = chained[0]!.hash;
    for (const original of chained.slice(1)) {
      const changed = {
        ...original,
        summary: original.seq === 2 ? 'web us-east-1a scaled 2 → 9 nodes' : original.summary,
        prevHash: prev,
      };
      const hash = recordHash(changed);
      rewritten.push({ ...changed, hash });
      prev = hash;
      writeFileSync(eventsFile(original.seq), JSON.stringify({ ...changed, hash }, null, 2));
    }
    const stateFile = join(dir, 'loadbalancers', 'web', 'state.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    state.state.head.chain = { seq: 3, hash: prev };
    // The digest written beside the state, recomputed too (the editor knows the scheme).
    state.digest = createHash('sha256').update(JSON.stringify(state.state)).digest('hex');
    writeFileSync(stateFile, JSON.stringify(state, null, 2));

    // …and the outbox's copies of the rewritten events (they would give the rewrite away).
    for (const e of rewritten) {
      const file = join(dir, 'outbox', `${e.id}.json`);
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), record: e }));
    }
    const plain = await runElbscope(['verify', '--store', dir]);
    expect(plain.code, plain.stderr).toBe(0); // consistent with itself: without an anchor a full rewrite passes
    const anchored = await runElbscope(['verify', '--store', dir, '--anchor', `#3 ${chained[2]!.hash}`]);
    expect(anchored.code).toBe(1);
    expect(anchored.stderr.trim()).toBe(
      `elbscope: anchor ${chained[2]!.hash} is in no audit or observations chain of local store ${dir}: the trail it was taken from was rewritten or cut, or the anchor is from another store`,
    );
    // An anchor from before the rewrite still holds: the trail up to #1 is the one it was taken from.
    const first = await runElbscope(['verify', '--store', dir, '--anchor', `1:${chained[0]!.hash}`]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`web: anchor #1 ${chained[0]!.hash} found`);
  });

  it('refuses what is not an anchor in one line', async () => {
    const r = await runElbscope(['verify', '--store', dir, '--anchor', 'xyz']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/"xyz" is not an audit anchor/);
  });
});
