import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { LabOptions } from '../lab/lab';
import { parseConfig } from '../shared/config/load';
import { probeBackend } from '../shared/backends/probe';
import { snapshotConfigured } from '../shared/cycle/snapshot';
import { createDnsLookup } from '../shared/nodes/dns';
import { createEniLookup } from '../shared/nodes/eni';
import { ms, startChild, timeMedian, type BenchResult } from './lib';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./manual-cycle.sh', import.meta.url));

/**
 * Benchmark 1: one cycle of one load balancer (3 AZs × 2 nodes, 6 backends, on the
 * lab) against the field notes' manual method run as a shell script beside it.
 */
export interface LabInfo {
  dnsServer: string;
  dnsImpl: string;
  ec2Url: string;
  dnsName: string;
  nodes: string[];
  listeners: { name: string; port: number }[];
  backends: { name: string; statusPort: number; trafficPort: number; tls: boolean }[];
}

export async function cycleVsManual(): Promise<BenchResult & { cycleMs: number }> {
  const options: LabOptions = {
    name: 'bench', region: 'us-east-1',
    nodesPerAz: { 'us-east-1a': 2, 'us-east-1b': 2, 'us-east-1c': 2 },
    backends: Array.from({ length: 6 }, (_, i) => ({ name: `b${i + 1}`, slots: 64 })),
    idleTimeoutMs: 60_000, trafficWindowMs: 60_000,
  };
  const { info: lab, stop } = await startChild<LabInfo>('./lab-process.ts', [JSON.stringify(options)]);
  try {
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: lab.ec2Url, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
    const urls = lab.backends.map((b) => `http://127.0.0.1:${b.statusPort}/server-status`);
    const config = parseConfig(
      {
        loadBalancers: [{ dnsName: lab.dnsName, backends: lab.backends.map((b, i) => ({ name: b.name, statusUrl: urls[i], acceptFilterNone: true })) }],
        dns: { servers: [lab.dnsServer], timeoutMs: 1000, tries: 1 },
      },
      'bench',
    );
    const dns = createDnsLookup(config.dns);
    const enis = createEniLookup(ec2);
    const deps = { dns, enisFor: () => enis, now: () => new Date() };

    const cycleMs = await timeMedian(() => snapshotConfigured(config, deps), 30, 3);
    const [host, port] = lab.dnsServer.split(':') as [string, string];
    const manualMs = await timeMedian(() => run('bash', [script, host, port, lab.dnsName, ...urls]), 7, 1);

    // The floor: the slowest single lookup of the cycle, each timed alone.
    const ip = lab.nodes[0] as string;
    const singles: [string, number][] = [
      ['DNS A query', await timeMedian(() => dns.resolve4(lab.dnsName), 30)],
      ['PTR query', await timeMedian(() => dns.reverse(ip), 30)],
      ['EC2 DescribeNetworkInterfaces', await timeMedian(() => enis({ descriptions: ['ELB bench'] }), 30)],
      ['status page (one HTML page)', await timeMedian(() => probeBackend(urls[0] as string, { acceptFilterNone: true }), 30)],
    ];
    const slowest = Math.max(...singles.map(([, v]) => v));
    ec2.destroy();
    const speedup = manualMs / cycleMs;
    return {
      title: '1. One cycle vs the manual method (3 AZs × 2 nodes, 6 backends, lab in its own process)',
      cycleMs,
      rows: [
        ['lab DNS server', lab.dnsImpl],
        ['elbscope cycle (median of 30)', ms(cycleMs)],
        ['manual script: dig, dig -x per node, curl per page (median of 7)', ms(manualMs)],
        ['speed-up', `${speedup.toFixed(1)}×`],
        ...singles.map(([k, v]): [string, string] => [`single: ${k}`, ms(v)]),
        ['cycle / slowest single lookup', `${(cycleMs / slowest).toFixed(2)}×`],
      ],
      checks: [
        { target: `≥ 20× faster than the manual method (${speedup.toFixed(1)}×)`, ok: speedup >= 20 },
        { target: `within 1.5× of the slowest single lookup (${(cycleMs / slowest).toFixed(2)}×)`, ok: cycleMs <= 1.5 * slowest },
      ],
      notes: ['the cycle also asks all.<name> and EC2, and reads client IPs from the HTML page; the lab runs in one other process, so its servers answer one request at a time: the parallel floor is not reachable on this 2-core machine'],
    };
  } finally {
    await stop();
  }
}
