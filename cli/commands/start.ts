import { Command } from 'commander';
import { EC2Client } from '@aws-sdk/client-ec2';
import { createDnsLookup } from '../../shared/nodes/dns';
import { createEniLookup } from '../../shared/nodes/eni';
import { observeNodes } from '../../shared/nodes/observe';
import { LabElb } from '../../lab/elb';
import { runDemoScript } from '../../lab/demo-script';
import { formatNodesTable } from '../format/nodes-table';
import { EXIT, type CliIo } from '../io';
import { durationArg, sleep } from './duration';
import { intArg } from './args';

/**
 * `elbscope start` (what `npm start` runs): a simulated Classic ELB on loopback
 * that scales while elbscope watches it. No AWS account, nothing leaves 127.0.0.0/8.
 */
export function startCommand(io: CliIo, setExit: (code: number) => void, signal: AbortSignal): Command {
  return new Command('start')
    .description('watch a simulated load balancer on loopback scale (no AWS account needed)')
    .option('--cycles <n>', 'stop after N observation cycles (default: until Ctrl-C)', intArg(1, 1_000_000))
    .option('--interval <duration>', 'time between cycles', durationArg, 3000)
    .action(async (flags: { cycles?: number; interval: number }) => {
      const lab = new LabElb({ name: 'lab', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1, 'us-east-1c': 1 } });
      const { dnsServer, ec2Url } = await lab.start();
      const ec2 = new EC2Client({ region: 'us-east-1', endpoint: ec2Url, credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } });
      const deps = { dns: createDnsLookup({ servers: [dnsServer], timeoutMs: 1000, tries: 1 }), enis: createEniLookup(ec2), now: () => new Date() };
      io.out(`lab: ${lab.dnsName} served by DNS ${dnsServer} and EC2 ${ec2Url}; Ctrl-C stops`);
      try {
        for (let cycle = 1; !signal.aborted && (flags.cycles === undefined || cycle <= flags.cycles); cycle++) {
          const change = runDemoScript(lab, cycle);
          if (change) io.out(`\n[lab] ${change}`);
          const observation = await observeNodes({ dnsName: lab.dnsName }, deps, { queries: 2 });
          io.out(`\n#${cycle} ${formatNodesTable(observation)}`);
          if (flags.cycles === undefined || cycle < flags.cycles) await sleep(flags.interval, signal);
        }
      } finally {
        ec2.destroy();
        await lab.stop();
      }
      setExit(EXIT.ok);
    });
}
