import { setTimeout as sleep } from 'node:timers/promises';
import type { ChainedEvent } from '../detect/state';
import type { AlertSink } from './sinks';

/**
 * How long one sink call may take before it counts as a failure of that sink. SNS's
 * own deadlines (3 s to connect, 10 s per attempt: shared/aws/deadlines.ts) end a
 * hanging Publish sooner; this bounds a sink without deadlines of its own (a file on
 * a hung mount, any later sink), so it never holds the others for longer.
 */
const SINK_DEADLINE_MS = 30_000;

/**
 * Waits out a call's deadline: resolves once `ms` have passed. Ends early (either
 * way) when `signal` aborts: the call settled first. Tests inject their own.
 */
type DeadlineTimer = (ms: number, signal: AbortSignal) => Promise<void>;

/** A sink call's deadline, and what waits it out (default: SINK_DEADLINE_MS on the process's timers). */
export interface SinkCallOptions {
  deadlineMs?: number;
  timer?: DeadlineTimer;
}

/**
 * A sink call that did not settle by its deadline: a transient failure of that sink (the call may still complete
 * later).
 */
class SinkTimeoutError extends Error {
  override name = 'SinkTimeout';
}

/** A sink not called because its earlier call has not settled (it hangs): a transient failure of that sink. */
export class SinkBusyError extends Error {
  override name = 'SinkBusy';
}

/**
 * Whether a sink failure says it hangs (past its deadline, or still busy with an earlier call): not to be called again
 * in this flush.
 */
export function isHang(err: unknown): boolean {
  return err instanceof SinkTimeoutError || err instanceof SinkBusyError;
}

/** The most accepted-after-the-deadline results a sink keeps for the outbox to collect. */
const MAX_LATE = 1_000;

const wallTimer: DeadlineTimer = (ms, signal) => sleep(ms, undefined, { signal, ref: false }).catch(() => undefined);
const guarded = new WeakSet<AlertSink>();
const guardOf = new WeakMap<AlertSink, AlertSink>();

/**
 * `sink` with a deadline on each call. A call past it is abandoned (aborted, for a
 * sink that can stop) and fails with SinkTimeoutError; until it settles, the sink is
 * not called again (SinkBusyError): a hung sink holds one call, never one per event
 * or per cycle (a blocked file operation holds one of libuv's four threads). If the
 * abandoned call is accepted after all, the next call for that event returns its
 * result instead of delivering it again.
 */
export function guardedSink(sink: AlertSink, options: SinkCallOptions = {}): AlertSink {
  if (guarded.has(sink)) return sink;
  const deadlineMs = options.deadlineMs ?? SINK_DEADLINE_MS;
  const timer = options.timer ?? wallTimer;
  const late = new Map<string, { messageId: string | null }>();
  let hanging: { eventId: string } | null = null;
  const guard: AlertSink = {
    description: sink.description,
    async publish(event: ChainedEvent) {
      const accepted = late.get(event.id);
      if (accepted) {
        late.delete(event.id);
        return accepted;
      }
      if (hanging)
        throw new SinkBusyError(
          `not called: its call for event ${hanging.eventId} has not settled since its ${seconds(deadlineMs)} deadline passed`,
        );
      const abort = new AbortController();
      const settled = new AbortController();
      const call = sink.publish(event, { signal: abort.signal });
      const expired: { messageId: string | null } = { messageId: null }; // a sentinel, compared by identity
      let first: { messageId: string | null };
      try {
        first = await Promise.race([call, timer(deadlineMs, settled.signal).then(() => expired)]);
      } finally {
        settled.abort();
      }
      if (first !== expired) return first;
      const held = { eventId: event.id };
      hanging = held;
      abort.abort(new SinkTimeoutError(`no answer within ${seconds(deadlineMs)}`));
      call
        .then(
          (result) => {
            if (late.size >= MAX_LATE) late.delete(late.keys().next().value as string);
            late.set(event.id, result);
          },
          () => undefined,
        )
        .finally(() => {
          if (hanging === held) hanging = null;
        });
      throw new SinkTimeoutError(`no answer within ${seconds(deadlineMs)}; the call was abandoned`);
    },
  };
  guarded.add(guard);
  return guard;
}

/**
 * The sinks the outbox delivers to, each on its own and guarded: a combined sink's
 * members, or the sink itself (its guard kept for the sink's life, so a call that
 * hangs is remembered from one flush to the next).
 */
export function deliveryMembers(sink: AlertSink): readonly AlertSink[] {
  if (sink.members) return sink.members.map((m) => memberGuard(m));
  return [memberGuard(sink)];
}

function memberGuard(sink: AlertSink): AlertSink {
  if (guarded.has(sink)) return sink;
  let guard = guardOf.get(sink);
  if (!guard) guardOf.set(sink, (guard = guardedSink(sink)));
  return guard;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
