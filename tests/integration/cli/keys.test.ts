import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitEvents } from '../../../shared/ledger/commit';
import { makeEvent } from '../../../shared/detect/events';
import { localStore } from '../../../shared/store/local';
import { runElbscope } from '../../helpers/cli';

// Two load balancers named "web" in two regions, filed apart (`web.us-east-1`,
// `web.eu-west-1`), and how `--lb` finds them as a user types it.
describe('Same-named load balancers in a store: --lb', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-keys-'));
  const record = async (key: string, region: string) => {
    const store = localStore(dir);
    await commitEvents(
      store,
      key,
      () => [
        makeEvent({
          kind: 'scaled',
          status: 'event',
          severity: 'info',
          loadBalancer: key,
          az: `${region}a`,
          backend: null,
          from: 1,
          to: 2,
          at: '2026-11-25T10:02:00.000Z',
          summary: `${key} ${region}a scaled 1 → 2 nodes`,
          details: {},
        }),
      ],
      { at: '2026-11-25T10:00:00.000Z' },
    );
  };

  it("keeps each one's events apart; a bare name shared by two is refused naming both keys; a DNS name finds its own", async () => {
    await record('web.us-east-1', 'us-east-1');
    await record('web.eu-west-1', 'eu-west-1');

    const east = await runElbscope(['events', '--lb', 'web.us-east-1', '--json', '--store', dir]);
    expect(east.code).toBe(0);
    expect(JSON.parse(east.stdout).map((e: { loadBalancer: string; az: string }) => [e.loadBalancer, e.az])).toEqual([
      ['web.us-east-1', 'us-east-1a'],
    ]);

    const bare = await runElbscope(['report', '--lb', 'web', '--store', dir]);
    expect(bare.code).toBe(2);
    expect(bare.stderr.trim()).toBe(
      'elbscope: --lb web: more than one load balancer has that name (web.eu-west-1, web.us-east-1); give one of those keys',
    );

    const byDns = await runElbscope([
      'events',
      '--lb',
      'web-1234.eu-west-1.elb.amazonaws.com',
      '--json',
      '--store',
      dir,
    ]);
    expect(byDns.code).toBe(0);
    expect(JSON.parse(byDns.stdout).map((e: { loadBalancer: string }) => e.loadBalancer)).toEqual(['web.eu-west-1']);

    const pre = await runElbscope([
      'prewarm',
      '--lb',
      'web-1234.us-east-1.elb.amazonaws.com',
      '--nodes-per-az',
      '2',
      '--store',
      dir,
    ]);
    expect(pre.code).toBe(0);
    expect(pre.stdout).toMatch(/^pre-warm target pw-\S+ recorded for web\.us-east-1: 2 nodes per AZ/);
    expect((await localStore(dir).prewarms({ op: 'list', lb: 'web.us-east-1' })).map((t) => t.nodesPerAz)).toEqual([2]);
  });

  it('takes a bare name whose one key is qualified', async () => {
    const solo = mkdtempSync(join(tmpdir(), 'elbscope-keys-solo-'));
    const store = localStore(solo);
    await commitEvents(
      store,
      'shop.ap-south-1',
      () => [
        makeEvent({
          kind: 'scaled',
          status: 'event',
          severity: 'info',
          loadBalancer: 'shop.ap-south-1',
          az: 'ap-south-1a',
          backend: null,
          from: 1,
          to: 2,
          at: '2026-11-25T10:02:00.000Z',
          summary: 'shop scaled',
          details: {},
        }),
      ],
      { at: '2026-11-25T10:00:00.000Z' },
    );
    const r = await runElbscope(['events', '--lb', 'shop', '--json', '--store', solo]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(1);
  });
});
