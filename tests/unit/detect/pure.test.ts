import { afterEach, describe, expect, it, vi } from 'vitest';
import { detectCycle, detectTls, type PrewarmTarget, type RuleOptions } from '../../../shared/detect/rules';
import { emptyMemory, type CycleSample, type RulesMemory, type TlsSample } from '../../../shared/detect/state';

// decide is a pure function of the rules' memory and the sample (with its options and the
// configured pre-warm targets): the same inputs give the same events and the same memory,
// whatever the clock says, and the memory holds nothing of the ledger or the cycle.

const options: RuleOptions = {
  confirm: { m: 2, n: 3 },
  tlsConfirm: { m: 1, n: 2 },
  repeatAfterMs: 60 * 60_000,
  pressureShare: 0.5,
  certWarningDays: 21,
};
const T0 = Date.parse('2026-11-25T10:00:00Z');
const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();
const cycle = (minute: number, nodes: string[], reading = 0): CycleSample => ({
  at: at(minute),
  perAz: { 'us-east-1a': nodes },
  failures: minute % 4 === 3 ? { dns: 'SERVFAIL' } : {},
  backends: { web: { reading, share: reading / 10 } },
});
const tls = (minute: number, fingerprint: string, daysLeft: number): TlsSample => ({
  at: at(minute),
  backends: { web: { fingerprint, daysLeft, validTo: '2026-12-01T00:00:00.000Z', error: null } },
});
const prewarms: PrewarmTarget[] = [
  {
    id: 'pw-1',
    loadBalancer: 'web',
    nodesPerAz: 3,
    total: null,
    deadline: at(30),
    caseId: '1',
    requestedAt: at(0),
  } as PrewarmTarget,
];

/** A memory some cycles and rounds into its life: baselines, a firing condition, samples. */
function lived(): RulesMemory {
  const memory = emptyMemory();
  const nodes = [['10.0.0.1'], ['10.0.0.1'], ['10.0.0.1', '10.0.0.2'], ['10.0.0.1', '10.0.0.2'], ['10.0.0.1']];
  for (const [i, n] of nodes.entries()) detectCycle(memory, cycle(i, n, i), 'web', options, prewarms);
  detectTls(memory, tls(1, 'AA', 40), 'web', options);
  detectTls(memory, tls(61, 'BB', 10), 'web', options);
  return memory;
}

afterEach(() => vi.useRealTimers());

describe('Function: decide (detectCycle, detectTls) as a pure function of (memory, sample)', () => {
  it('the same memory and sample give the same events and the same memory, whenever it runs', () => {
    const base = lived();
    const runOnce = (now: number) => {
      vi.useFakeTimers({ now });
      const memory = structuredClone(base);
      const events = [
        ...detectCycle(memory, cycle(5, ['10.0.0.1', '10.0.0.3'], 9), 'web', options, prewarms),
        ...detectTls(memory, tls(121, 'CC', 5), 'web', options),
      ];
      vi.useRealTimers();
      return { events, memory };
    };
    const first = runOnce(T0);
    const later = runOnce(T0 + 400 * 86_400_000); // a year on: nothing the rules decide reads the clock
    expect(first.events.length).toBeGreaterThan(0);
    expect(later).toEqual(first);
  });

  it('reads and writes the rules memory only: nothing of the ledger (chains, pending) nor of the cycle (its times)', () => {
    const memory = lived();
    const known = ['samples', 'tlsSamples', 'nodes', 'preopen', 'certs', 'firstSign', 'conditions', 'prewarm', 'kind'];
    for (const key of Object.keys(memory)) expect(known).toContain(key);
    for (const foreign of ['chain', 'pending', 'observationChain', 'prewarmDigests', 'lastCycleAt', 'lastTlsAt'])
      expect(memory).not.toHaveProperty(foreign);
  });
});
