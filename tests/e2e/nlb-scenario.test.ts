import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtInScenario } from '../../cli/commands/lab';
import { runLabSession } from '../../cli/commands/start';
import { loadScenario } from '../../lab/scenario';
import { localStore } from '../../shared/store/local';
import { scenarioEventProblems } from '../helpers/scenario-events';
import { NLB_BYTES_PER_REQUEST } from '../../lab/capacity';
import type { Lab } from '../../lab/lab';
import { listEvents } from '../../shared/ledger/store';

// The built-in `nlb` scenario (`elbscope start --scenario nlb`) end to end, in
// stepped time: the lab as a Network Load Balancer (NLB-shaped DNS name, `ELB net/…`
// ENIs, one node per AZ, no pre-open). Slow clients give a slow-clients warning and
// no pre-open event; an AZ out of DNS fires once (critical) and resolves once; an LCU
// reservation goes pending -> provisioned and completes a pre-warm target in LCUs.
describe('The nlb lab scenario', () => {
  it('gives slow-clients and az-out-of-dns, each firing and resolving once, and no pre-open events', async () => {
    const scenario = loadScenario(builtInScenario('nlb'));
    const store = mkdtempSync(join(tmpdir(), 'elbscope-e2e-nlb-'));
    const lines: string[] = [];
    const seen: { kind?: string; dnsAbsent: string[]; readingB1: number | null; truthB1: number }[] = [];
    const scrapes: Promise<string>[] = [];
    let cloudwatch: Lab['cloudwatchState'] | undefined;
    const readBytes: [string, number][] = [];
    const { startedAt, reportFile } = await runLabSession({
      scenario,
      speed: 1,
      stepped: true,
      store,
      io: { out: (t) => lines.push(t), err: (t) => lines.push(t), env: {} },
      signal: new AbortController().signal,
      // Every minute's figures read (capacity.mode "polling"), so what elbscope read can be held to what the lab
      // served in a 100 s run: with alarms, an NLB no alarm of which breaches is read hourly, for the charts
      // (tests/integration/capacity/alarms.test.ts; the default scenario runs in alarm mode).
      monitor: {
        capacity: { mode: 'polling', cloudwatch: { settleMinutes: 0, trailingMinutes: 2 }, reservationEveryMinutes: 1 },
      },
      // `npm start -- --metrics-listen HOST:PORT`, on a port of its own choosing here.
      metricsListen: { host: '127.0.0.1', port: 0 },
      onCycle: (lab, snapshots) => {
        const url = lines.find((l) => l.startsWith('metrics: '))?.slice('metrics: '.length);
        if (url && scrapes.length < 3) scrapes.push(fetch(url).then((r) => r.text()));
        cloudwatch = lab.cloudwatchState;
        const [s] = snapshots;
        if (!s) return;
        readBytes.push(...(s.capacity?.metrics?.ProcessedBytes ?? []));
        seen.push({
          ...(s.observation.kind ? { kind: s.observation.kind } : {}),
          dnsAbsent: Object.entries(s.observation.azs)
            .filter(([, c]) => c.provisioned > 0 && c.advertised === 0)
            .map(([az]) => az),
          readingB1: s.backends.find((b) => b.name === 'b1')?.report.reading ?? null,
          truthB1: lab.backend('b1').reading(),
        });
      },
    });

    const events = (await listEvents(localStore(store), 'lab')).map((e) => e.record);
    expect(
      scenarioEventProblems(scenario, events, startedAt),
      lines.filter((l) => l.startsWith('ALERT') || l.startsWith('[lab')).join('\n'),
    ).toEqual([]);
    expect(events.find((e) => e.kind === 'az-out-of-dns' && e.status === 'firing')?.severity).toBe('critical');
    expect(events.find((e) => e.kind === 'slow-clients' && e.status === 'firing')?.severity).toBe('warning');
    // The LCU reservation as the lab's ELB API served it, and the pre-warm target in LCUs it completed.
    expect(events.find((e) => e.kind === 'reservation-provisioned')?.details).toMatchObject({
      capacityUnits: 10,
      azs: {
        'us-east-1a': { state: 'provisioned' },
        'us-east-1b': { state: 'provisioned' },
        'us-east-1c': { state: 'provisioned' },
      },
    });
    expect(events.find((e) => e.kind === 'prewarm-complete')?.details).toMatchObject({
      caseId: '9012',
      target: { lcu: 10 },
      reservation: { capacityUnits: 10 },
    });

    // An NLB's reserved-LCU use is its ProcessedBytes (AWS's NLB reservation guide), asked as a Sum; PeakLCUs, an
    // ALB's, is never asked.
    const asked = (cloudwatch?.requests ?? []).flatMap((r) =>
      (r.MetricDataQueries ?? []).map((q) => `${q.MetricStat?.Metric?.MetricName}:${q.MetricStat?.Stat}`),
    );
    expect(asked).toContain('ProcessedBytes:Sum');
    expect(asked.filter((q) => q.startsWith('PeakLCUs'))).toEqual([]);
    // What elbscope read is what the lab served: 11,000 bytes a request (25 requests a second are one 2.2 Mbps LCU).
    const served =
      cloudwatch?.served.get('AWS/NetworkELB/ProcessedBytes/net/lab/50dc6c495c0c9188') ?? new Map<number, number>();
    expect(served.size).toBeGreaterThan(0);
    expect([...served.values()].every((v) => v > 0 && v % NLB_BYTES_PER_REQUEST === 0)).toBe(true);
    const lastRead = new Map(readBytes.map(([t, v]) => [Date.parse(t), v]));
    expect(lastRead.size).toBeGreaterThan(0);
    expect([...lastRead].filter(([t, v]) => served.get(t) !== v)).toEqual([]);

    // Every cycle knew it for an NLB; us-east-1b was seen out of DNS, and R on b1 was the lab's own count.
    expect(new Set(seen.map((c) => c.kind))).toEqual(new Set(['network']));
    expect(seen.some((c) => c.dnsAbsent.includes('us-east-1b'))).toBe(true);
    expect(seen.filter((c) => c.readingB1 !== c.truthB1)).toEqual([]);
    expect(Math.max(...seen.map((c) => c.readingB1 ?? 0))).toBe(12);

    // Prometheus could scrape the lab while it ran: its nodes per AZ and R per backend.
    const page = (await Promise.all(scrapes)).at(-1) ?? '';
    expect(page).toMatch(/^elbscope_nodes\{load_balancer="lab",az="us-east-1a",state="provisioned"\} 1$/m);
    expect(page).toMatch(/^elbscope_backend_reading_connections\{load_balancer="lab",backend="b1"\} \d+$/m);

    // The report names the kind and the ARN.
    expect(readFileSync(reportFile, 'utf8')).toContain(
      'lab (Network Load Balancer), region us-east-1, account 123456789012, arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/lab/50dc6c495c0c9188',
    );
  }, 120_000);
});
