import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import * as z from 'zod';
import { formatIssues } from '../shared/config/load';
import { ConfigError } from '../shared/errors';
import { labCertificate } from './certs';
import type { Lab, LabOptions } from './lab';

const duration = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m)$/, 'expected a duration such as 500ms, 30s or 2m')
  .transform((v) => {
    const n = Number.parseFloat(v);
    return v.endsWith('ms') ? n : v.endsWith('m') ? n * 60_000 : n * 1000;
  });

const step = z.discriminatedUnion('do', [
  z.strictObject({ at: duration, do: z.literal('note'), text: z.string() }),
  z.strictObject({
    at: duration,
    do: z.literal('traffic'),
    listener: z.enum(['http', 'https']).default('http'),
    rps: z.number().positive().max(500),
    for: duration,
  }),
  z.strictObject({ at: duration, do: z.literal('scale'), az: z.string(), nodes: z.number().int().min(0).max(20) }),
  z.strictObject({ at: duration, do: z.literal('replace'), az: z.string() }),
  z.strictObject({
    at: duration,
    do: z.literal('add-az'),
    az: z.string(),
    nodes: z.number().int().min(1).max(20).default(1),
  }),
  z.strictObject({ at: duration, do: z.literal('remove-az'), az: z.string() }),
  z.strictObject({ at: duration, do: z.literal('preopen'), on: z.boolean() }),
  z.strictObject({ at: duration, do: z.literal('cert'), backend: z.string(), days: z.number().int().min(1).max(3650) }),
  z.strictObject({ at: duration, do: z.literal('backend-tls'), backend: z.string(), up: z.boolean() }),
  z.strictObject({ at: duration, do: z.literal('dns'), failing: z.boolean() }),
  /** An AZ's targets turn unhealthy (its node leaves DNS, as an NLB's does) or healthy again. */
  z.strictObject({ at: duration, do: z.literal('az-health'), az: z.string(), healthy: z.boolean() }),
  /** Clients that connect through the nodes to a backend and send nothing, for a while. */
  z.strictObject({
    at: duration,
    do: z.literal('slow-clients'),
    backend: z.string(),
    connections: z.number().int().min(1).max(256),
    for: duration,
  }),
  z
    .strictObject({
      at: duration,
      do: z.literal('prewarm'),
      nodesPerAz: z.number().int().min(0).default(0),
      lcu: z.number().int().min(1).optional(),
      total: z.number().int().min(1).optional(),
      deadlineIn: duration.optional(),
      caseId: z.string().optional(),
    })
    .refine((p) => p.nodesPerAz > 0 || p.lcu !== undefined, 'a pre-warm needs nodesPerAz or lcu'),
  /**
   * Load offered beyond the real traffic (requests/s), for a while: the surge queue fills, then spills (Classic). Whole
   * requests: CloudWatch counts are whole, and elbscope refuses a fractional one.
   */
  z.strictObject({
    at: duration,
    do: z.literal('overload'),
    rps: z.number().int().positive().max(100_000),
    for: duration,
  }),
  /** An LCU reservation (ALB/NLB): every AZ pending, then provisioned after a while. */
  z.strictObject({ at: duration, do: z.literal('reserve'), lcu: z.number().int().min(1), provisionAfter: duration }),
]);

const scenarioSchema = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  loadBalancer: z
    .strictObject({
      name: z.string().regex(/^[a-z0-9-]{1,32}$/),
      /** The kind of load balancer the lab simulates; a network one has exactly one node per AZ. */
      kind: z.enum(['classic', 'application', 'network']).default('classic'),
      /** Requests a second one node forwards before the surge queue fills (the lab's capacity model). */
      nodeRps: z.number().int().min(1).max(100_000).optional(),
      region: z.string(),
      nodesPerAz: z.record(z.string(), z.number().int().min(1).max(20)),
    })
    .refine((lb) => lb.kind !== 'network' || Object.values(lb.nodesPerAz).every((n) => n === 1), {
      message: 'a network load balancer has exactly one node per AZ',
      path: ['nodesPerAz'],
    }),
  backends: z
    .array(
      z.strictObject({
        name: z.string(),
        slots: z.number().int().min(1).max(1024),
        tlsDays: z.number().int().min(1).optional(),
      }),
    )
    .min(1),
  idleTimeout: duration.default(20_000),
  trafficWindow: duration.default(60_000),
  /** Scale with traffic (see LabAutoscale); off when absent. */
  autoscale: z
    .strictObject({
      upRps: z.number().positive(),
      sustain: duration,
      idle: duration,
      maxPerAz: z.number().int().min(1).max(20),
    })
    .optional(),
  /** The monitor's cycle (watch interval) the scenario is written for. */
  cycle: duration.default(5_000),
  /** How long the scenario runs. */
  duration,
  steps: z.array(step),
  /** What the scenario should make elbscope report: kind, status and AZ or backend, for tests. */
  expect: z
    .array(
      z.strictObject({
        kind: z.string(),
        status: z.enum(['event', 'firing', 'resolved']),
        scope: z.string().nullable(),
        after: duration,
        before: duration,
      }),
    )
    .default([]),
});

export type Scenario = z.infer<typeof scenarioSchema>;
type ScenarioStep = z.infer<typeof step>;

/** Read and validate a scenario file; a bad one is a ConfigError naming the field. */
export function loadScenario(path: string): Scenario {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`scenario ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = scenarioSchema.safeParse(value);
  if (!result.success) throw new ConfigError(`scenario ${path}: ${formatIssues(result.error.issues)}`);
  return result.data;
}

/** The lab options a scenario asks for, with its times divided by `speed`. */
export function labOptionsOf(scenario: Scenario, speed: number): LabOptions {
  return {
    name: scenario.loadBalancer.name,
    kind: scenario.loadBalancer.kind,
    ...(scenario.loadBalancer.nodeRps ? { nodeRps: scenario.loadBalancer.nodeRps } : {}),
    region: scenario.loadBalancer.region,
    nodesPerAz: scenario.loadBalancer.nodesPerAz,
    backends: scenario.backends,
    idleTimeoutMs: scenario.idleTimeout / speed,
    trafficWindowMs: scenario.trafficWindow / speed,
    ...(scenario.autoscale
      ? {
          autoscale: {
            upRps: scenario.autoscale.upRps * speed,
            sustainMs: scenario.autoscale.sustain / speed,
            idleMs: scenario.autoscale.idle / speed,
            maxPerAz: scenario.autoscale.maxPerAz,
            checkMs: scenario.cycle / speed / 2,
          },
        }
      : {}),
  };
}

/** What a scenario step may need from the monitor side (recording a pre-warm target). */
export interface ScenarioHooks {
  prewarm?: (target: {
    nodesPerAz: number;
    lcu: number | null;
    total: number | null;
    deadline: string | null;
    caseId: string | null;
  }) => Promise<void>;
  log: (line: string) => void;
}

/**
 * Run a scenario's steps against a started lab, `speed` times faster than
 * written. Resolves when the scenario's duration is over or `signal` aborts.
 */
export async function runScenario(
  lab: Lab,
  scenario: Scenario,
  speed: number,
  hooks: ScenarioHooks,
  signal: AbortSignal,
): Promise<void> {
  const clock = lab.clock;
  const started = clock.now();
  const traffic: Promise<void>[] = [];
  // Each step on the lab's clock; the step's promise is returned so a stepped clock waits for it.
  const timers = scenario.steps.map((s) =>
    clock.setTimeout(() => {
      const when = `+${((clock.now() - started) / 1000).toFixed(1)}s`;
      return applyStep(lab, s, speed, hooks, signal, traffic)
        .then((text) => text && hooks.log(`[lab ${when}] ${text}`))
        .catch((err: unknown) => hooks.log(`[lab ${when}] step ${s.do} failed: ${(err as Error).message}`));
    }, s.at / speed),
  );
  await new Promise<void>((resolve) => {
    const end = clock.setTimeout(resolve, scenario.duration / speed);
    signal.addEventListener(
      'abort',
      () => {
        end.cancel();
        resolve();
      },
      { once: true },
    );
  });
  for (const t of timers) t.cancel();
  await Promise.all(traffic);
}

async function applyStep(
  lab: Lab,
  s: ScenarioStep,
  speed: number,
  hooks: ScenarioHooks,
  signal: AbortSignal,
  traffic: Promise<void>[],
): Promise<string | null> {
  const elb = lab.elb;
  switch (s.do) {
    case 'note':
      return s.text;
    case 'traffic':
      traffic.push(sendTraffic(lab, s.listener, s.rps * speed, s.for / speed, signal));
      return `traffic: ${s.rps} requests/s on ${s.listener} for ${s.for / 1000}s`;
    case 'scale': {
      const nodes = elb.nodes.filter((n) => n.az === s.az);
      for (let i = nodes.length; i < s.nodes; i++) elb.addNode(s.az, true);
      for (const node of nodes.slice(s.nodes)) elb.removeNode(node);
      return `${s.az}: scaled ${nodes.length} → ${s.nodes}`;
    }
    case 'replace': {
      const old = elb.nodes.find((n) => n.az === s.az);
      if (!old) return `${s.az}: no node to replace`;
      const fresh = elb.addNode(s.az, true);
      elb.removeNode(old);
      return `${s.az}: node ${old.publicIp} replaced by ${fresh.publicIp}`;
    }
    case 'add-az':
      for (let i = 0; i < s.nodes; i++) elb.addNode(s.az, true);
      return `${s.az} added with ${s.nodes} node(s)`;
    case 'remove-az':
      for (const node of elb.nodes.filter((n) => n.az === s.az)) elb.removeNode(node);
      return `${s.az} removed`;
    case 'preopen':
      lab.setPreopen(s.on);
      return `pre-open ${s.on ? 'on' : 'off (as AWS support can do)'}`;
    case 'cert': {
      const { cert, key } = await labCertificate(`${s.backend}.lab.internal`, s.days);
      lab.backend(s.backend).setCertificate(cert, key);
      return `${s.backend}: new certificate, valid ${s.days} days`;
    }
    case 'backend-tls':
      lab.backend(s.backend).setAccepting(s.up);
      return `${s.backend}: TLS port ${s.up ? 'accepting again' : 'refusing connections'}`;
    case 'az-health': {
      const nodes = elb.nodes.filter((n) => n.az === s.az);
      for (const node of nodes) elb.advertise(node, s.healthy);
      return `${s.az}: targets ${s.healthy ? 'healthy again: its node is back in DNS' : 'unhealthy: its node leaves DNS'}`;
    }
    case 'slow-clients':
      lab.openSlowClients(s.backend, s.connections, s.for / speed);
      return `${s.backend}: ${s.connections} slow clients connect and send nothing for ${s.for / 1000}s`;
    case 'overload':
      lab.capacity.offer(s.rps);
      lab.later(s.for / speed, () => lab.capacity.offer(-s.rps));
      return `overload: ${s.rps} more requests/s offered for ${s.for / 1000}s (${lab.capacity.nodeRps}/s per node forwarded; the rest queues, then spills)`;
    case 'reserve':
      lab.capacity.reserve(s.lcu, s.provisionAfter / speed);
      return `LCU reservation of ${s.lcu} requested: pending in every AZ, provisioned in ${s.provisionAfter / 1000}s`;
    case 'dns':
      elb.failDns(s.failing);
      return `DNS ${s.failing ? 'answers SERVFAIL for the name' : 'answers again'}`;
    case 'prewarm': {
      const deadline =
        s.deadlineIn === undefined ? null : new Date(lab.clock.now() + s.deadlineIn / speed).toISOString();
      await hooks.prewarm?.({
        nodesPerAz: s.nodesPerAz,
        lcu: s.lcu ?? null,
        total: s.total ?? null,
        deadline,
        caseId: s.caseId ?? null,
      });
      return `pre-warm requested: ${[s.nodesPerAz > 0 ? `${s.nodesPerAz} per AZ` : '', s.lcu ? `${s.lcu} LCUs` : ''].filter(Boolean).join(', ')}${s.total ? `, ${s.total} in all` : ''}${deadline ? ` by ${deadline}` : ''}${s.caseId ? ` (case ${s.caseId})` : ''}`;
    }
  }
}

/** Send requests to the load balancer's advertised nodes, round robin, at `rps`, for `ms`. */
async function sendTraffic(lab: Lab, listener: string, rps: number, ms: number, signal: AbortSignal): Promise<void> {
  const port = lab.listenerPort(listener);
  const end = lab.clock.now() + ms;
  const aborted = whenAborted(signal);
  let i = 0;
  while (lab.clock.now() < end && !signal.aborted) {
    const nodes = lab.elb.nodes.filter((n) => n.advertised);
    const node = nodes[i++ % Math.max(nodes.length, 1)];
    // Tracked: a stepped clock does not move on while a request is out.
    if (node) await lab.track(get(node.publicIp, port, `/traffic/${i}`)).catch(() => undefined);
    await Promise.race([lab.clock.delay(1000 / rps), aborted]);
  }
}

/** Resolves when `signal` aborts (a stepped clock stops moving then, so waits on it must end too). */
function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}

function get(host: string, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
