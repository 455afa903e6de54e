import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RulesMemory } from '../../../shared/detect/state';
import { emptyState, type CycleMeta } from '../../../shared/ledger/state';
import { localStore } from '../../../shared/store/local';
import { runElbscope } from '../../helpers/cli';

// `elbscope prewarm` and the load balancer's kind, as a user types it: an NLB has
// one node per AZ ("Elastic Load Balancing creates a Network Load Balancer node in
// the Availability Zone you choose, and a network interface for the selected
// subnet", NLB guide, "Update the Availability Zones"), so a nodes-per-AZ target
// can never complete there: its capacity is an LCU reservation (--lcu). A Classic
// ELB has no LCU reservation. Unknown kinds are accepted, and the line says so.
const NLB_DNS = 'edge-0a1b2c3d4e5f6789.elb.us-east-1.amazonaws.com';
const NLB_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/edge/0a1b2c3d4e5f6789';

/** A store holding one load balancer's state (as a cycle would have left it), under `key`. */
async function storeWith(
  key: string,
  { kind, identity }: Pick<RulesMemory, 'kind'> & Pick<CycleMeta, 'identity'>,
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-prewarm-kind-'));
  const state = emptyState();
  if (kind) state.memory.kind = kind;
  if (identity) state.meta.identity = identity;
  expect(await localStore(dir).putState(key, state, 0)).toBe(true);
  return dir;
}

const emptyStore = () => mkdtempSync(join(tmpdir(), 'elbscope-prewarm-kind-'));
const targets = async (dir: string, key: string) =>
  (await localStore(dir).prewarms({ op: 'list', lb: key })).map((t) => [t.nodesPerAz, t.lcu ?? null]);

describe("Command: prewarm, by the load balancer's kind", () => {
  it('refuses --nodes-per-az on an NLB in one line pointing to --lcu, whatever says NLB, and records nothing', async () => {
    const cases: [string, string[], RegExp][] = [
      [
        'an NLB-shaped DNS name',
        ['--lb', NLB_DNS],
        /--lb edge-0a1b2c3d4e5f6789\.elb\.us-east-1\.amazonaws\.com has an NLB's DNS name shape/,
      ],
      ['an NLB ARN', ['--lb', NLB_ARN], /is an NLB's ARN/],
      [
        'a qualified key ending in net',
        ['--lb', 'edge.us-east-1.net'],
        /its key edge\.us-east-1\.net carries its ARN's type, net/,
      ],
    ];
    for (const [what, lb, evidence] of cases) {
      const dir = emptyStore();
      const r = await runElbscope(['prewarm', ...lb, '--nodes-per-az', '3', '--store', dir]);
      expect(r.code, what).toBe(2);
      expect(r.stderr.trim().split('\n'), what).toHaveLength(1);
      expect(r.stderr, what).toMatch(/^elbscope: prewarm: \S+ is a Network Load Balancer \(/);
      expect(r.stderr, what).toMatch(evidence);
      expect(r.stderr, what).toMatch(
        /it has one node per AZ, so --nodes-per-az can never be reached; pre-warm an NLB by its LCU reservation: --lcu N$/m,
      );
      expect(await localStore(dir).prewarms({ op: 'list' }), what).toEqual([]);
    }
  });

  it('refuses it by the stored state: the kind a cycle observed, or the configured ARN', async () => {
    const observed = await storeWith('edge', { kind: 'network' });
    const byKind = await runElbscope([
      'prewarm',
      '--lb',
      'edge',
      '--nodes-per-az',
      '2',
      '--total',
      '6',
      '--store',
      observed,
    ]);
    expect(byKind.code).toBe(2);
    expect(byKind.stderr.trim()).toBe(
      'elbscope: prewarm: edge is a Network Load Balancer (the last cycle observed an NLB): it has one node per AZ, so --nodes-per-az and --total can never be reached; pre-warm an NLB by its LCU reservation: --lcu N',
    );

    const configured = await storeWith('edge', {
      identity: { account: null, region: 'us-east-1', name: 'edge', arn: NLB_ARN },
    });
    const byArn = await runElbscope([
      'prewarm',
      '--lb',
      'edge',
      '--nodes-per-az',
      '2',
      '--lcu',
      '5',
      '--store',
      configured,
    ]);
    expect(byArn.code).toBe(2);
    expect(byArn.stderr).toContain(`edge is a Network Load Balancer (its configured ARN ${NLB_ARN} is an NLB's)`);
    expect(await targets(configured, 'edge')).toEqual([]);

    // An LCU target is what an NLB's pre-warm is: accepted, and nothing to warn about.
    const lcu = await runElbscope(['prewarm', '--lb', 'edge', '--lcu', '5', '--store', configured]);
    expect(lcu.code).toBe(0);
    expect(lcu.stdout.trim()).toMatch(
      /^pre-warm target pw-\S+ recorded for edge: 5 LCUs reserved and provisioned in every AZ$/,
    );
    expect(await targets(configured, 'edge')).toEqual([[0, 5]]);
  });

  it('refuses --lcu on a Classic ELB (no LCU reservation) and takes its nodes per AZ without a note', async () => {
    const dir = await storeWith('web', { kind: 'classic' });
    const lcu = await runElbscope(['prewarm', '--lb', 'web', '--lcu', '5', '--store', dir]);
    expect(lcu.code).toBe(2);
    expect(lcu.stderr.trim()).toBe(
      'elbscope: prewarm: web is a Classic ELB (the last cycle observed a Classic ELB): it has no LCU reservation, so --lcu can never be reached; give --nodes-per-az N',
    );
    const nodes = await runElbscope(['prewarm', '--lb', 'web', '--nodes-per-az', '3', '--store', dir]);
    expect(nodes.code).toBe(0);
    expect(nodes.stdout.trim()).toMatch(/^pre-warm target pw-\S+ recorded for web: 3 nodes per AZ$/);
    expect(await targets(dir, 'web')).toEqual([[3, null]]);
  });

  it('accepts a target whose kind is not known, and says so in the confirmation line', async () => {
    const dir = emptyStore();
    const r = await runElbscope(['prewarm', '--lb', 'shop', '--nodes-per-az', '2', '--lcu', '4', '--store', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(
      /^pre-warm target pw-\S+ recorded for shop: 2 nodes per AZ, 4 LCUs reserved and provisioned in every AZ \(its kind is not known yet; if it is an NLB \(one node per AZ\) --nodes-per-az can never be reached: use --lcu; if it is a Classic ELB \(no LCU reservation\) --lcu can never be reached\)$/,
    );
    expect(await targets(dir, 'shop')).toEqual([[2, 4]]);
    // A Classic/ALB DNS name rules an NLB out (an NLB's name has its own shape): no note for nodes.
    const classicName = await runElbscope([
      'prewarm',
      '--lb',
      'shop-1234.us-east-1.elb.amazonaws.com',
      '--nodes-per-az',
      '2',
      '--store',
      emptyStore(),
    ]);
    expect(classicName.code).toBe(0);
    expect(classicName.stdout.trim()).toMatch(
      /recorded for shop-1234\.us-east-1\.elb\.amazonaws\.com: 2 nodes per AZ$/,
    );
  });

  it("files a target given by ARN under the key its cycles read: the stored key of that name and region, else the ARN's name", async () => {
    const ALB_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188';
    const dir = await storeWith('web.us-east-1', {
      kind: 'application',
      identity: { account: null, region: 'us-east-1', name: 'web', arn: ALB_ARN },
    });
    const known = await runElbscope(['prewarm', '--lb', ALB_ARN, '--lcu', '5', '--store', dir]);
    expect(known.code, known.stderr).toBe(0);
    expect(known.stdout).toMatch(/ recorded for web\.us-east-1: 5 LCUs/);
    expect(await targets(dir, 'web.us-east-1')).toEqual([[0, 5]]);
    const fresh = emptyStore();
    expect((await runElbscope(['prewarm', '--lb', ALB_ARN, '--lcu', '5', '--store', fresh])).code).toBe(0);
    expect(await targets(fresh, 'web')).toEqual([[0, 5]]);
  });
});
