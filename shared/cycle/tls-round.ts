import pLimit from 'p-limit';
import { probeTls, type TlsFinding } from '../backends/tls-probe';
import type { Config } from '../config/schema';
import { backendName } from './backend-name';

// Kept apart from the node cycle so the tls-probe function does not load the EC2 client.

/** One TLS finding, with the load balancer and backend it belongs to. */
export interface BackendTls {
  loadBalancer: string;
  backend: string;
  finding: TlsFinding;
}

/** Probe the TLS target of every configured backend that has one. */
export async function probeConfiguredTls(config: Config, now: () => Date): Promise<BackendTls[]> {
  const limit = pLimit(config.backendProbe.concurrency);
  const { timeoutMs, certWarningDays } = config.backendProbe;
  const jobs = config.loadBalancers.flatMap((lb) =>
    lb.backends.flatMap((b) => {
      const tls = b.tls;
      if (!tls) return [];
      return [
        limit(async () => {
          const finding = await probeTls(tls.target, { servername: tls.servername, pinSha256: tls.pinSha256, timeoutMs, now });
          if (finding.daysLeft !== null && finding.daysLeft >= 0 && finding.daysLeft <= certWarningDays) {
            finding.findings.push(`certificate expires in ${finding.daysLeft} days (${finding.validTo})`);
          }
          return { loadBalancer: lb.dnsName, backend: backendName(b), finding };
        }),
      ];
    }),
  );
  return Promise.all(jobs);
}
