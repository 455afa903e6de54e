// A lab in its own process, so a benchmark's servers do not share the event loop
// with the monitor being measured. Prints its endpoints as one JSON line; stops
// when its standard input closes. With a second argument (network delays, see
// bench/network-delay.ts) it also prints delayed endpoints for the same servers.
import { Lab, type LabOptions } from '../lab/lab';
import { serveWithDnsmasq } from './dnsmasq';
import { delayTcp, delayUdp, type Forwarder } from './network-delay';

/** Round trips added to each kind of lookup, in milliseconds. */
export interface NetworkDelays {
  dnsMs: number;
  ec2Ms: number;
  statusMs: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as LabOptions;
const delays = process.argv[3] ? (JSON.parse(process.argv[3]) as NetworkDelays) : null;
const lab = new Lab(options);
const endpoints = await lab.start();
// The lab's names from dnsmasq when it is installed (see bench/dnsmasq.ts).
const fast = await serveWithDnsmasq(lab.elb.zone);
if (fast) endpoints.dnsServer = fast.address;
const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

const forwarders: Forwarder[] = [];
let delayed = null;
if (delays) {
  const dns = await delayUdp(portOf(endpoints.dnsServer), delays.dnsMs);
  const ec2 = await delayTcp(Number(new URL(endpoints.ec2Url).port), delays.ec2Ms);
  const status = await Promise.all(lab.backends.map((b) => delayTcp(b.statusPort, delays.statusMs)));
  forwarders.push(dns, ec2, ...status);
  delayed = {
    ...delays,
    dnsServer: dns.address,
    ec2Url: `http://${ec2.address}`,
    statusPorts: status.map((s) => s.port),
  };
}
process.stdout.write(
  `${JSON.stringify({
    ...endpoints,
    pid: process.pid,
    dnsImpl: fast ? 'dnsmasq' : 'dns2',
    dnsName: lab.elb.dnsName,
    nodes: lab.elb.nodes.map((n) => n.publicIp),
    listeners: lab.listeners.map((l) => ({ name: l.name, port: l.port })),
    backends: lab.backends.map((b) => ({
      name: b.options.name,
      statusPort: b.statusPort,
      trafficPort: b.trafficPort,
      tls: Boolean(b.options.tls),
    })),
    delayed,
  })}\n`,
);
process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all(forwarders.map((f) => f.close()))
    .then(() => lab.stop())
    .then(() => process.exit(0));
});
