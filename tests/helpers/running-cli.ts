import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './cli';
import { childEnv } from './env';

/** A long-running `elbscope` child (a `watch`), its output line by line as it comes. */
export interface RunningCli {
  child: ChildProcess;
  out: string[];
  err: string[];
  /**
   * Resolves once `test(out, err)` holds; rejects if the child exits or says `internal error` first (with what it
   * said).
   */
  until(test: (out: string[], err: string[]) => boolean): Promise<void>;
  /** Ctrl-C (then, if it lingers after a bug, SIGKILL), and its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Start the real `elbscope` executable with `args`; `ulimit` (a descriptor limit)
 * runs it under `sh -c 'ulimit -n N && exec …'`, as a user's shell would.
 */
export function startElbscope(
  args: string[],
  env: Record<string, string> = {},
  options: { ulimitFiles?: number } = {},
): RunningCli {
  const argv = [process.execPath, BIN, ...args];
  const quoted = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child =
    options.ulimitFiles === undefined
      ? spawn(argv[0] as string, argv.slice(1), { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('sh', ['-c', `ulimit -n ${options.ulimitFiles} && exec ${quoted}`], {
          env: childEnv(env),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  const out: string[] = [];
  const err: string[] = [];
  const waiters = new Set<() => void>();
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      for (const w of [...waiters]) w();
      resolve(code);
    }),
  );
  const feed = (into: string[]) => {
    let rest = '';
    return (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      into.push(...parts);
      for (const w of [...waiters]) w();
    };
  };
  child.stdout?.on('data', feed(out));
  child.stderr?.on('data', feed(err));
  return {
    child,
    out,
    err,
    until: (test) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (test(out, err)) {
            waiters.delete(check);
            resolve();
          } else if (exitCode !== undefined || err.some((l) => l.startsWith('elbscope: internal error'))) {
            // Exited, or met a bug (its process may linger on open handles): the output expected will not come.
            waiters.delete(check);
            reject(
              new Error(
                `elbscope ${exitCode === undefined ? 'met an internal error' : `exited (${exitCode})`} before the expected output:\n${out.join('\n')}\n${err.join('\n')}`,
              ),
            );
          }
        };
        waiters.add(check);
        check();
      }),
    stop: () => {
      if (exitCode === undefined) child.kill('SIGINT');
      // After an internal error the process may be held open by handles it never closed: it is over.
      if (err.some((l) => l.startsWith('elbscope: internal error'))) child.kill('SIGKILL');
      return exited;
    },
  };
}
