// The monitor side of the scale benchmark, alone in its process so its peak RSS
// and CPU are its own: five cycles over every load balancer and backend of the config
// (the first pays for connections and the JIT).
import { readFileSync } from 'node:fs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { parseConfig } from '../shared/config/load';
import { snapshotConfigured } from '../shared/cycle/snapshot';
import { createDnsLookup } from '../shared/nodes/dns';
import { createEniLookup } from '../shared/nodes/eni';

const config = parseConfig(JSON.parse(readFileSync(process.argv[2] as string, 'utf8')), 'bench');
const ec2 = new EC2Client({
  region: 'us-east-1',
  endpoint: process.argv[3],
  credentials: { accessKeyId: 'b', secretAccessKey: 'b' },
});
const deps = { dns: createDnsLookup(config.dns), enisFor: () => createEniLookup(ec2), now: () => new Date() };
const cycles: { wallMs: number; cpuMs: number }[] = [];
let errors = 0;
let nodes = 0;
let backends = 0;
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const snapshots = await snapshotConfigured(config, deps);
  const used = process.cpuUsage(cpu);
  cycles.push({ wallMs: performance.now() - t, cpuMs: (used.user + used.system) / 1000 });
  errors = snapshots.reduce(
    (n, s) => n + s.observation.errors.length + s.backends.filter((b) => b.report.error).length,
    0,
  );
  nodes = snapshots.reduce((n, s) => n + s.observation.nodes.filter((x) => x.state === 'in-service').length, 0);
  backends = snapshots.reduce((n, s) => n + s.backends.filter((b) => b.report.reading !== null).length, 0);
}
ec2.destroy();
process.stdout.write(
  `${JSON.stringify({ cycles, peakRssMb: process.resourceUsage().maxRSS / 1024, errors, nodes, backends })}\n`,
);
process.exit(0);
