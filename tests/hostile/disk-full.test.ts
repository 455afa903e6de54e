import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSink } from '../../shared/alerts/sinks';
import { parseConfig } from '../../shared/config/load';
import { recordCycle } from '../../shared/cycle/record';
import { verifyChain } from '../../shared/store/chain';
import { LocalStore } from '../../shared/store/local';
import { nodeSnapshot } from '../helpers/snapshots';

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
const config = parseConfig({ loadBalancers: [{ dnsName: 'web-1.us-east-1.elb.amazonaws.com' }], detect: { confirm: { m: 1, n: 1 } } }, 'test');
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
    const store = new LocalStore(dir);
    const sent: string[] = [];
    const sink: AlertSink = { description: 'test', publish: async (e) => (sent.push(e.id), { messageId: null }) };
    const warnings: string[] = [];
    const deps = { store, sink, now: () => new Date(at(59)), claimant: 't', warn: (m: string) => warnings.push(m) };
    await recordCycle(config, [web(['10.0.0.1'])], at(0), deps);
    fill(mnt);
    // Cycles with changes while the disk is full: nothing may throw past recordCycle's own errors.
    const during: string[] = [];
    for (const [m, ips] of [[1, ['10.0.0.1', '10.0.0.2']], [2, ['10.0.0.1', '10.0.0.2', '10.0.0.3']]] as const) {
      await recordCycle(config, [web([...ips])], at(m), deps).catch((e: Error) => during.push(e.message));
    }
    expect(warnings.length + during.length).toBeGreaterThan(0); // the disk was really full
    // Space comes back.
    for (const f of readdirSync(mnt).filter((n) => n.startsWith('filler-'))) rmSync(join(mnt, f));
    await recordCycle(config, [web(['10.0.0.1', '10.0.0.2', '10.0.0.3'])], at(3), deps);
    await recordCycle(config, [web(['10.0.0.1', '10.0.0.2', '10.0.0.3'])], at(4), deps);

    // Every file on disk parses (no half-written record), no temp file is left.
    const files = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : [join(d, n)]));
    for (const f of files(dir).filter((f) => f.endsWith('.json'))) expect(() => JSON.parse(readFileSync(f, 'utf8')), f).not.toThrow();
    expect(files(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const [events, state] = await Promise.all([store.listEvents('web'), store.getState('web')]);
    expect(verifyChain('web', events, state?.state.chain ?? null)).toBeNull();
    // The node count reached 3 and was reported; every event in the trail was published.
    expect(events.at(-1)?.record.to).toBe(3);
    for (const e of events) expect(sent).toContain(e.record.id);
    expect(new Set(sent).size).toBe(sent.length); // and none twice
    expect(await store.listOutbox()).toEqual([]);
  });
});
