import { afterAll, beforeAll } from 'vitest';
import { EC2Client } from '@aws-sdk/client-ec2';
import { LabElb } from '../../lab/elb';

/**
 * A lab load balancer (DNS server, EC2 endpoint) for a test file, started before
 * its tests and stopped after, with an SDK EC2 client aimed at it. Read `ec2` and
 * `dnsServer` inside tests (they are set once the lab has started).
 */
export function useLabElb(options: ConstructorParameters<typeof LabElb>[0]): { lab: LabElb; ec2: EC2Client; dnsServer: string } {
  const lab = new LabElb(options);
  const running = { lab, ec2: undefined as unknown as EC2Client, dnsServer: '' };
  beforeAll(async () => {
    const started = await lab.start();
    running.dnsServer = started.dnsServer;
    running.ec2 = new EC2Client({ region: options.region, endpoint: started.ec2Url });
  });
  afterAll(async () => {
    running.ec2?.destroy();
    await lab.stop();
  });
  return running;
}
