import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load';
import { recordCycle, type RecordDeps } from '../../../shared/cycle/record';
import { checkObservations, readObservations } from '../../../shared/report/build';
import { observationHash } from '../../../shared/ledger/chain';
import { localStore } from '../../../shared/store/local';
import { nodeSnapshot } from '../../helpers/snapshots';
import { runElbscope } from '../../helpers/cli';

// The stored observations — what the report's charts and node tables come from —
// are chained like the events, their head kept in the state: a changed, removed,
// inserted, reordered or cut-off observation shows in `verify` and the report; an
// observation that expired (the TTL) does not count as removed.
const DNS = 'web-1.us-east-1.elb.amazonaws.com';
const T0 = Date.parse('2026-11-25T10:00:00Z');

async function recorded(ttlDays = 30, stepMinutes = 1, cycles = 6): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-obs-chain-'));
  const config = parseConfig(
    {
      loadBalancers: [{ dnsName: DNS }],
      store: { observationTtlDays: ttlDays },
      capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 },
    },
    'test',
  );
  const store = localStore(dir);
  for (let i = 0; i < cycles; i++) {
    const at = new Date(T0 + i * stepMinutes * 60_000);
    const deps: RecordDeps = {
      store,
      sink: { description: 'none', publish: async () => ({ messageId: null }) },
      now: () => at,
      claimant: 't',
    };
    // A node more each cycle: what the observation shows changes, so each is stored.
    await recordCycle(
      config,
      [
        nodeSnapshot(
          DNS,
          Array.from({ length: 1 + i }, (_, n) => `10.0.0.${n + 1}`),
        ),
      ],
      at.toISOString(),
      deps,
    );
  }
  return dir;
}
const obsDir = (dir: string) => join(dir, 'loadbalancers', 'web', 'observations');
const files = (dir: string) =>
  readdirSync(obsDir(dir))
    .filter((f) => f.endsWith('.json'))
    .sort();
const check = async (dir: string, now = new Date(T0 + 3_600_000)) => {
  const store = localStore(dir);
  return checkObservations(
    'web',
    await readObservations(store, 'web'),
    (await store.getState('web'))?.state.head.observationChain ?? null,
    now,
  );
};

describe("The stored observations' chain", () => {
  it('verifies every stored observation, and verify and the report say so', async () => {
    const dir = await recorded();
    expect(files(dir)).toHaveLength(6);
    expect(await check(dir)).toEqual({ verified: 6, unchained: 0, expired: 0, uncommitted: 0, firstBreak: null });
    const r = await runElbscope(['verify', '--store', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('web: observations intact: 6 verified');
    const md = await runElbscope(['report', '--lb', 'web', '--store', dir]);
    // No event yet (a node more each cycle is no confirmed scale-up at 2 of 3 until the third): the observations still
    // verify.
    expect(md.stdout).toMatch(
      /Audit chain: intact: \d+ records, every hash and link recomputed(, head #\d+ [0-9a-f]{64})?; observations 6 verified(; seals: 0 verified with the key file \S+, 7 sealed without a key \(before keys\))?\./,
    );
  });

  it.each([
    [
      'a node IP changed in one',
      (dir: string) => {
        const f = join(obsDir(dir), files(dir)[2]!);
        writeFileSync(f, readFileSync(f, 'utf8').replace('10.0.0.2', '10.0.0.99'));
      },
      /observation #3's content does not match its hash \(it was changed/,
    ],
    [
      'one in the middle removed',
      (dir: string) => rmSync(join(obsDir(dir), files(dir)[2]!)),
      /observation #3 is missing \(removed\), or they were reordered/,
    ],
    [
      'the last removed',
      (dir: string) => rmSync(join(obsDir(dir), files(dir)[5]!)),
      /the chain's head is observation #6 but the last stored is #5 \(observations were removed from the end\)/,
    ],
    [
      'the first removed (not due to expire)',
      (dir: string) => rmSync(join(obsDir(dir), files(dir)[0]!)),
      /observations #1-#1 are missing and were not due to expire \(removed\)/,
    ],
    [
      'two swapped',
      (dir: string) => {
        const [a, b] = [join(obsDir(dir), files(dir)[1]!), join(obsDir(dir), files(dir)[2]!)];
        const [ta, tb] = [readFileSync(a, 'utf8'), readFileSync(b, 'utf8')];
        writeFileSync(a, tb.replace(/"at": "[^"]+"/, `"at": "${JSON.parse(ta).at}"`));
        writeFileSync(b, ta.replace(/"at": "[^"]+"/, `"at": "${JSON.parse(tb).at}"`));
      },
      /observation #\d's content does not match its hash/,
    ],
    [
      'a forged one inserted after the head',
      (dir: string) => {
        const last = JSON.parse(readFileSync(join(obsDir(dir), files(dir)[5]!), 'utf8'));
        for (const seq of [7, 8])
          writeFileSync(
            join(obsDir(dir), `2026-11-25T11-0${seq}-00.000Z.json`),
            JSON.stringify({ ...last, at: `2026-11-25T11:0${seq}:00.000Z`, seq }),
          );
      },
      /observation #\d's content does not match its hash \(it was changed, or forged\)/,
    ],
    [
      'a sound one inserted that forks from nowhere',
      (dir: string) => {
        const last = JSON.parse(readFileSync(join(obsDir(dir), files(dir)[5]!), 'utf8'));
        const forged = { ...last, at: '2026-11-25T11:00:00.000Z', seq: 9, prevHash: 'f'.repeat(64) };
        writeFileSync(
          join(obsDir(dir), '2026-11-25T11-00-00.000Z.json'),
          JSON.stringify({ ...forged, hash: observationHash(forged) }),
        );
      },
      /observation #9 is not on the chain that ends at the head #6 and does not fork from it \(inserted\)/,
    ],
  ])('names the break when %s, in verify (exit 1) and the report', async (_label, damage, reason) => {
    const dir = await recorded();
    const copy = mkdtempSync(join(tmpdir(), 'elbscope-obs-damaged-'));
    cpSync(dir, copy, { recursive: true });
    damage(copy);
    expect((await check(copy)).firstBreak?.reason).toMatch(reason);
    const r = await runElbscope(['verify', '--store', copy]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(reason);
    const md = await runElbscope(['report', '--lb', 'web', '--store', copy]);
    expect(md.stdout).toMatch(/Audit chain: BROKEN at record #\d+ \(observation of /);
  });

  it('does not mistake expiry for removal: observations past their TTL (pruned) are counted as expired', async () => {
    // One a day, kept one day: the store prunes the older ones as it goes.
    const dir = await recorded(1, 24 * 60, 5);
    expect(files(dir).length).toBeLessThan(5);
    const c = await check(dir, new Date(T0 + 5 * 86_400_000));
    expect(c.firstBreak).toBeNull();
    expect(c.expired).toBeGreaterThan(0);
    expect(c.verified + c.expired).toBe(5);
  });

  it('goes on from the stored observations when the state did not parse and was rebuilt', async () => {
    const dir = await recorded();
    writeFileSync(join(dir, 'loadbalancers', 'web', 'state.json'), '{"version": 3, "state": {');
    const config = parseConfig(
      { loadBalancers: [{ dnsName: DNS }], capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 } },
      'test',
    );
    const at = new Date(T0 + 30 * 60_000);
    await recordCycle(config, [nodeSnapshot(DNS, ['10.0.0.1'])], at.toISOString(), {
      store: localStore(dir),
      sink: { description: 'none', publish: async () => ({ messageId: null }) },
      now: () => at,
      claimant: 't',
    });
    expect(await check(dir)).toEqual({ verified: 7, unchained: 0, expired: 0, uncommitted: 0, firstBreak: null });
  });

  it('counts an observation written for a commit that never came (a crash, a lost race) apart, without calling it tampering, and leaves it out of the report', async () => {
    const dir = await recorded();
    // As the crashed cycle wrote it: chained after the head, its commit never came.
    const last = JSON.parse(readFileSync(join(obsDir(dir), files(dir)[5]!), 'utf8'));
    const orphan = {
      ...last,
      at: '2026-11-25T10:06:00.000Z',
      seq: 7,
      prevHash: last.hash,
      prevExpiresAt: last.expiresAt,
    };
    writeFileSync(
      join(obsDir(dir), '2026-11-25T10-06-00.000Z.json'),
      JSON.stringify({ ...orphan, hash: observationHash(orphan) }),
    );
    // As a second writer that lost the race at #4 wrote it: forking from #3, at its own time.
    const third = JSON.parse(readFileSync(join(obsDir(dir), files(dir)[2]!), 'utf8'));
    const lost = {
      ...third,
      at: '2026-11-25T10:02:30.000Z',
      seq: 4,
      prevHash: third.hash,
      prevExpiresAt: third.expiresAt,
    };
    writeFileSync(
      join(obsDir(dir), '2026-11-25T10-02-30.000Z.json'),
      JSON.stringify({ ...lost, hash: observationHash(lost) }),
    );
    expect(await check(dir)).toMatchObject({ verified: 6, uncommitted: 2, firstBreak: null });
    const r = await runElbscope(['verify', '--store', dir]);
    expect(r.code).toBe(0);
    const json = JSON.parse(
      (await runElbscope(['report', '--lb', 'web', '--store', dir, '--format', 'json'])).stdout,
    ) as { nodesPerAz: { at: string }[] };
    expect(json.nodesPerAz.map((row) => row.at)).not.toContain('2026-11-25T10:02:30.000Z');
    expect(json.nodesPerAz.map((row) => row.at)).not.toContain('2026-11-25T10:06:00.000Z');
    expect(json.nodesPerAz.length).toBeGreaterThan(0);
  });

  it('anchors: the head a cycle carries proves the observations up to it; a rewrite of the whole chain, which plain verify passes, loses the anchor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-obs-anchor-'));
    const config = parseConfig(
      { loadBalancers: [{ dnsName: DNS }], capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 } },
      'test',
    );
    const heads: { seq: number; hash: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const at = new Date(T0 + i * 60_000);
      const deps: RecordDeps = {
        store: localStore(dir),
        sink: { description: 'none', publish: async () => ({ messageId: null }) },
        now: () => at,
        claimant: 't',
        onHead: (_lb, h) => h.observations && heads.push(h.observations),
      };
      await recordCycle(
        config,
        [
          nodeSnapshot(
            DNS,
            Array.from({ length: 1 + i }, (_, n) => `10.0.0.${n + 1}`),
          ),
        ],
        at.toISOString(),
        deps,
      );
    }
    // What the fourth cycle's line carried (`observations #4 <hash>`) is the fourth stored observation.
    const anchor = heads[3]!;
    expect(anchor.seq).toBe(4);
    expect(JSON.parse(readFileSync(join(obsDir(dir), files(dir)[3]!), 'utf8')).hash).toBe(anchor.hash);
    const proved = await runElbscope(['verify', '--store', dir, '--anchor', anchor.hash.slice(0, 16)]);
    expect(proved.code).toBe(0);
    expect(proved.stdout).toContain(
      `web: observation anchor #4 ${anchor.hash} found; the 4 observations up to it recompute to it: not rewritten`,
    );

    // Rewrite #2 and re-hash #2 to #6 and the state's head, as an editor who knows the scheme would.
    let prevHash: string | undefined;
    for (const [i, f] of files(dir).entries()) {
      const file = join(obsDir(dir), f);
      const o = JSON.parse(readFileSync(file, 'utf8'));
      if (i === 1) o.snapshot.observation.nodes[0].ip = '10.9.9.9';
      if (prevHash !== undefined) o.prevHash = prevHash;
      o.hash = observationHash(o);
      prevHash = o.hash;
      writeFileSync(file, JSON.stringify(o));
    }
    const stateFile = join(dir, 'loadbalancers', 'web', 'state.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    state.state.head.observationChain.hash = prevHash;
    // The digest written beside the state, recomputed too (the editor knows the scheme).
    state.digest = createHash('sha256').update(JSON.stringify(state.state)).digest('hex');
    writeFileSync(stateFile, JSON.stringify(state));
    expect((await runElbscope(['verify', '--store', dir])).code).toBe(0);
    const lost = await runElbscope(['verify', '--store', dir, '--anchor', anchor.hash]);
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain(`anchor ${anchor.hash} is in no audit or observations chain`);
  });
});
