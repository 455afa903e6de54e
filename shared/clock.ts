/**
 * Time as the watch loop and the lab see it. The wall clock in production; the
 * lab's stepped clock (lab/stepped-clock.ts) in tests and `start --stepped`, where
 * time moves only when the loop waits, so a busy machine slows a run down but
 * cannot change what it observes.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Run `fn` once `ms` of this clock's time has passed. */
  setTimeout(fn: () => unknown, ms: number): ClockTimer;
  /** Run `fn` every `ms` of this clock's time until cancelled. */
  setInterval(fn: () => unknown, ms: number): ClockTimer;
  /** A promise that resolves after `ms` of this clock's time (for code that waits, not the loop that drives). */
  delay(ms: number): Promise<void>;
  /**
   * The driving loop's wait between cycles: real sleeping on the wall clock; on a
   * stepped clock, moving time forward by `ms` and running everything due. Ends
   * early when `signal` aborts.
   */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** A timer of a Clock; `cancel` is idempotent. */
export interface ClockTimer {
  cancel(): void;
}

/** The real clock. */
export const wallClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    return { cancel: () => clearInterval(t) };
  },
  delay: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    });
  },
};
