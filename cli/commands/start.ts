import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { EC2Client } from '@aws-sdk/client-ec2';
import { consoleSink } from '../../shared/alerts/sinks';
import { parseConfig } from '../../shared/config/load';
import { recordCycle } from '../../shared/cycle/record';
import { snapshotConfigured } from '../../shared/cycle/snapshot';
import { createDnsLookup } from '../../shared/nodes/dns';
import { createEniLookup } from '../../shared/nodes/eni';
import { buildReport } from '../../shared/report/build';
import { renderReport } from '../../shared/report/render';
import { LocalStore } from '../../shared/store/local';
import { LabElb } from '../../lab/elb';
import { runDemoScript } from '../../lab/demo-script';
import { formatNodesTable } from '../format/nodes-table';
import { EXIT, type CliIo } from '../io';
import { durationArg, sleep } from './duration';
import { intArg } from './args';

/**
 * `elbscope start` (what `npm start` runs): a simulated Classic ELB on loopback
 * that scales while elbscope watches it (observe → detect → store → alert), and
 * the HTML report of the run on exit. No AWS account, nothing leaves 127.0.0.0/8.
 */
export function startCommand(io: CliIo, setExit: (code: number) => void, signal: AbortSignal): Command {
  return new Command('start')
    .description('watch a simulated load balancer on loopback scale, with alerts and a report (no AWS account needed)')
    .option('--cycles <n>', 'stop after N observation cycles (default: until Ctrl-C)', intArg(1, 1_000_000))
    .option('--interval <duration>', 'time between cycles', durationArg, 3000)
    .option('--store <dir>', 'store directory (default: a new temporary one)')
    .action(async (flags: { cycles?: number; interval: number; store?: string }) => {
      const lab = new LabElb({ name: 'lab', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1, 'us-east-1c': 1 } });
      const { dnsServer, ec2Url } = await lab.start();
      const ec2 = new EC2Client({ region: 'us-east-1', endpoint: ec2Url, credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } });
      const config = parseConfig({ loadBalancers: [{ dnsName: lab.dnsName }], dns: { servers: [dnsServer], timeoutMs: 1000, tries: 1, queries: 2 } }, 'lab');
      const dir = flags.store ?? (await mkdtemp(join(tmpdir(), 'elbscope-lab-')));
      const store = new LocalStore(dir);
      const now = () => new Date();
      const deps = { dns: createDnsLookup(config.dns), enisFor: () => createEniLookup(ec2), now };
      const record = { store, sink: consoleSink(io.out), now, claimant: `start-${process.pid}`, warn: (m: string) => io.err(`elbscope: ${m}`) };
      io.out(`lab: ${lab.dnsName} served by DNS ${dnsServer} and EC2 ${ec2Url}; store ${dir}; Ctrl-C stops`);
      try {
        for (let cycle = 1; !signal.aborted && (flags.cycles === undefined || cycle <= flags.cycles); cycle++) {
          const change = runDemoScript(lab, cycle);
          if (change) io.out(`\n[lab] ${change}`);
          const [snapshot] = await snapshotConfigured(config, deps);
          if (snapshot) io.out(`\n#${cycle} ${formatNodesTable(snapshot.observation)}`);
          await recordCycle(config, snapshot ? [snapshot] : [], new Date().toISOString(), record);
          if (flags.cycles === undefined || cycle < flags.cycles) await sleep(flags.interval, signal);
        }
      } finally {
        ec2.destroy();
        await lab.stop();
      }
      const reportFile = join(dir, 'report.html');
      await writeFile(reportFile, renderReport(await buildReport(store, 'lab', {}, now()), 'html'));
      io.out(`\nreport of this run: ${reportFile}`);
      setExit(EXIT.ok);
    });
}
