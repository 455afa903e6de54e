import { afterAll, beforeAll } from 'vitest';
import { EC2Client } from '@aws-sdk/client-ec2';
import { LabElb } from '../../lab/elb';
import { cloudWatchState, startCloudWatch, type RunningCloudWatch } from '../../lab/cloudwatch/server';

/**
 * A lab load balancer (DNS server, EC2 endpoint) for a test file, started before
 * its tests and stopped after, with an SDK EC2 client aimed at it. Read `ec2` and
 * `dnsServer` inside tests (they are set once the lab has started).
 */
export function useLabElb(options: ConstructorParameters<typeof LabElb>[0]): {
  lab: LabElb;
  ec2: EC2Client;
  dnsServer: string;
} {
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

/**
 * A lab load balancer and a CloudWatch endpoint that answers as for a quiet one (no
 * datapoints), for tests that run `elbscope watch` against them: `env` aims the CLI's
 * SDK at both. Read `dnsServer` and `env` inside tests (set once both have started).
 */
export function useQuietLab(options: ConstructorParameters<typeof LabElb>[0]): {
  lab: LabElb;
  dnsServer: string;
  env: Record<string, string>;
} {
  const lab = new LabElb(options);
  const running = { lab, dnsServer: '', env: {} as Record<string, string> };
  let cloudwatch: RunningCloudWatch | undefined;
  beforeAll(async () => {
    const started = await lab.start();
    cloudwatch = await startCloudWatch(cloudWatchState(() => []));
    running.dnsServer = started.dnsServer;
    running.env = { AWS_ENDPOINT_URL_EC2: started.ec2Url, AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url };
  });
  afterAll(async () => {
    await lab.stop();
    await cloudwatch?.close();
  });
  return running;
}
