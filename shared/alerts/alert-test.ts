import { randomUUID } from 'node:crypto';
import { GENESIS_HASH, type ChainedEvent } from '../detect/state';
import { classifyDeliveryError } from './delivery';
import type { AlertSink } from './sinks';

/**
 * The test alert `elbscope alert-test` (and the observe function's
 * `{"alertTest": true}`) sends: kind `alert-test`, never decided by the rules,
 * never stored or chained; its id is unique per send so a FIFO topic does not
 * swallow a second test within 5 minutes.
 */
export function alertTestEvent(at: Date, origin: string): ChainedEvent {
  const when = at.toISOString();
  const id = randomUUID().replaceAll('-', '').slice(0, 24);
  return {
    id,
    kind: 'alert-test',
    status: 'event',
    severity: 'info',
    loadBalancer: 'elbscope',
    az: null,
    backend: null,
    from: null,
    to: null,
    at: when,
    fingerprint: 'elbscope|-|alert-test',
    summary: `alert test from ${origin} at ${when}`,
    details: { origin },
    seq: 0,
    prevHash: GENESIS_HASH,
    hash: GENESIS_HASH,
  };
}

/** What one sink did with the test alert. */
export interface SinkTestResult {
  sink: string;
  accepted: boolean;
  messageId: string | null;
  /** The refusal or failure, one line; null when accepted. */
  error: string | null;
  /** Whether the failure is one no retry fixes (a refused request, a missing topic, denied access). */
  permanent: boolean | null;
}

/** Send `event` through each sink on its own, so one sink's failure does not hide another's answer. */
export async function sendToEachSink(sinks: AlertSink[], event: ChainedEvent): Promise<SinkTestResult[]> {
  const results: SinkTestResult[] = [];
  for (const sink of sinks) {
    try {
      const { messageId } = await sink.publish(event);
      results.push({ sink: sink.description, accepted: true, messageId, error: null, permanent: null });
    } catch (err) {
      const failure = classifyDeliveryError(err, sink.description);
      results.push({
        sink: sink.description,
        accepted: false,
        messageId: null,
        error: failure.reason,
        permanent: failure.permanent,
      });
    }
  }
  return results;
}
