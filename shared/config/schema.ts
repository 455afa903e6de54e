import { z } from 'zod';
import { isHostName, parseLoadBalancerArn, parseLoadBalancerDnsName } from '../nodes/lb-name';

/**
 * The one configuration schema, shared by the Lambda functions and the CLI.
 * Unknown keys are errors (a misspelt key must not be silently ignored).
 */

/** `host`, `host:port`, `1.2.3.4:53` or `[::1]:53`. */
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

export const hostPortSchema = z
  .string()
  .regex(HOST_PORT, 'expected host or host:port')
  .refine((v) => {
    const port = /:(\d+)$/.exec(v.replace(/^\[.*\]/, ''))?.[1];
    return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
  }, 'port must be 1-65535');

export const regionSchema = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as us-east-1');

export const dnsNameSchema = z.string().refine(isHostName, 'not a valid DNS name');

export const backendSchema = z.strictObject({
  /** How reports and alerts name the backend (an instance id, a host name); default: the status URL's host. */
  name: z.string().min(1).optional(),
  /** Apache `/server-status?auto` or nginx `stub_status` URL. */
  statusUrl: z.url({ protocol: /^https?$/ }).optional(),
  tls: z
    .strictObject({
      target: hostPortSchema,
      servername: z.string().min(1).optional(),
      /** Expected SHA-256 fingerprint, `AB:CD:…` as openssl prints it. */
      pinSha256: z.string().regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, 'expected 32 hex bytes separated by colons').optional(),
    })
    .optional(),
  /** The backend runs "AcceptFilter http none", so idle connections show at once (no deferred-accept caveat). */
  acceptFilterNone: z.boolean().default(false),
  /** An https status page with a self-signed certificate: false reads it without verifying (that request only). */
  statusTlsVerify: z.boolean().default(true),
}).refine((b) => b.statusUrl !== undefined || b.tls !== undefined, 'a backend needs "statusUrl", "tls" or both');

export const loadBalancerSchema = z.strictObject({
  dnsName: dnsNameSchema,
  /** Classic load balancer name, when it cannot be derived from the DNS name. */
  name: z.string().regex(/^[A-Za-z0-9-]{1,32}$/, 'expected 1-32 letters, digits or hyphens').optional(),
  arn: z.string().refine((v) => parseLoadBalancerArn(v) !== null, 'not an ALB/NLB ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app|net/NAME/ID)').optional(),
  region: regionSchema.optional(),
  /** Role to assume for this load balancer's EC2 calls (another account). */
  roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'not an IAM role ARN').optional(),
  backends: z.array(backendSchema).default([]),
});

export const dnsSchema = z.strictObject({
  servers: z.array(hostPortSchema).default([]),
  timeoutMs: z.number().int().min(50).max(30_000).default(2_000),
  tries: z.number().int().min(1).max(5).default(2),
  /** Queries per name per cycle; answers hold 8 records and rotate, so ask more than once. */
  queries: z.number().int().min(1).max(32).default(4),
  /** DNS queries in flight at once, across all load balancers of a cycle. */
  concurrency: z.number().int().min(1).max(1024).default(64),
});

const confirmSchema = z
  .strictObject({ m: z.number().int().min(1).max(60), n: z.number().int().min(1).max(60) })
  .refine((c) => c.m <= c.n, 'm must not exceed n');

export const detectSchema = z.strictObject({
  /** A change is an event once it held in M of the last N cycles. 2 of 3 at a 1-minute schedule: quiet, and prompt (2-3 minutes). */
  confirm: confirmSchema.default({ m: 2, n: 3 }),
  /** The same for the (hourly) TLS probe rounds: a failed handshake or a new certificate is reported at once. */
  tlsConfirm: confirmSchema.default({ m: 1, n: 1 }),
  /** A condition that keeps holding is announced again after this many minutes. */
  repeatAfterMinutes: z.number().int().min(1).max(10_080).default(360),
  /** `reading-pressure` fires when R holds more than this share of a backend's worker slots. */
  pressureShare: z.number().gt(0).max(1).default(0.5),
});

export const configSchema = z.strictObject({
  /** Listed load balancers; may be empty when `discovery` finds them. */
  loadBalancers: z.array(loadBalancerSchema).default([]),
  dns: dnsSchema.default(dnsSchema.parse({})),
  eni: z.strictObject({ enabled: z.boolean().default(true) }).default({ enabled: true }),
  /** Default region for EC2 calls when neither the load balancer nor its DNS name says. */
  region: regionSchema.optional(),
  /** How many load balancers to observe at once. */
  concurrency: z.number().int().min(1).max(1024).default(8),
  backendProbe: z
    .strictObject({
      timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
      maxBytes: z.number().int().min(1_024).max(16_777_216).default(1_048_576),
      /** Status pages fetched at once, across all load balancers. */
      concurrency: z.number().int().min(1).max(1024).default(16),
      /** Status pages fetched at once from one host (a backend is not a load test target). */
      perHost: z.number().int().min(1).max(64).default(2),
      /** TLS certificates expiring within this many days are reported. */
      certWarningDays: z.number().int().min(1).max(365).default(21),
    })
    .default({ timeoutMs: 5_000, maxBytes: 1_048_576, concurrency: 16, perHost: 2, certWarningDays: 21 }),
  detect: detectSchema.default(detectSchema.parse({})),
  store: z
    .strictObject({
      /** Raw observations expire after this many days (DynamoDB TTL; pruned in the local store). Events are kept. */
      observationTtlDays: z.number().int().min(1).max(3650).default(30),
      /** An observation is stored when what it shows changes, and at least this often (minutes). */
      observationEveryMinutes: z.number().int().min(1).max(1440).default(15),
    })
    .default({ observationTtlDays: 30, observationEveryMinutes: 15 }),
  /** Find load balancers by tag instead of (or beside) listing them: Classic and v2, across regions and accounts. */
  discovery: z
    .strictObject({
      regions: z.array(regionSchema).min(1),
      /** Every tag must match (key → value; "*" matches any value). */
      tags: z.record(z.string().min(1), z.string()).refine((t) => Object.keys(t).length > 0, 'at least one tag'),
      /** Accounts to look in, by role to assume; the function's own account when empty. */
      accounts: z.array(z.strictObject({ roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'not an IAM role ARN') })).default([]),
      /** Backend status URL from a registered instance's private IP (`{ip}`); none when unset. */
      statusUrlTemplate: z.string().includes('{ip}').optional(),
      /** Backend TLS target from its private IP, e.g. `{ip}:443`; none when unset. */
      tlsTargetTemplate: z.string().includes('{ip}').optional(),
      /** How long a discovery result is reused before the APIs are asked again. */
      refreshMinutes: z.number().int().min(1).max(1440).default(15),
    })
    .optional(),
  /**
   * Fan-out on AWS: a scheduled dispatcher puts the load balancers on an SQS queue
   * in batches and workers observe them in parallel. Off: one scheduled function
   * observes them all (cheaper below ~200 load balancers; see README).
   */
  fanout: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Load balancers per queue message (one worker invocation observes one message). */
      batchSize: z.number().int().min(1).max(500).default(25),
    })
    .default({ enabled: false, batchSize: 25 }),
  alerts: z
    .strictObject({
      /** SNS topic for alerts; on Lambda the stack's own topic is used when unset. */
      snsTopicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, 'not an SNS topic ARN').optional(),
    })
    .default({}),
}).superRefine((config, ctx) => {
  if (config.loadBalancers.length === 0 && !config.discovery) {
    ctx.addIssue({ code: 'custom', path: ['loadBalancers'], message: 'at least one load balancer is required (or "discovery")' });
  }
  const seen = new Map<string, number>();
  config.loadBalancers.forEach((lb, i) => {
    const name = loadBalancerName(lb);
    if (seen.has(name)) {
      ctx.addIssue({ code: 'custom', path: ['loadBalancers', i, 'name'], message: `"${name}" is also the name of loadBalancers[${seen.get(name)}]; set a distinct "name"` });
    }
    seen.set(name, i);
  });
});

/** How events, reports and the store name a load balancer: its `name`, else the one in its DNS name or ARN, else the DNS name. */
export function loadBalancerName(lb: { dnsName: string; name?: string | undefined; arn?: string | undefined }): string {
  return lb.name ?? (lb.arn ? parseLoadBalancerArn(lb.arn)?.name : undefined) ?? parseLoadBalancerDnsName(lb.dnsName)?.name ?? lb.dnsName.toLowerCase().replace(/\.$/, '');
}

export type Config = z.infer<typeof configSchema>;
export type LoadBalancerConfig = z.infer<typeof loadBalancerSchema>;
export type BackendConfig = z.infer<typeof backendSchema>;
export type DnsConfig = z.infer<typeof dnsSchema>;
