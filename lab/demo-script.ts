import type { LabElb } from './elb';

/**
 * The demo's timeline, by observation cycle: a node is provisioned in one AZ
 * (ENI before DNS, as AWS does), advertised, then a node elsewhere is taken out
 * of DNS and removed. It repeats every 10 cycles. Returns what changed, if anything.
 */
export function runDemoScript(lab: LabElb, cycle: number): string | null {
  const step = ((cycle - 1) % 10) + 1;
  switch (step) {
    case 3: {
      const node = lab.addNode('us-east-1b', false);
      return `us-east-1b: new node ${node.publicIp} provisioned (ENI ${node.eniId}), not yet in DNS`;
    }
    case 4: {
      const node = lab.nodes.find((n) => !n.advertised);
      if (!node) return null;
      lab.advertise(node, true);
      return `us-east-1b: ${node.publicIp} now advertised in DNS (scaled 1 → 2)`;
    }
    case 7: {
      const node = lab.nodes.filter((n) => n.az === 'us-east-1b').at(-1);
      if (!node) return null;
      lab.advertise(node, false);
      return `us-east-1b: ${node.publicIp} taken out of DNS`;
    }
    case 8: {
      const node = lab.nodes.find((n) => !n.advertised);
      if (!node) return null;
      lab.removeNode(node);
      return `us-east-1b: ${node.publicIp} removed (scaled 2 → 1)`;
    }
    default:
      return null;
  }
}
