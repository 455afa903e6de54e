// A lab in its own process, so a benchmark's servers do not share the event loop
// with the monitor being measured. Prints its endpoints as one JSON line; stops
// when its standard input closes.
import { Lab, type LabOptions } from '../lab/lab';
import { serveWithDnsmasq } from './dnsmasq';

const options = JSON.parse(process.argv[2] ?? '{}') as LabOptions;
const lab = new Lab(options);
const endpoints = await lab.start();
// The lab's names from dnsmasq when it is installed (see bench/dnsmasq.ts).
const fast = await serveWithDnsmasq(lab.elb.zone);
if (fast) endpoints.dnsServer = fast.address;
process.stdout.write(
  `${JSON.stringify({
    ...endpoints,
    dnsImpl: fast ? 'dnsmasq' : 'dns2',
    dnsName: lab.elb.dnsName,
    nodes: lab.elb.nodes.map((n) => n.publicIp),
    listeners: lab.listeners.map((l) => ({ name: l.name, port: l.port })),
    backends: lab.backends.map((b) => ({ name: b.options.name, statusPort: b.statusPort, trafficPort: b.trafficPort, tls: Boolean(b.options.tls) })),
  })}\n`,
);
process.stdin.resume();
process.stdin.on('end', () => {
  void lab.stop().then(() => process.exit(0));
});
