import type { Clock, ClockTimer } from '../shared/clock';

interface Pending {
  due: number;
  seq: number;
  fn: () => unknown;
  every: number | null;
  cancelled: boolean;
}

/**
 * A clock whose time moves only when the driving loop sleeps. `sleep(ms)` runs
 * every timer due within the next `ms`, in time order, and after each one waits
 * for the lab to be quiet (`settle`): connections it opened are open, requests it
 * sent are answered. So what the monitor sees at a cycle depends on the scenario
 * and the order of events, never on how busy the machine is.
 */
export class SteppedClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly pending: Pending[] = [];
  /** Waits until the lab has finished what the last timer started. */
  settle: () => Promise<void> = async () => undefined;

  constructor(start = Date.now()) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => unknown, ms: number): ClockTimer {
    return this.add(fn, ms, null);
  }

  setInterval(fn: () => unknown, ms: number): ClockTimer {
    return this.add(fn, ms, Math.max(1, ms));
  }

  delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    const target = this.time + Math.max(0, ms);
    await this.settle();
    for (;;) {
      if (signal.aborted) return;
      const next = this.nextDue(target);
      if (!next) break;
      this.time = Math.max(this.time, next.due);
      if (next.every !== null) {
        next.due += next.every;
        next.seq = this.seq++;
      } else this.remove(next);
      await next.fn();
      await this.settle();
    }
    this.time = target;
  }

  private add(fn: () => unknown, ms: number, every: number | null): ClockTimer {
    const p: Pending = { due: this.time + Math.max(0, ms), seq: this.seq++, fn, every, cancelled: false };
    this.pending.push(p);
    return {
      cancel: () => {
        p.cancelled = true;
        this.remove(p);
      },
    };
  }

  private nextDue(limit: number): Pending | null {
    let best: Pending | null = null;
    for (const p of this.pending)
      if (!p.cancelled && p.due <= limit && (!best || p.due < best.due || (p.due === best.due && p.seq < best.seq)))
        best = p;
    return best;
  }

  private remove(p: Pending): void {
    const i = this.pending.indexOf(p);
    if (i >= 0) this.pending.splice(i, 1);
  }
}
