// A state as an elbscope before the state split stored it: the rules' memory, the ledger's head
// and the cycle's metadata side by side in one flat object (shared/ledger/upgrade.ts reads it).

/** A pre-split (flat) state of a load balancer never seen, with `fields` over it. */
export function flatState(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    lastCycleAt: null,
    lastTlsAt: null,
    samples: [],
    tlsSamples: [],
    nodes: null,
    preopen: {},
    certs: {},
    firstSign: {},
    conditions: {},
    prewarm: {},
    chain: { seq: 0, hash: '0'.repeat(64) },
    pending: [],
    observed: null,
    ...fields,
  };
}
