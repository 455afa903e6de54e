import * as z from 'zod/mini';
import { formatIssues } from '../config/load';
import { nonEmpty, type Config } from '../config/schema';
import { loadBalancerKey } from '../config/identity';

/** One unit of fan-out work: a batch of load balancers (by name) for one cycle. */
export interface WorkMessage {
  cycleAt: string;
  loadBalancers: string[];
}

const workSchema = z.strictObject({
  cycleAt: z.string().check(z.refine((v) => !Number.isNaN(Date.parse(v)), 'not an ISO time')),
  loadBalancers: z.array(nonEmpty()).check(z.minLength(1)),
});

/** Split the configured load balancers into work messages of `batchSize`, in config order. */
export function planWork(config: Config, cycleAt: string): WorkMessage[] {
  const names = config.loadBalancers.map(loadBalancerKey);
  const messages: WorkMessage[] = [];
  for (let i = 0; i < names.length; i += config.fanout.batchSize)
    messages.push({ cycleAt, loadBalancers: names.slice(i, i + config.fanout.batchSize) });
  return messages;
}

/** Parse a queue message body; a bad one is a one-line error naming what is wrong. */
export function parseWork(body: string): { ok: true; value: WorkMessage } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, error: 'work message: not JSON' };
  }
  const parsed = workSchema.safeParse(value);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, error: `work message: ${formatIssues(parsed.error.issues)}` };
}

/**
 * The configuration narrowed to a message's load balancers; unknown names are an error (a stale message after a config
 * change).
 */
export function configFor(config: Config, work: WorkMessage): Config {
  const wanted = new Set(work.loadBalancers);
  const loadBalancers = config.loadBalancers.filter((lb) => wanted.has(loadBalancerKey(lb)));
  const known = new Set(loadBalancers.map(loadBalancerKey));
  const unknown = work.loadBalancers.filter((n) => !known.has(n));
  if (unknown.length > 0)
    throw new Error(`work message names load balancers not in the configuration: ${unknown.join(', ')}`);
  return { ...config, loadBalancers };
}
