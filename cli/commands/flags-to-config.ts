import { loadConfigFile, loadConfigFromEnv, parseConfig } from '../../shared/config/load';
import type { Config } from '../../shared/config/schema';
import { UsageError } from '../../shared/errors';

/**
 * The flags that shape configuration, as commander parses them; each command
 * declares the ones it takes (an absent flag leaves the configuration as it is).
 */
export interface ConfigFlags {
  /** `--config FILE`: the base, instead of the environment (ELBSCOPE_CONFIG). */
  config?: string | undefined;
  /** Load balancer DNS names (`watch --lb`, `observe`'s arguments): these instead of the base's. */
  lb?: string[] | undefined;
  /** `--region`: each named load balancer's region. */
  region?: string | undefined;
  /** `--backend`: a status page URL for each named load balancer. */
  backend?: string[] | undefined;
  /** `--accept-filter-none`: those backends run "AcceptFilter http none". */
  acceptFilterNone?: boolean | undefined;
  dnsServer?: string[] | undefined;
  /** `--queries`: DNS queries per name. */
  queries?: number | undefined;
  /** `--timeout`: DNS timeout per try (ms). */
  timeout?: number | undefined;
  /** `--allow-loopback-nodes`. */
  allowLoopbackNodes?: boolean | undefined;
  /** `--no-eni` (false): no ENI lookups, whatever the base says. */
  eni?: boolean | undefined;
  /** `--confirm M/N`. */
  confirm?: { m: number; n: number } | undefined;
  /** `--sns-topic`: the alerts' topic. */
  snsTopic?: string | undefined;
}

/**
 * The configuration a command runs with, in one place for every command: a file
 * (`--config`), else the environment when no load balancer is named, the named
 * load balancers instead of the base's, and each flag over the base's field. The
 * result is validated as a whole (`command line` in its errors). Without a file,
 * the environment or a named load balancer: a UsageError saying `usage`.
 */
export function configFromFlags(flags: ConfigFlags, env: NodeJS.ProcessEnv, usage: string): Config {
  const names = flags.lb ?? [];
  let base: Config | null = null;
  if (flags.config) base = loadConfigFile(flags.config);
  else if (names.length === 0) base = loadConfigFromEnv(env);
  if (!base && names.length === 0) throw new UsageError(usage);
  const backends = (flags.backend ?? []).map((statusUrl) => ({
    statusUrl,
    ...(flags.acceptFilterNone ? { acceptFilterNone: true } : {}),
  }));
  return parseConfig(
    {
      ...(base ?? {}),
      loadBalancers:
        names.length > 0
          ? names.map((dnsName) => ({ dnsName, ...(flags.region ? { region: flags.region } : {}), backends }))
          : base?.loadBalancers,
      dns: {
        ...(base?.dns ?? {}),
        ...(flags.dnsServer?.length ? { servers: flags.dnsServer } : {}),
        ...(flags.queries !== undefined ? { queries: flags.queries } : {}),
        ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
        ...(flags.allowLoopbackNodes ? { allowLoopbackNodes: true } : {}),
      },
      eni: { ...(base?.eni ?? {}), ...(flags.eni === false ? { enabled: false } : {}) },
      detect: { ...(base?.detect ?? {}), ...(flags.confirm ? { confirm: flags.confirm } : {}) },
      alerts: { ...(base?.alerts ?? {}), ...(flags.snsTopic ? { snsTopicArn: flags.snsTopic } : {}) },
    },
    'command line',
  );
}
