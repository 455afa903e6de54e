import { createHmac } from 'node:crypto';
import { makeEvent, type ElbEvent } from '../../../shared/detect/events';
import type { MacPort } from '../../../shared/ledger/seal';

// What the ledger's rule tests share: events, a key in memory, a sink that records.

/** A scaling event of `lb` at minute `m` (by default `to`: events of distinct `to` have distinct ids). */
export function scaled(lb: string, to: number, m = to): ElbEvent {
  return makeEvent({
    kind: 'scaled',
    status: 'event',
    severity: 'info',
    loadBalancer: lb,
    az: 'us-east-1a',
    backend: null,
    from: to - 1,
    to,
    at: new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString(),
    summary: `${lb} us-east-1a scaled ${to - 1} → ${to} nodes`,
    details: { direction: 'up' },
  });
}

/** A keyed seal held in memory (HMAC-SHA256), as a key file would give. */
export function memoryKey(secret = 'k'.repeat(32), since: string | null = null): MacPort {
  const mac = (data: string) => createHmac('sha256', secret).update(data).digest('base64');
  return {
    description: 'memory key',
    problem: () => null,
    since: async () => since,
    mac: async (data) => mac(data),
    verify: async (data, m) => mac(data) === m,
  };
}

/** A clock a test moves. */
export function clock(start: string) {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
}
