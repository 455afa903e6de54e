import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load';
import { recordCycle } from '../../../shared/cycle/record';
import { localStore } from '../../../shared/store/local';
import { nodeSnapshot } from '../../helpers/snapshots';
import { runElbscope } from '../../helpers/cli';

// Pre-warm targets are written by `elbscope prewarm`, outside any commit; the first
// cycle that reads one keeps its digest with the state, so a target changed or
// removed afterwards (a support case's evidence) shows in verify.
const DNS = 'web-1.us-east-1.elb.amazonaws.com';
const config = parseConfig(
  { loadBalancers: [{ dnsName: DNS }], capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 } },
  'test',
);
const target = (id: string) => ({
  id,
  loadBalancer: 'web',
  nodesPerAz: 3,
  total: null,
  deadline: null,
  caseId: '1234',
  requestedAt: '2026-11-25T09:59:00.000Z',
});

async function withTarget(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-prewarm-digest-'));
  const store = localStore(dir);
  await store.prewarms({ op: 'put', target: target('pw-1') });
  const at = new Date('2026-11-25T10:00:00Z');
  await recordCycle(config, [nodeSnapshot(DNS, ['10.0.0.1'])], at.toISOString(), {
    store,
    sink: { description: 'none', publish: async () => ({ messageId: null }) },
    now: () => at,
    claimant: 't',
  });
  await store.prewarms({ op: 'put', target: target('pw-2') }); // after the last cycle: not vouched for yet
  return dir;
}
const file = (dir: string, id: string) => join(dir, 'loadbalancers', 'web', 'prewarm', `${id}.json`);

describe('Pre-warm targets vouched for by the cycle that first read them', () => {
  it('verifies the targets a cycle read, and says which are not read yet', async () => {
    const dir = await withTarget();
    const r = await runElbscope(['verify', '--store', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'web: pre-warm targets intact: 1 vouched for (1 recorded since the last cycle, not yet)',
    );
  });

  it.each([
    [
      'changed',
      (dir: string) =>
        writeFileSync(
          file(dir, 'pw-1'),
          readFileSync(file(dir, 'pw-1'), 'utf8').replace('"nodesPerAz": 3', '"nodesPerAz": 1'),
        ),
      'elbscope: web: pre-warm target pw-1 does not match what the cycle that first read it recorded (it was changed)',
    ],
    [
      'removed',
      (dir: string) => rmSync(file(dir, 'pw-1')),
      'elbscope: web: pre-warm target pw-1 was read by a cycle and is no longer stored (removed)',
    ],
  ])('names a target %s after a cycle read it (exit 1)', async (_label, damage, message) => {
    const dir = await withTarget();
    const copy = mkdtempSync(join(tmpdir(), 'elbscope-prewarm-damaged-'));
    cpSync(dir, copy, { recursive: true });
    damage(copy);
    const r = await runElbscope(['verify', '--store', copy]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(message);
    const md = await runElbscope(['report', '--lb', 'web', '--store', copy]);
    expect(md.stdout).toMatch(/Audit chain: BROKEN at record #0 \(pre-warm target pw-1\)/);
  });
});
