import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Run `fn` `warmup` times untimed, then `runs` times; the median wall time in milliseconds. */
export async function timeMedian(fn: () => Promise<unknown>, runs: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

export const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`;

/** One benchmark's outcome: a table of measurements and its verdicts against targets. */
export interface BenchResult {
  title: string;
  rows: [string, string][];
  checks: { target: string; ok: boolean }[];
  notes?: string[];
}

/** The 1-minute load average over the cores: "0.4 on 2 cores (idle)". */
export function loadNow(): string {
  const load = loadavg()[0] as number;
  const cores = availableParallelism();
  return `${load.toFixed(2)} on ${cores} cores (${load < cores * 0.25 ? 'idle' : load < cores ? 'partly busy' : 'busy'})`;
}

/** What machine and versions the numbers come from. */
export function machine(): string[] {
  const version = (cmd: string, args: string[]) => {
    try {
      return (
        execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
          .split('\n')[0]
          ?.trim() ?? ''
      );
    } catch {
      return 'not installed';
    }
  };
  return [
    `date: ${new Date().toISOString()}`,
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
    `load at start: ${loadNow()}`,
    `node: ${process.version}`,
    `dig: ${version('dig', ['-v']) || version('sh', ['-c', 'dig -v 2>&1'])}`,
    `curl: ${version('curl', ['--version'])}`,
    `apache2: ${version('apache2', ['-v'])}`,
    `prometheus-apache-exporter: ${version('sh', ['-c', 'prometheus-apache-exporter --version 2>&1'])}`,
  ];
}

export function renderResult(r: BenchResult): string {
  const lines = [
    `## ${r.title}`,
    '',
    '| measure | value |',
    '|---|---|',
    ...r.rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
  ];
  for (const c of r.checks) lines.push(`- ${c.ok ? 'met' : 'MISSED'}: ${c.target}`);
  for (const n of r.notes ?? []) lines.push(`- note: ${n}`);
  return `${lines.join('\n')}\n`;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Start a script (TypeScript under tsx, or a plain JS file) in a child process and read the first JSON line it prints.
 */
export async function startChild<T>(
  script: string,
  args: string[],
  typescript = true,
  nodeFlags: string[] = [],
): Promise<{ info: T; child: ChildProcess; stop: () => Promise<void> }> {
  const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
  const argv = [
    ...nodeFlags,
    ...(typescript ? [tsx, fileURLToPath(new URL(script, import.meta.url))] : [script]),
    ...args,
  ];
  const child = spawn(process.execPath, argv, {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const info = await new Promise<T>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as T);
    });
    child.once('exit', (code) =>
      code === 0 ? undefined : reject(new Error(`${script} exited ${code} before it was ready`)),
    );
  });
  return {
    info,
    child,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin?.end();
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
