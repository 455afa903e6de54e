import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleSink } from '../../../shared/alerts/sinks';
import { parseConfig } from '../../../shared/config/load';
import { type CycleMetrics, runCycle } from '../../../shared/cycle/run';
import type { Store } from '../../../shared/ledger/store';
import type { DnsLookup } from '../../../shared/nodes/dns';
import { localStore } from '../../../shared/store/local';

// The cycle runner, with no lab: a DNS lookup in the test (two names, one resolving, one not), ENI lookups off, the
// local store. What the runner did comes back as data: nothing of the caller's is called.
const config = parseConfig(
  {
    loadBalancers: [
      { dnsName: 'web-1.us-east-1.elb.amazonaws.com' },
      { dnsName: 'gone-1.us-east-1.elb.amazonaws.com' },
    ],
    dns: { queries: 1 },
    eni: { enabled: false },
    detect: { confirm: { m: 1, n: 1 } },
  },
  'test',
);
const nxdomain = () => Promise.reject(Object.assign(new Error('queryA ENOTFOUND'), { code: 'ENOTFOUND' }));
const dns: DnsLookup = {
  resolve4: async (name) => (name.includes('web-1') ? ['52.94.2.1', '52.94.2.2'] : nxdomain()),
  resolve6: async () => [],
  reverse: async (ip) => [`ec2-${ip.replaceAll('.', '-')}.compute-1.amazonaws.com`],
  resolveCname: async () => Promise.reject(Object.assign(new Error('no data'), { code: 'ENODATA' })),
};
const now = () => new Date('2026-11-25T10:00:30Z');
const AT = '2026-11-25T10:00:00.000Z';

/** A metrics port that keeps what it was told. */
function keptMetrics() {
  const told: string[] = [];
  const metrics: CycleMetrics = {
    cycle: (snapshots) => told.push(`cycle ${snapshots.map((s) => s.name).join(',')}`),
    tls: () => told.push('tls'),
    delivery: (r) => told.push(`delivery ${r.published.length}`),
  };
  return { told, metrics };
}

describe('The cycle runner', () => {
  it('observes, records, flushes and tells the metrics, returning each snapshot, event and chain head', async () => {
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-run-')));
    const alerts: string[] = [];
    const { told, metrics } = keptMetrics();
    const run = await runCycle(
      config,
      AT,
      { dns, enisFor: null, now },
      { record: { store, sink: consoleSink((l) => alerts.push(l)), now, claimant: 't' }, metrics },
    );
    expect(run.unrecorded).toBeUndefined();
    expect(run.snapshots.map((s) => [s.name, s.observation.loadBalancer])).toEqual([
      ['web', 'web-1.us-east-1.elb.amazonaws.com'],
      ['gone', 'gone-1.us-east-1.elb.amazonaws.com'],
    ]);
    expect(run.events.map((e) => e.summary)).toEqual([expect.stringContaining('gone dns observation failing')]);
    expect(alerts).toEqual([expect.stringContaining('gone dns observation failing')]);
    expect(run.flushed?.published).toHaveLength(1);
    // Each load balancer's heads after its commit, the ones its stored records hold.
    expect(run.heads.get('gone')).toMatchObject({ seq: 1, hash: run.events[0]?.hash });
    expect(run.heads.get('web')).toMatchObject({ seq: 0, observations: { seq: 1 } });
    expect(told).toEqual(['cycle web,gone', 'delivery 1']);
  });

  it('returns a failure to record with what it observed (never throws it, never half-says it)', async () => {
    const refused = Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
    const real = localStore(mkdtempSync(join(tmpdir(), 'elbscope-run-')));
    // Every store call refuses (whatever the port's methods are named): each commit and the flush.
    const store = new Proxy(real, {
      get: (target, key) =>
        typeof Reflect.get(target, key) === 'function' ? () => Promise.reject(refused) : Reflect.get(target, key),
    }) as Store;
    const warnings: string[] = [];
    const { told, metrics } = keptMetrics();
    const run = await runCycle(
      config,
      AT,
      { dns, enisFor: null, now },
      {
        record: { store, sink: consoleSink(() => {}), now, claimant: 't', warn: (m) => warnings.push(m) },
        metrics,
      },
    );
    expect(run.unrecorded).toBe(refused);
    expect(run.snapshots).toHaveLength(2);
    expect(run.events).toEqual([]);
    expect(run.flushed).toBeNull();
    // Each load balancer's commit said its failure (recordCycle goes on past one); the flush's is returned.
    expect(warnings.sort()).toEqual([
      expect.stringMatching(/^gone: not recorded: .*EMFILE/),
      expect.stringMatching(/^web: not recorded: .*EMFILE/),
    ]);
    expect(told).toEqual(['cycle web,gone']);
  });
});
