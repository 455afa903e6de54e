import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { LabOptions } from '../lab/lab';
import { parseConfig } from '../shared/config/load';
import { probeBackend } from '../shared/backends/probe';
import { snapshotConfigured } from '../shared/cycle/snapshot';
import { createDnsLookup } from '../shared/nodes/dns';
import { createEniLookup } from '../shared/nodes/eni';
import type { NetworkDelays } from './lab-process';
import { ms, startChild, timeMedian, type BenchResult } from './lib';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./manual-cycle.sh', import.meta.url));

/** What bench/lab-process.ts prints. */
export interface LabInfo {
  pid: number;
  dnsServer: string;
  dnsImpl: string;
  ec2Url: string;
  dnsName: string;
  nodes: string[];
  listeners: { name: string; port: number }[];
  backends: { name: string; statusPort: number; trafficPort: number; tls: boolean }[];
  delayed: (NetworkDelays & { dnsServer: string; ec2Url: string; statusPorts: number[] }) | null;
}

/**
 * Round trips added in the second measurement: the VPC resolver answers from its
 * cache in about a millisecond; a status page across the VPC (request, Apache
 * building the page) takes a couple; the regional EC2 API takes tens (20 ms is
 * on the fast side).
 */
const NETWORK: NetworkDelays = { dnsMs: 1, statusMs: 2, ec2Ms: 20 };

interface Endpoints {
  dnsServer: string;
  ec2Url: string;
  statusPorts: number[];
}

interface Measured {
  cycleMs: number;
  manualMs: number;
  singles: [string, number][];
  slowest: number;
  /** CPU one cycle costs the monitor (all its threads) and the lab process (loopback only: there it is the bound). */
  cpu: { monitorMs: number; labMs: number } | null;
}

/** CPU time a process has used so far (user + system), from /proc. */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** Run `cycles` cycles back to back and share out the CPU both processes used. */
async function cpuPerCycle(cycle: () => Promise<unknown>, labPid: number, cycles: number) {
  const monitor0 = process.cpuUsage();
  const lab0 = processCpuMs(labPid);
  for (let i = 0; i < cycles; i++) await cycle();
  const used = process.cpuUsage(monitor0);
  return { monitorMs: (used.user + used.system) / 1000 / cycles, labMs: (processCpuMs(labPid) - lab0) / cycles };
}

async function measure(lab: LabInfo, at: Endpoints, runs: number, withCpu: boolean): Promise<Measured> {
  const ec2 = new EC2Client({
    region: 'us-east-1',
    endpoint: at.ec2Url,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    const urls = at.statusPorts.map((port) => `http://127.0.0.1:${port}/server-status`);
    const config = parseConfig(
      {
        loadBalancers: [
          {
            dnsName: lab.dnsName,
            backends: lab.backends.map((b, i) => ({ name: b.name, statusUrl: urls[i], acceptFilterNone: true })),
          },
        ],
        dns: { servers: [at.dnsServer], timeoutMs: 1000, tries: 1, allowLoopbackNodes: true },
      },
      'bench',
    );
    const dns = createDnsLookup(config.dns);
    const enis = createEniLookup(ec2);
    const deps = { dns, enisFor: () => enis, now: () => new Date() };

    const cycleMs = await timeMedian(() => snapshotConfigured(config, deps), runs, 3);
    const cpu = withCpu ? await cpuPerCycle(() => snapshotConfigured(config, deps), lab.pid, 10 * runs) : null;
    const [host, port] = at.dnsServer.split(':') as [string, string];
    const manualMs = await timeMedian(() => run('bash', [script, host, port, lab.dnsName, ...urls]), 7, 1);

    // The floor: the slowest single lookup of the cycle, each timed alone.
    const ip = lab.nodes[0] as string;
    const singles: [string, number][] = [
      ['DNS A query', await timeMedian(() => dns.resolve4(lab.dnsName), runs)],
      ['PTR query', await timeMedian(() => dns.reverse(ip), runs)],
      ['EC2 DescribeNetworkInterfaces', await timeMedian(() => enis({ descriptions: ['ELB bench'] }), runs)],
      [
        'status page (one HTML page)',
        await timeMedian(() => probeBackend(urls[0] as string, { acceptFilterNone: true }), runs),
      ],
    ];
    return { cycleMs, manualMs, singles, slowest: Math.max(...singles.map(([, v]) => v)), cpu };
  } finally {
    ec2.destroy();
  }
}

/**
 * Benchmark 1: one cycle of one load balancer (3 AZs × 2 nodes, 6 backends, on the
 * lab) against the field notes' manual method run as a shell script beside it.
 * Measured twice on the same lab: straight on loopback (every lookup is CPU on two
 * shared cores), and through forwarders adding the network round trips a Lambda in
 * a VPC waits for (NETWORK), where "as long as the slowest lookup" can show.
 */
export async function cycleVsManual(): Promise<BenchResult & { cycleMs: number }> {
  const options: LabOptions = {
    name: 'bench',
    region: 'us-east-1',
    nodesPerAz: { 'us-east-1a': 2, 'us-east-1b': 2, 'us-east-1c': 2 },
    backends: Array.from({ length: 6 }, (_, i) => ({ name: `b${i + 1}`, slots: 64 })),
    idleTimeoutMs: 60_000,
    trafficWindowMs: 60_000,
  };
  const { info: lab, stop } = await startChild<LabInfo>('./lab-process.ts', [
    JSON.stringify(options),
    JSON.stringify(NETWORK),
  ]);
  try {
    const bare = await measure(
      lab,
      { dnsServer: lab.dnsServer, ec2Url: lab.ec2Url, statusPorts: lab.backends.map((b) => b.statusPort) },
      30,
      true,
    );
    const net = await measure(lab, lab.delayed as Endpoints, 15, false);
    const speedup = (m: Measured) => m.manualMs / m.cycleMs;
    const ratio = (m: Measured) => m.cycleMs / m.slowest;
    // However it is scheduled, a cycle cannot finish before both processes have had their CPU.
    const cores = availableParallelism();
    const cpuFloor = (cpu: NonNullable<Measured['cpu']>) => (cpu.monitorMs + cpu.labMs) / cores;
    const rows = (label: string, m: Measured): [string, string][] => [
      [`${label}: elbscope cycle (median)`, ms(m.cycleMs)],
      [`${label}: manual script: dig, dig -x per node, curl per page (median of 7)`, ms(m.manualMs)],
      [`${label}: speed-up`, `${speedup(m).toFixed(1)}×`],
      ...m.singles.map(([k, v]): [string, string] => [`${label}: single ${k}`, ms(v)]),
      [`${label}: cycle / slowest single lookup`, `${ratio(m).toFixed(2)}×`],
      ...(m.cpu
        ? ([
            [`${label}: CPU per cycle, monitor + lab`, `${ms(m.cpu.monitorMs)} + ${ms(m.cpu.labMs)}`],
            [
              `${label}: fastest possible cycle on ${cores} cores (CPU / cores), / slowest single lookup`,
              `${ms(cpuFloor(m.cpu))}, ${(cpuFloor(m.cpu) / m.slowest).toFixed(2)}×`,
            ],
          ] as [string, string][])
        : []),
    ];
    return {
      title: '1. One cycle vs the manual method (3 AZs × 2 nodes, 6 backends, lab in its own process)',
      cycleMs: bare.cycleMs,
      rows: [
        ['lab DNS server', lab.dnsImpl],
        [
          'network round trips added (second half)',
          `DNS ${NETWORK.dnsMs} ms, status page ${NETWORK.statusMs} ms, EC2 API ${NETWORK.ec2Ms} ms`,
        ],
        ...rows('loopback', bare),
        ...rows('network', net),
      ],
      checks: [
        {
          target: `≥ 20× faster than the manual method, loopback (${speedup(bare).toFixed(1)}×)`,
          ok: speedup(bare) >= 20,
        },
        {
          target: `within 1.5× of the slowest single lookup, loopback (${ratio(bare).toFixed(2)}×)`,
          ok: ratio(bare) <= 1.5,
        },
        {
          target: `within 1.5× of the slowest single lookup, network (${ratio(net).toFixed(2)}×)`,
          ok: ratio(net) <= 1.5,
        },
      ],
      notes: [
        'the cycle also asks all.<name>, and reads client IPs from the HTML page; the manual script reads ?auto pages',
        `loopback: the lookups cost only CPU, and six pages, the EC2 endpoint and the monitor share ${availableParallelism()} cores: the CPU rows show the cycle's floor on this machine is above 1.5× the slowest lookup before any waiting is counted`,
        'network: the same servers behind forwarders holding each answer for one round trip (bench/network-delay.ts); the manual script goes through the same forwarders. Its speed-up is smaller because the cycle waits for the EC2 API, which the manual method never asks (it cannot see provisioned nodes)',
      ],
    };
  } finally {
    await stop();
  }
}
