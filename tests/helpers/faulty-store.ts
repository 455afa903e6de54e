import type { Records } from '../../shared/ledger/records';

/** What a crash injected into the store throws: the process "died" there. */
export class InjectedCrash extends Error {
  override name = 'InjectedCrash';
}

/** The primitives that write (a conditional write that finds its condition false was still sent). */
const WRITES = ['putIfVersion', 'putIfAbsent', 'put', 'delete', 'quarantine', 'expire'] as const;

/** A store's records as the crash tests drive them: the records, the writes done so far, whether they died. */
export interface Crashable {
  records: Records;
  writes: () => number;
  crashed: () => boolean;
}

/**
 * Records that die after their Nth primitive write: the write is done (it reached
 * the disk or the table), then `die` runs — by default InjectedCrash is thrown and
 * every call after it throws too, as a process killed right after that write would
 * leave things; a child process passes a `die` that kills itself for real.
 * `crashAfter` null: never.
 */
export function faultyRecords(
  inner: Records,
  crashAfter: number | null,
  die?: (write: number, primitive: string) => void,
): Crashable {
  let writes = 0;
  let dead = false;
  const records = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (dead) throw new InjectedCrash(`the process died (after write ${crashAfter})`);
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if ((WRITES as readonly string[]).includes(prop as string)) {
          writes++;
          if (crashAfter !== null && writes === crashAfter) {
            die?.(writes, String(prop));
            dead = true;
            throw new InjectedCrash(`killed after write ${writes} (${String(prop)})`);
          }
        }
        return result;
      };
    },
  });
  return { records, writes: () => writes, crashed: () => dead };
}
