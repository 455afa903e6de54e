import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSink } from '../../shared/alerts/sinks';
import { parseConfig } from '../../shared/config/load';
import { recordCycle } from '../../shared/cycle/record';
import { verifyChain } from '../../shared/ledger/chain';
import { localStore } from '../../shared/store/local';
import { nodeSnapshot } from '../helpers/snapshots';
import { runElbscope } from '../helpers/cli';
import { startElbscope } from '../helpers/running-cli';
import { openStore } from '../../cli/store';
import { useQuietLab } from '../helpers/lab-elb';
import { listEvents } from '../../shared/ledger/store';

// A real full disk: a 512 KiB tmpfs (mounting needs root, which CI has). Cycles run
// while the disk is full, then space comes back: the store recovers with no manual
// repair, every record on disk parses, the chain verifies, no alert is lost.
const root = process.getuid?.() === 0;
if (!root && process.env.CI) throw new Error('the disk-full test mounts a tmpfs and needs root, which CI has');
const mnt = mkdtempSync(join(tmpdir(), 'elbscope-diskfull-'));
let mounted = false;
beforeAll(() => {
  if (!root) return;
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt]);
  mounted = true;
});
afterAll(() => {
  if (mounted) execFileSync('umount', [mnt]);
});

const web = (ips: string[]) => nodeSnapshot('web-1.us-east-1.elb.amazonaws.com', ips);
const config = parseConfig(
  { loadBalancers: [{ dnsName: 'web-1.us-east-1.elb.amazonaws.com' }], detect: { confirm: { m: 1, n: 1 } } },
  'test',
);
const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();

function fill(dir: string): void {
  // Fill the disk to the last byte the filesystem will take.
  for (let size = 1 << 20; size >= 64; size >>= 1) {
    for (let i = 0; ; i++) {
      try {
        writeFileSync(join(dir, `filler-${size}-${i}`), Buffer.alloc(size));
      } catch {
        rmSync(join(dir, `filler-${size}-${i}`), { force: true });
        break;
      }
    }
  }
}

describe.skipIf(!root)('A full disk under the local store', () => {
  it('recovers with no manual repair once space comes back: every record parses, the chain verifies, no alert lost', async () => {
    const dir = join(mnt, 'store');
    const store = localStore(dir);
    const sent: string[] = [];
    const sink: AlertSink = { description: 'test', publish: async (e) => (sent.push(e.id), { messageId: null }) };
    const warnings: string[] = [];
    const deps = { store, sink, now: () => new Date(at(59)), claimant: 't', warn: (m: string) => warnings.push(m) };
    await recordCycle(config, [web(['10.0.0.1'])], at(0), deps);
    fill(mnt);
    // Cycles with changes while the disk is full: nothing may throw past recordCycle's own errors.
    const during: string[] = [];
    for (const [m, ips] of [
      [1, ['10.0.0.1', '10.0.0.2']],
      [2, ['10.0.0.1', '10.0.0.2', '10.0.0.3']],
    ] as const) {
      await recordCycle(config, [web([...ips])], at(m), deps).catch((e: Error) => during.push(e.message));
    }
    expect(warnings.length + during.length).toBeGreaterThan(0); // the disk was really full
    // Space comes back.
    for (const f of readdirSync(mnt).filter((n) => n.startsWith('filler-'))) rmSync(join(mnt, f));
    await recordCycle(config, [web(['10.0.0.1', '10.0.0.2', '10.0.0.3'])], at(3), deps);
    await recordCycle(config, [web(['10.0.0.1', '10.0.0.2', '10.0.0.3'])], at(4), deps);

    // Every file on disk parses (no half-written record), no temp file is left.
    const files = (d: string): string[] =>
      readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : [join(d, n)]));
    for (const f of files(dir).filter((f) => f.endsWith('.json')))
      expect(() => JSON.parse(readFileSync(f, 'utf8')), f).not.toThrow();
    expect(files(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const [events, state] = await Promise.all([listEvents(store, 'web'), store.getState('web')]);
    expect(verifyChain('web', events, state?.state.head.chain ?? null)).toBeNull();
    // The node count reached 3 and was reported; every event in the trail was published.
    expect(events.at(-1)?.record.to).toBe(3);
    for (const e of events) expect(sent).toContain(e.record.id);
    expect(new Set(sent).size).toBe(sent.length); // and none twice
    expect(await store.outbox({ op: 'list' })).toEqual([]);
  });
});

describe.skipIf(!root)('A full disk under the store and the alert file of a running watch', () => {
  const running = useQuietLab({
    name: 'diskfull',
    region: 'us-east-1',
    nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1 },
  });
  const { lab } = running;

  it('keeps observing, says which part met ENOSPC, loses no alert and delivers each once when space returns; exit 0', async () => {
    const dir = join(mnt, 'watched');
    const alertFile = join(mnt, 'alerts.jsonl');
    mkdirSync(dir);
    const env = running.env;
    const args = [
      'watch',
      '--lb',
      lab.dnsName,
      '--dns-server',
      running.dnsServer,
      '--allow-loopback-nodes',
      '--interval',
      '1s',
      '--confirm',
      '1/1',
      '--store',
      dir,
      '--alert-file',
      alertFile,
    ];
    // The lab's baseline, recorded while there is space.
    const first = await runElbscope([...args, '--cycles', '1'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).not.toContain('ALERT');
    // An alert queued and not yet delivered (its first publish failed for a while), as a watch stopped mid-outage
    // leaves it;
    // written through the store the CLI opens (its seal key and all).
    const store = openStore({ store: dir }, { write: true, env: process.env });
    const failing: AlertSink = {
      description: 'test',
      publish: async () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
    };
    const seedDeps = { store, sink: failing, now: () => new Date(at(30)), claimant: 'seed' };
    await recordCycle(config, [web(['10.0.0.1'])], at(0), seedDeps);
    const [queued] = await recordCycle(config, [web(['10.0.0.1', '10.0.0.2'])], at(1), seedDeps);
    expect(queued?.kind).toBe('scaled');
    expect((await store.outbox({ op: 'list' })).map((e) => e.record.id)).toEqual([queued?.id]);

    fill(mnt);
    const watch = startElbscope(args, env);
    const cycles = (out: string[]) => out.filter((l) => / {2}diskfull {2}nodes /.test(l)).length;
    try {
      // Full: the queued alert cannot be claimed, the cycle not committed; each said in a line naming the store, and
      // the watch goes on.
      await watch.until((out) => cycles(out) >= 2);
      const named = watch.err.filter((l) => l.includes('ENOSPC'));
      expect(named.length, watch.err.join('\n')).toBeGreaterThan(0);
      for (const l of named)
        expect(l).toMatch(
          new RegExp(
            `^elbscope: .*local store ${dir.replaceAll('/', '\\/')}: \\S+ ${mnt.replaceAll('/', '\\/')}.*: ENOSPC, no space left on the device`,
          ),
        );
      // The load balancer scales while the disk is full.
      lab.addNode('us-east-1a', true);
      const full = cycles(watch.out);
      await watch.until((out) => cycles(out) >= full + 2);
      expect(watch.out.filter((l) => l.startsWith('ALERT'))).toEqual([]);
      // Space comes back: the queued alert and the scaling are delivered, to the console and the file.
      for (const f of readdirSync(mnt).filter((n) => n.startsWith('filler-'))) rmSync(join(mnt, f));
      const alerted = () =>
        existsSync(alertFile)
          ? readFileSync(alertFile, 'utf8')
              .trim()
              .split('\n')
              .filter(Boolean)
              .map((l) => (JSON.parse(l) as { event: { id: string; kind: string; loadBalancer: string } }).event)
          : [];
      await watch.until(
        () =>
          alerted().some((e) => e.id === queued?.id) &&
          alerted().some((e) => e.loadBalancer === 'diskfull' && e.kind === 'scaled'),
      );
      const after = cycles(watch.out);
      await watch.until((out) => cycles(out) >= after + 1);
    } finally {
      const code = await watch.stop();
      const said = [...watch.out, ...watch.err].join('\n');
      expect(said).not.toContain('internal error');
      expect(code, said).toBe(0);
    }
    // Each alert once, in the file and on the console; the trail verifies; nothing left queued.
    const ids = alerted(alertFile);
    expect(new Set(ids).size).toBe(ids.length);
    expect(watch.out.filter((l) => l.startsWith('ALERT')).length).toBe(ids.length);
    expect(await store.outbox({ op: 'list' })).toEqual([]);
    const verify = await runElbscope(['verify', '--store', dir]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 90_000);
});

/** The event ids an alert file holds, in order. */
function alerted(file: string): string[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { event: { id: string } }).event.id);
}
