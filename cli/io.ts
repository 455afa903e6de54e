import { printable } from '../shared/errors';

/** Where a command writes, and what it reads from the environment; tests pass their own. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

/**
 * Exit codes shared by every command: 0 done; 1 a load balancer could not be
 * observed, or the environment refused (a full disk, a missing table, a refused
 * endpoint: `environment`, one line naming it); 2 bad usage or configuration.
 * 70 (set in main.ts) is for bugs alone.
 */
export const EXIT = { ok: 0, notObserved: 1, environment: 1, usage: 2 } as const;

/**
 * `io` for a command whose every write is one line (`verify`, `redeliver`): each is
 * escaped whole (printable), so a name read from a store or an answer carrying a
 * newline, a control or a bidi character never makes a second line or reorders one.
 */
export function lineIo(io: CliIo): CliIo {
  return { ...io, out: (text) => io.out(printable(text)), err: (text) => io.err(printable(text)) };
}
