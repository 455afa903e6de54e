import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LabOptions } from '../lab/lab';
import type { LabInfo } from './cycle-vs-manual';
import { median, ms, startChild, type BenchResult } from './lib';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = `${root}bin/elbscope.js`;
const manual = fileURLToPath(new URL('./manual-cycle.sh', import.meta.url));

/** One whole process: its wall time, peak RSS and CPU (user + system, children included) from GNU time (null without). */
async function timeProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; rssMb: number | null; cpuMs: number | null }> {
  const gnuTime = existsSync('/usr/bin/time');
  const argv = gnuTime ? ['-f', '%M %U %S', command, ...args] : args;
  const t = performance.now();
  const { stderr } = await run(gnuTime ? '/usr/bin/time' : command, argv, { env, cwd: root, maxBuffer: 64 * 2 ** 20 });
  const wall = performance.now() - t;
  const [kb, user, sys] = gnuTime ? (stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number) : [];
  return {
    ms: wall,
    rssMb: Number.isFinite(kb) ? (kb as number) / 1024 : null,
    cpuMs: Number.isFinite(user) && Number.isFinite(sys) ? ((user as number) + (sys as number)) * 1000 : null,
  };
}

/** Run each command of a set once per round, in turn, `rounds` times (paired: load changes hit all alike). */
async function paired(
  commands: Record<string, () => Promise<{ ms: number; rssMb: number | null; cpuMs: number | null }>>,
  rounds: number,
) {
  const times: Record<string, number[]> = {};
  const rss: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (const name of Object.keys(commands)) await commands[name]?.(); // warm the file cache once
  for (let i = 0; i < rounds; i++) {
    for (const [name, fn] of Object.entries(commands)) {
      const r = await fn();
      (times[name] ??= []).push(r.ms);
      if (r.rssMb !== null) (rss[name] ??= []).push(r.rssMb);
      if (r.cpuMs !== null) (cpu[name] ??= []).push(r.cpuMs);
    }
  }
  const result: Record<string, { ms: number; rssMb: number | null; cpuMs: number | null }> = {};
  for (const name of Object.keys(commands))
    result[name] = {
      ms: median(times[name] ?? []),
      rssMb: rss[name] ? Math.max(...rss[name]) : null,
      cpuMs: cpu[name] ? median(cpu[name]) : null,
    };
  return result;
}

/**
 * Benchmark 7: the CLI as a user runs it, as whole processes, beside the field
 * notes' manual method: `elbscope observe NAME --backend URL...` (nodes, AZs, R per
 * backend in one process) against `dig`, `dig -x` per node and `curl` per status
 * page, on the same lab (3 AZs × 2 nodes, 6 backends, in its own process); and
 * `elbscope --help` against a bare `node -e 0`.
 */
export async function oneShot(rounds = 15): Promise<BenchResult> {
  const options: LabOptions = {
    name: 'oneshot',
    region: 'us-east-1',
    nodesPerAz: { 'us-east-1a': 2, 'us-east-1b': 2, 'us-east-1c': 2 },
    backends: Array.from({ length: 6 }, (_, i) => ({ name: `b${i + 1}`, slots: 64 })),
    idleTimeoutMs: 60_000,
    trafficWindowMs: 60_000,
  };
  const { info: lab, stop } = await startChild<LabInfo>('./lab-process.ts', [JSON.stringify(options)]);
  try {
    const env = {
      ...process.env,
      AWS_ENDPOINT_URL_EC2: lab.ec2Url,
      // Anything else the SDK might call goes to a closed loopback port, never to AWS.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_REGION: 'us-east-1',
    };
    const urls = lab.backends.map((b) => `http://127.0.0.1:${b.statusPort}/server-status`);
    const [host, port] = lab.dnsServer.split(':') as [string, string];
    const observeArgs = [
      'observe',
      lab.dnsName,
      '--dns-server',
      lab.dnsServer,
      '--allow-loopback-nodes',
      ...urls.flatMap((u) => ['--backend', u]),
      '--accept-filter-none',
      '--json',
    ];
    // Check once that the command really observes (a fast failure would be a fake win).
    const { stdout } = await run(process.execPath, [bin, ...observeArgs], { env, cwd: root });
    const seen = JSON.parse(stdout) as { nodes: { state: string }[]; backends: { reading: number | null }[] };
    const inService = seen.nodes.filter((n) => n.state === 'in-service').length;
    const read = seen.backends.filter((b) => b.reading !== null).length;

    const m = await paired(
      {
        manual: () => timeProcess('bash', [manual, host, port, lab.dnsName, ...urls], env),
        observe: () => timeProcess(process.execPath, [bin, ...observeArgs], env),
        nodeBare: () => timeProcess(process.execPath, ['-e', '0'], env),
        help: () => timeProcess(process.execPath, [bin, '--help'], env),
      },
      rounds,
    );
    // The slow ways, fewer times: what users paid before the bundle (tsx) and what npx adds.
    const slow = await paired(
      {
        npx: () => timeProcess('npx', ['--no-install', 'elbscope', ...observeArgs], env),
        tsx: () =>
          timeProcess(
            process.execPath,
            [`${root}node_modules/tsx/dist/cli.mjs`, `${root}cli/main.ts`, ...observeArgs],
            env,
          ),
      },
      5,
    );
    const get = (r: Record<string, { ms: number; rssMb: number | null; cpuMs: number | null }>, k: string) =>
      r[k] as { ms: number; rssMb: number | null; cpuMs: number | null };
    const cpu = (k: string) => get(m, k).cpuMs;
    const cpuText = (v: number | null) => (v === null ? 'n/a (no /usr/bin/time)' : ms(v));
    const speedup = get(m, 'manual').ms / get(m, 'observe').ms;
    const helpRatio = get(m, 'help').ms / get(m, 'nodeBare').ms;
    const rss = get(m, 'observe').rssMb;
    const mb = (v: number | null) => (v === null ? 'n/a (no /usr/bin/time)' : `${v.toFixed(0)} MiB`);
    return {
      title: `7. One command vs the manual method, as whole processes (3 AZs × 2 nodes, 6 backends; paired, median of ${rounds})`,
      rows: [
        ['manual script: dig, dig -x per node, curl ?auto per backend', ms(get(m, 'manual').ms)],
        [
          'node bin/elbscope.js observe NAME --backend URL ×6 --json',
          `${ms(get(m, 'observe').ms)}, peak RSS ${mb(rss)}`,
        ],
        ['speed-up over the manual script', `${speedup.toFixed(2)}×`],
        ['node -e 0 (node alone)', ms(get(m, 'nodeBare').ms)],
        [
          'elbscope --help',
          `${ms(get(m, 'help').ms)} (${helpRatio.toFixed(2)}× node alone), peak RSS ${mb(get(m, 'help').rssMb)}`,
        ],
        ['the same observe through npx (median of 5)', ms(get(slow, 'npx').ms)],
        [
          'the same observe from source through tsx, as before the bundle (median of 5)',
          `${ms(get(slow, 'tsx').ms)}, peak RSS ${mb(get(slow, 'tsx').rssMb)}`,
        ],
        ['what it observed', `${inService} nodes in service, ${read} of ${urls.length} backends read`],
        // Where a one-shot's time goes, measured in this run (medians): node's own start, then loading the CLI, then
        // observe's own modules and the observation; and the CPU each side spends (less moved by load than wall time).
        [
          'where the time goes (wall, medians)',
          `node's start ${ms(get(m, 'nodeBare').ms)}; the CLI's load +${ms(get(m, 'help').ms - get(m, 'nodeBare').ms)}; observe's modules and the observation +${ms(get(m, 'observe').ms - get(m, 'help').ms)}`,
        ],
        [
          'CPU, user + system (medians)',
          `manual script ${cpuText(cpu('manual'))} (13 processes); observe ${cpuText(cpu('observe'))}; node alone ${cpuText(cpu('nodeBare'))}`,
        ],
      ],
      checks: [
        {
          target: `observe --backend ≥ 1.2× faster than the manual script (${speedup.toFixed(2)}×)`,
          ok: speedup >= 1.2,
        },
        { target: `aim: 1.5× faster than the manual script (${speedup.toFixed(2)}×)`, ok: speedup >= 1.5 },
        { target: `--help within 2× of node alone (${helpRatio.toFixed(2)}×)`, ok: helpRatio <= 2 },
        { target: `observe peak RSS under 90 MiB (${mb(rss)})`, ok: rss !== null && rss < 90 },
        {
          target: `it observed everything (${inService}/6 nodes, ${read}/6 backends)`,
          ok: inService === 6 && read === 6,
        },
      ],
      notes: [
        'elbscope does more than the script: it also asks all.<name>, calls EC2 DescribeNetworkInterfaces (the lab endpoint) to place nodes in AZs, and reads the HTML status page for R per client; the script reads ?auto only',
        `the floor: node's own start is ${((get(m, 'nodeBare').ms / get(m, 'observe').ms) * 100).toFixed(0)} % of observe's wall time here; a profile (docs/performance.md, bench 7) puts the rest in compiling and evaluating ~410 KiB of modules (commander, the zod schema, the SDK's schemas) and the SDK's first call; a V8 startup snapshot would need a node flag, so a second process`,
        'npx adds its own start-up (resolving the package, a second node process); run node_modules/.bin/elbscope or an `npm i -g` install to avoid it (docs/cli.md)',
      ],
    };
  } finally {
    await stop();
  }
}
