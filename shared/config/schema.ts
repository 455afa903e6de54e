import { isIP } from 'node:net';
import * as z from 'zod/mini';
// The English messages alone: 'zod/locales' would bundle every language (~400 KB).
import en from 'zod/v4/locales/en.js';
import { isHostName, parseLoadBalancerArn } from '../nodes/lb-name';
import { loadBalancerKey, withKeys } from './identity';

/**
 * The one configuration schema, shared by the Lambda functions and the CLI.
 * Unknown keys are errors (a misspelt key must not be silently ignored).
 *
 * Written with zod/mini: the same validation as classic zod, but tree-shakable —
 * classic zod adds ~450 KB (minified) to every function bundle, mini ~30 KB.
 */

// zod/mini ships no messages of its own; these are classic zod's English ones.
z.config(en());

/** An integer from `min` to `max`. */
const intIn = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

/** A non-empty string. */
export const nonEmpty = () => z.string().check(z.minLength(1));

/** `host`, `host:port`, `1.2.3.4:53` or `[::1]:53`. */
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

export const hostPortSchema = z.string().check(
  z.regex(HOST_PORT, 'expected host or host:port'),
  z.refine((v) => {
    const port = /:(\d+)$/.exec(v.replace(/^\[.*\]/, ''))?.[1];
    return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
  }, 'port must be 1-65535'),
);

/**
 * A DNS server: an IP address with an optional port (`127.0.0.1:53`, `[::1]:53`).
 * node:dns (c-ares) takes no host names, so `localhost:9` is refused here, with
 * its reason, rather than by the resolver in the middle of a cycle.
 */
export const dnsServerSchema = hostPortSchema.check(
  z.refine(
    (v) => isIP(v.startsWith('[') ? v.slice(1, v.indexOf(']')) : v.replace(/:\d+$/, '')) !== 0,
    'a DNS server must be an IP address (with an optional :port), not a host name',
  ),
);

export const regionSchema = z
  .string()
  .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as us-east-1'));

export const dnsNameSchema = z.string().check(z.refine(isHostName, 'not a valid DNS name'));

/** An IAM role ARN (a role's path and name: at most 512 characters of IAM's allowed ones). */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

const roleArnSchema = z.string().check(z.regex(ROLE_ARN, 'not an IAM role ARN'));

const backendSchema = z
  .strictObject({
    /** How reports and alerts name the backend (an instance id, a host name); default: the status URL's host. */
    name: z.optional(nonEmpty()),
    /** Apache `/server-status?auto` or nginx `stub_status` URL. */
    statusUrl: z.optional(z.url({ protocol: /^https?$/ })),
    tls: z.optional(
      z.strictObject({
        target: hostPortSchema,
        servername: z.optional(nonEmpty()),
        /** Expected SHA-256 fingerprint, `AB:CD:…` as openssl prints it. */
        pinSha256: z.optional(
          z
            .string()
            .check(z.regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, 'expected 32 hex bytes separated by colons')),
        ),
      }),
    ),
    /** The backend runs "AcceptFilter http none", so idle connections show at once (no deferred-accept caveat). */
    acceptFilterNone: z._default(z.boolean(), false),
    /** An https status page with a self-signed certificate: false reads it without verifying (that request only). */
    statusTlsVerify: z._default(z.boolean(), true),
  })
  .check(
    z.refine((b) => b.statusUrl !== undefined || b.tls !== undefined, 'a backend needs "statusUrl", "tls" or both'),
  );

const loadBalancerSchema = z.strictObject({
  dnsName: dnsNameSchema,
  /** Classic load balancer name, when it cannot be derived from the DNS name. */
  name: z.optional(z.string().check(z.regex(/^[A-Za-z0-9-]{1,32}$/, 'expected 1-32 letters, digits or hyphens'))),
  arn: z.optional(
    z
      .string()
      .check(
        z.refine(
          (v) => parseLoadBalancerArn(v) !== null,
          'not an ALB/NLB ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app|net/NAME/ID)',
        ),
      ),
  ),
  region: z.optional(regionSchema),
  /** Role to assume for this load balancer's EC2 calls (another account). */
  roleArn: z.optional(roleArnSchema),
  /**
   * How the store, events and reports name it. Default: its name, or `name.region`
   * (and the account of its role, and `app`/`net`) when another listed load
   * balancer has the same name. Set it to keep a key when the list changes.
   */
  key: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,127}$/, 'expected 1-128 letters, digits, dots or hyphens')),
  ),
  backends: z._default(z.array(backendSchema), []),
  /** Its target groups' ARNs (ALB/NLB): each gets a target-health alarm (capacity.mode "alarms"); discovery fills it. */
  targetGroups: z.optional(
    z
      .array(
        z
          .string()
          .check(
            z.regex(
              /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/,
              'not a target group ARN',
            ),
          ),
      )
      .check(z.maxLength(100)),
  ),
});

const dnsSchema = z.strictObject({
  servers: z._default(z.array(dnsServerSchema), []),
  timeoutMs: z._default(intIn(50, 30_000), 2_000),
  tries: z._default(intIn(1, 5), 2),
  /** Queries per name per cycle; answers hold 8 records and rotate, so ask more than once. */
  queries: z._default(intIn(1, 32), 4),
  /** DNS queries in flight at once, across all load balancers of a cycle. */
  concurrency: z._default(intIn(1, 1024), 64),
  /**
   * Take loopback addresses (127.0.0.0/8, ::1) in DNS answers as nodes. No real load
   * balancer node has one; the lab's nodes do, so only its configurations set this.
   */
  allowLoopbackNodes: z._default(z.boolean(), false),
});

const confirmSchema = z
  .strictObject({ m: intIn(1, 60), n: intIn(1, 60) })
  .check(z.refine((c) => c.m <= c.n, 'm must not exceed n'));

const detectSchema = z.strictObject({
  /**
   * A change is an event once it held in M of the last N cycles. 2 of 3 at a 1-minute schedule: quiet, and prompt (2-3
   * minutes).
   */
  confirm: z._default(confirmSchema, { m: 2, n: 3 }),
  /** The same for the (hourly) TLS probe rounds: a failed handshake or a new certificate is reported at once. */
  tlsConfirm: z._default(confirmSchema, { m: 1, n: 1 }),
  /** A condition that keeps holding is announced again after this many minutes. */
  repeatAfterMinutes: z._default(intIn(1, 10_080), 360),
  /** `reading-pressure` fires when R holds more than this share of a backend's worker slots. */
  pressureShare: z._default(z.number().check(z.gt(0), z.maximum(1)), 0.5),
});

const backendProbeSchema = z.strictObject({
  timeoutMs: z._default(intIn(100, 60_000), 5_000),
  maxBytes: z._default(intIn(1_024, 16_777_216), 1_048_576),
  /** Status pages fetched at once, across all load balancers. */
  concurrency: z._default(intIn(1, 1024), 16),
  /** Status pages fetched at once from one host (a backend is not a load test target). */
  perHost: z._default(intIn(1, 64), 2),
  /** TLS certificates expiring within this many days are reported. */
  certWarningDays: z._default(intIn(1, 365), 21),
});

const storeSchema = z.strictObject({
  /** Raw observations expire after this many days (DynamoDB TTL; pruned in the local store). Events are kept. */
  observationTtlDays: z._default(intIn(1, 3650), 30),
  /** An observation is stored when what it shows changes, and at least this often (minutes). */
  observationEveryMinutes: z._default(intIn(1, 1440), 15),
  /**
   * The key the audit is sealed with, kept outside the store: a key file's path (the CLI; default
   * `~/.config/elbscope/seal.key`, created on first use, mode 0600) or a KMS HMAC key (a key or alias
   * ARN, `alias/NAME` or a key id; on Lambda the stack's own key when unset). See docs/ledger.md, Store.
   */
  sealKey: z.optional(nonEmpty()),
});

/**
 * AWS's own capacity signals beside the nodes: CloudWatch ELB metrics (one batched
 * GetMetricData per region and account per read) and ALB/NLB LCU reservations.
 */
const capacitySchema = z.strictObject({
  /**
   * How the capacity signals are learnt: `alarms` (CloudWatch alarms per load balancer, their states read with one
   * DescribeAlarms per region and account a cycle, the figures read on a change and every
   * `alarms.chartEveryMinutes` for the report's charts; about a tenth of the price) or `polling` (GetMetricData every
   * `cloudwatch.everyMinutes`). See docs/performance.md for the price of each.
   */
  mode: z._default(z.enum(['alarms', 'polling']), 'alarms'),
  alarms: z._default(
    z.strictObject({
      /** The `<stage>` of the alarms' names, `elbscope-<stage>-<key>-<signal>` (on AWS the deployed stage wins). */
      stage: z._default(
        z.string().check(z.regex(/^[A-Za-z0-9-]{1,32}$/, 'expected 1-32 letters, digits or hyphens')),
        'local',
      ),
      /** Every metric read this often for the report's charts (a window of that many one-minute points). */
      chartEveryMinutes: z._default(intIn(5, 1440), 60),
    }),
    { stage: 'local', chartEveryMinutes: 60 },
  ),
  cloudwatch: z._default(
    z.strictObject({
      enabled: z._default(z.boolean(), true),
      /**
       * Read every this many minutes (each read is billed per metric requested, not per
       * datapoint: 60 reads the last hour's 1-minute datapoints for a sixtieth of the
       * cost, and events come up to an hour later; see docs/performance.md).
       */
      everyMinutes: z._default(intIn(1, 60), 1),
      /** A minute is first judged once it ended this long ago (ELB datapoints can arrive late). */
      settleMinutes: z._default(intIn(0, 10), 2),
      /**
       * Every read takes the last this many minutes again: a datapoint that arrives or changes
       * late (AWS documents no bound) replaces what was read, once. Free: GetMetricData is billed
       * per metric requested, not per datapoint.
       */
      trailingMinutes: z._default(intIn(1, 180), 15),
      /**
       * `all` (charts and events) or `essential` (only what the events need: 1-2 metrics a kind, a third of the cost).
       */
      metrics: z._default(z.enum(['all', 'essential']), 'all'),
    }),
    { enabled: true, everyMinutes: 1, settleMinutes: 2, trailingMinutes: 15, metrics: 'all' },
  ),
  /** DescribeCapacityReservation of each ALB/NLB (with an ARN) every this many minutes; 0: never. */
  reservationEveryMinutes: z._default(intIn(0, 1440), 5),
  /** `surge-queue` fires when a Classic ELB's SurgeQueueLength (at most 1,024) exceeds this share of 1,024. */
  surgeQueueShare: z._default(z.number().check(z.gt(0), z.maximum(1)), 0.5),
  /**
   * `reservation-idle`: reserved this many days while reserved-LCU use (ALB PeakLCUs, NLB ProcessedBytes)
   * stayed under `idleShare` of the reservation, with usage data in at least half of those hours.
   */
  idleDays: z._default(intIn(1, 90), 7),
  idleShare: z._default(z.number().check(z.gt(0), z.maximum(1)), 0.2),
});

/** Find load balancers by tag instead of (or beside) listing them: Classic and v2, across regions and accounts. */
const discoverySchema = z.strictObject({
  regions: z.array(regionSchema).check(z.minLength(1)),
  /** Every tag must match (key → value; "*" matches any value). */
  tags: z.record(nonEmpty(), z.string()).check(z.refine((t) => Object.keys(t).length > 0, 'at least one tag')),
  /** Accounts to look in, by role to assume; the function's own account when empty. */
  accounts: z._default(z.array(z.strictObject({ roleArn: roleArnSchema })), []),
  /** Backend status URL from a registered instance's private IP (`{ip}`); none when unset. */
  statusUrlTemplate: z.optional(z.string().check(z.includes('{ip}'))),
  /** Backend TLS target from its private IP, e.g. `{ip}:443`; none when unset. */
  tlsTargetTemplate: z.optional(z.string().check(z.includes('{ip}'))),
  /** How long a discovery result is reused before the APIs are asked again. */
  refreshMinutes: z._default(intIn(1, 1440), 15),
});

/**
 * Fan-out on AWS: a scheduled dispatcher puts the load balancers on an SQS queue
 * in batches and workers observe them in parallel. Off: one scheduled function
 * observes them all (cheaper and simpler while one invocation holds them; see docs/configuration.md, Many load balancers).
 */
const fanoutSchema = z.strictObject({
  enabled: z._default(z.boolean(), false),
  /**
   * Load balancers per queue message (one worker invocation observes one message). The default is half of what one
   * 256 MB invocation observed with its share of a CPU, rounded down (benchmark 8: ~285; docs/performance.md).
   */
  // Half of what one 256 MB invocation observed in the lower of two bench 8 runs (188; 285 in a quieter one).
  batchSize: z._default(intIn(1, 500), 75),
});

/** An SNS topic ARN (standard, or FIFO ending `.fifo`). */
export const snsTopicArnSchema = z
  .string()
  .check(z.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, 'not an SNS topic ARN'));

const alertsSchema = z.strictObject({
  /** SNS topic for alerts; on Lambda the stack's own topic is used when unset. */
  snsTopicArn: z.optional(snsTopicArnSchema),
});

/** A whole section's defaults: what parsing an empty object gives. */
const defaultsOf = <T extends z.ZodMiniType>(schema: T): z.output<T> => schema.parse({});

export const configSchema = z
  .strictObject({
    /** Listed load balancers; may be empty when `discovery` finds them. */
    loadBalancers: z._default(z.array(loadBalancerSchema), []),
    dns: z._default(dnsSchema, defaultsOf(dnsSchema)),
    eni: z._default(z.strictObject({ enabled: z._default(z.boolean(), true) }), { enabled: true }),
    /** Default region for EC2 calls when neither the load balancer nor its DNS name says. */
    region: z.optional(regionSchema),
    /** How many load balancers to observe at once. */
    concurrency: z._default(intIn(1, 1024), 8),
    backendProbe: z._default(backendProbeSchema, defaultsOf(backendProbeSchema)),
    detect: z._default(detectSchema, defaultsOf(detectSchema)),
    store: z._default(storeSchema, defaultsOf(storeSchema)),
    discovery: z.optional(discoverySchema),
    fanout: z._default(fanoutSchema, defaultsOf(fanoutSchema)),
    alerts: z._default(alertsSchema, {}),
    capacity: z._default(capacitySchema, defaultsOf(capacitySchema)),
  })
  .check(
    // Keys first (same-named load balancers in two regions or accounts get qualified ones), then each must be unique.
    z.overwrite((config) => ({ ...config, loadBalancers: withKeys(config.loadBalancers, config.region) })),
    z.superRefine((config, ctx) => {
      if (config.loadBalancers.length === 0 && !config.discovery) {
        ctx.addIssue({
          code: 'custom',
          path: ['loadBalancers'],
          message: 'at least one load balancer is required (or "discovery")',
        });
      }
      const seen = new Map<string, number>();
      config.loadBalancers.forEach((lb, i) => {
        const key = loadBalancerKey(lb);
        // Discovery's own record in the store (shared/ledger/keys.ts DISCOVERY_LEDGER): a load balancer filed
        // under it would share that record and be hidden from every listing.
        if (key === 'elbscope-discovery')
          ctx.addIssue({
            code: 'custom',
            path: ['loadBalancers', i],
            message: `${lb.dnsName} would be filed as "elbscope-discovery", the name discovery's own record has; set a distinct "key"`,
          });
        const other = seen.get(key);
        if (other !== undefined) {
          const otherDns = config.loadBalancers[other]?.dnsName ?? '';
          const message =
            otherDns.toLowerCase() === lb.dnsName.toLowerCase()
              ? `${lb.dnsName} is listed twice (also loadBalancers[${other}]); list it once`
              : `${lb.dnsName} and loadBalancers[${other}] (${otherDns}) would both be filed as "${key}"; set "region", "arn" or a distinct "key"`;
          ctx.addIssue({ code: 'custom', path: ['loadBalancers', i], message });
        }
        seen.set(key, i);
      });
    }),
  );

export type Config = z.infer<typeof configSchema>;
export type LoadBalancerConfig = z.infer<typeof loadBalancerSchema>;
export type BackendConfig = z.infer<typeof backendSchema>;
