import type { BackendAuthLookup } from '../backends/auth-policy';
import { loadBalancerKey } from '../config/identity';
import type { Config } from '../config/schema';
import type { ChainedEvent } from '../detect/state';
import type { FlushResult } from '../ledger/flush';
import { recordTls } from './record';
import type { RunDeps } from './run';
import { type BackendTls, probeConfiguredTls, type TlsRoundError, tlsRoundErrors } from './tls-round';

// The TLS round of the cycle runner (run.ts), in a module of its own so the tls-probe function loads no EC2 client.

/** What one TLS round did, for its caller to log, print or return. */
export interface TlsRun {
  at: string;
  /** One result per backend with a TLS target, each carrying its load balancer's DNS name. */
  results: BackendTls[];
  /** The round's observation errors (a back-end authentication policy not read), one per load balancer. */
  errors: TlsRoundError[];
  /** The events committed this round. */
  events: ChainedEvent[];
  /** What the outbox flush delivered; null when recording stopped before it. */
  flushed: FlushResult | null;
  /** What stopped recording or flushing: the caller's to judge (see CycleRun.unrecorded). Absent when all was. */
  unrecorded?: unknown;
}

/**
 * One TLS round, the same for the tls-probe function and `watch`: a handshake per configured TLS target (and a
 * possibly-Classic load balancer's back-end authentication policies through `authFor`) → metrics → sample, decide,
 * commit (recordTls, through the ledger) → flush the outbox → delivery metrics. Returns what happened.
 */
export async function runTlsRound(
  config: Config,
  at: string,
  deps: { now: () => Date; backendAuthFor?: ((region: string, roleArn?: string) => BackendAuthLookup) | null },
  run: RunDeps,
): Promise<TlsRun> {
  const results = await probeConfiguredTls(config, deps.now, deps.backendAuthFor);
  const errors = tlsRoundErrors(results);
  // Results carry the DNS name; metrics are labelled by the load balancer's key, matched by that name.
  run.metrics?.tls(results, (dnsName) =>
    loadBalancerKey(config.loadBalancers.find((lb) => lb.dnsName === dnsName) ?? { dnsName }),
  );
  let flushed: FlushResult | null = null;
  try {
    const events = await recordTls(config, results, at, {
      ...run.record,
      onFlush: (result) => {
        flushed = result;
        run.metrics?.delivery(result);
      },
    });
    return { at, results, errors, events, flushed };
  } catch (err) {
    return { at, results, errors, events: [], flushed, unrecorded: err };
  }
}
