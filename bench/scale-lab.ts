// The lab side of the scale benchmark, in its own process: DNS for N load
// balancers (3 AZs × 2 nodes each), their ENIs behind a local EC2 endpoint, and
// status pages for B backends each, served by a few HTTP servers (many backends
// per server, one URL each). Prints its endpoints as one JSON line.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { serveWithDnsmasq } from './dnsmasq';
import type { AddressInfo } from 'node:net';
import { emptyZone, startDnsServer } from '../lab/dns/server';
import { startEc2Endpoint, type Ec2State } from '../lab/ec2/server';

const [lbs, backendsPerLb, servers] = (process.argv[2] ?? '500,6,50').split(',').map(Number) as [
  number,
  number,
  number,
];
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const zone = emptyZone();
const ec2: Ec2State = { enis: [], failNext: [], requests: [] };
for (let i = 0; i < lbs; i++) {
  const name = `scale${i}-1.us-east-1.elb.amazonaws.com`;
  const ips: string[] = [];
  for (let n = 0; n < 6; n++) {
    const ip = `127.${10 + Math.floor(i / 250)}.${i % 250}.${n + 1}`;
    ips.push(ip);
    zone.ptr.set(ip, `ec2-${ip.replaceAll('.', '-')}.compute-1.amazonaws.com`);
    ec2.enis.push({
      eniId: `eni-${i}-${n}`,
      az: AZS[n % 3] as string,
      description: `ELB scale${i}`,
      privateIp: `10.${i % 250}.${Math.floor(i / 250)}.${n + 1}`,
      publicIp: ip,
    });
  }
  zone.hosts.set(name, { a: ips });
  zone.hosts.set(`all.${name}`, { a: ips, maxAnswers: 100 });
}
const page = readFileSync(new URL('../tests/fixtures/status/apache-2.4-event.html', import.meta.url), 'utf8');
const ports: number[] = [];
for (let s = 0; s < servers; s++) {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(page);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  ports.push((server.address() as AddressInfo).port);
}
// dnsmasq (C) answers thousands of queries a second where the in-process dns2
// server answers hundreds: with it, the benchmark measures elbscope, not the lab.
const fast = await serveWithDnsmasq(zone);
const dnsServer = fast?.address ?? (await startDnsServer(zone)).address;
const dnsImpl = fast ? 'dnsmasq' : 'dns2 (in-process; install dnsmasq-base for a faster lab)';
const endpoint = await startEc2Endpoint(ec2);
process.stdout.write(`${JSON.stringify({ dnsServer, dnsImpl, ec2Url: endpoint.url, lbs, backendsPerLb, ports })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
