import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build, type Plugin } from 'esbuild';
import { ms, startChild, type BenchResult } from './lib';

// The functions' own esbuild plugins (see serverless.yml), so the monitor is built as it ships.
const plugins = createRequire(import.meta.url)('../deploy/esbuild-plugins.cjs') as Plugin[];

/**
 * V8 heap limits the Lambda Node.js runtime sets for a 256 MB function. Its
 * bootstrap (the runtime's, not documented by AWS) gives new space a tenth of the
 * memory and old space the rest: --max-semi-space-size=12 --max-old-space-size=231.
 */
export const LAMBDA_256_HEAP = {
  oldMb: 231,
  semiMb: 12,
  label: 'as Lambda sizes a 256 MB function (old space 231 MB, semi-space 12 MB)',
};
/** The stricter bound the earlier benchmark used: a 64 MB old space. */
export const SMALL_HEAP = { oldMb: 64, semiMb: 4, label: 'capped at 64 MB (semi-space 4 MB)' };

interface MonitorRun {
  cycles: { wallMs: number; cpuMs: number }[];
  peakRssMb: number;
  errors: number;
  nodes: number;
  backends: number;
}

/**
 * Benchmark 3: the scale curve. 100, 500, 1,000 and 2,000 load balancers (3 AZs ×
 * 2 nodes, 6 backends each) in one cycle, the lab in one process and the monitor
 * in another, bundled as it ships: wall time, the monitor's CPU per load balancer
 * (flat means linear), and its peak RSS. Then 500 again with a 64 MB heap.
 */
export async function scale(sizes = [100, 500, 1000, 2000], backendsPerLb = 6, parallel = 16): Promise<BenchResult> {
  const most = Math.max(...sizes);
  const lab = await startChild<{ dnsServer: string; dnsImpl: string; ec2Url: string; ports: number[] }>(
    './scale-lab.ts',
    [`${most},${backendsPerLb},50`],
  );
  try {
    const { dnsServer, ec2Url, ports } = lab.info;
    const config = (n: number, backendsPerLb: number) => ({
      loadBalancers: Array.from({ length: n }, (_, i) => ({
        dnsName: `scale${i}-1.us-east-1.elb.amazonaws.com`,
        backends: Array.from({ length: backendsPerLb }, (_, b) => ({
          name: `b${b}`,
          statusUrl: `http://127.0.0.1:${ports[(i * backendsPerLb + b) % ports.length]}/lb${i}/b${b}/server-status`,
          acceptFilterNone: true,
        })),
      })),
      dns: { servers: [dnsServer], timeoutMs: 2000, tries: 2, concurrency: parallel, allowLoopbackNodes: true },
      concurrency: parallel,
      backendProbe: { concurrency: parallel, perHost: 4 },
    });
    // The monitor as it ships: bundled by esbuild, run by plain node (no TypeScript loader in its memory).
    const bundle = join(tmpdir(), `elbscope-scale-monitor-${process.pid}.mjs`);
    await build({
      entryPoints: [fileURLToPath(new URL('./scale-monitor.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      mainFields: ['module', 'main'],
      minify: true,
      plugins,
      outfile: bundle,
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      logLevel: 'silent',
    });
    const monitor = async (
      n: number,
      heap: { oldMb: number; semiMb: number },
      backends = backendsPerLb,
    ): Promise<MonitorRun | Error> => {
      const file = join(mkdtempSync(join(tmpdir(), 'elbscope-scale-')), 'config.json');
      writeFileSync(file, JSON.stringify(config(n, backends)));
      try {
        const child = await startChild<MonitorRun>(bundle, [file, ec2Url], false, [
          `--max-old-space-size=${heap.oldMb}`,
          `--max-semi-space-size=${heap.semiMb}`,
        ]);
        await child.stop();
        return child.info;
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err)); // out of memory: the child exits before it prints
      }
    };
    // The median of the last three cycles (the first ones pay for connections, SDK set-up and the JIT).
    const best = (r: MonitorRun) => {
      const last = r.cycles.slice(-3);
      const mid = (pick: (c: MonitorRun['cycles'][number]) => number) =>
        [...last].map(pick).sort((a, b) => a - b)[1] as number;
      return { wallMs: mid((c) => c.wallMs), cpuMs: mid((c) => c.cpuMs) };
    };
    const rows: [string, string][] = [];
    const checks: BenchResult['checks'] = [];
    const perLb: number[] = [];
    const perLbAt = new Map<number, number>();
    for (const n of sizes) {
      const r = await monitor(n, LAMBDA_256_HEAP);
      if (r instanceof Error) {
        rows.push([`${n} load balancers`, `failed: ${r.message}`]);
        checks.push({ target: `${n} load balancers complete`, ok: false });
        continue;
      }
      const b = best(r);
      perLb.push(b.cpuMs / n);
      perLbAt.set(n, b.cpuMs / n);
      rows.push([
        `${n} load balancers (${n * 6} nodes, ${n * backendsPerLb} backends)`,
        `wall ${ms(b.wallMs)} (first cycle ${ms(r.cycles[0]?.wallMs ?? 0)}); monitor CPU ${ms(b.cpuMs)} = ${(b.cpuMs / n).toFixed(2)} ms per load balancer; peak RSS ${r.peakRssMb.toFixed(0)} MB; errors ${r.errors}`,
      ]);
      checks.push({
        target: `${n}: every node and backend observed (${r.nodes}/${n * 6} nodes, ${r.backends}/${n * backendsPerLb} backends, ${r.errors} errors)`,
        ok: r.errors === 0 && r.nodes === n * 6 && r.backends === n * backendsPerLb,
      });
    }
    // Where the CPU goes: the same 500 without their backends (nodes: DNS, PTR, EC2 only).
    const bare = await monitor(500, LAMBDA_256_HEAP, 0);
    rows.push([
      '500 load balancers, nodes only (no backends)',
      bare instanceof Error
        ? `failed: ${bare.message}`
        : `monitor CPU ${ms(best(bare).cpuMs)} = ${(best(bare).cpuMs / 500).toFixed(2)} ms per load balancer`,
    ]);
    const small = await monitor(500, SMALL_HEAP);
    rows.push([
      '500 load balancers, heap capped at 64 MB',
      small instanceof Error
        ? `failed: ${small.message}`
        : `wall ${ms(best(small).wallMs)}; peak RSS ${small.peakRssMb.toFixed(0)} MB; errors ${small.errors}`,
    ]);
    rows.push(['lab DNS server', lab.info.dnsImpl]);
    rows.push([
      'bounds',
      `DNS ${parallel} in flight; ${parallel} load balancers resolving at once; status pages ${parallel} at once, 4 per host; EC2: a paginated call per 199 ENI descriptions, 4 at once`,
    ]);
    // Linear means the CPU per load balancer does not grow with the count: each size's
    // is at most 1.25× the lowest of the smaller sizes (fixed costs make small sizes dearer, never cheaper).
    const growth = perLb.map((v, i) => (i === 0 ? 1 : v / Math.min(...perLb.slice(0, i))));
    const spread = Math.max(...growth);
    // The target is set at 500 and 2,000 load balancers (issue 26): at 100 a cycle's fixed costs (the EC2 call, the
    // bounds filling up) are spread over fewer, which the table shows beside them.
    const atTarget = [500, 2000].flatMap((n) => perLbAt.get(n) ?? []);
    const worst = Math.max(...atTarget);
    checks.push(
      {
        target: `no superlinear part: CPU per load balancer never above 1.25× a smaller size's (worst ${spread.toFixed(2)}×; ${perLb.map((v) => v.toFixed(2)).join(', ')} ms)`,
        ok: spread <= 1.25,
      },
      {
        target: `≤ 3 ms CPU per load balancer at 500 and 2,000 (worst ${worst.toFixed(2)} ms)`,
        ok: atTarget.length > 0 && worst <= 3,
      },
      {
        target: `500 load balancers complete with a 64 MB heap (${small instanceof Error ? 'failed' : 'completed'})`,
        ok: !(small instanceof Error) && small.errors === 0,
      },
    );
    return {
      title: `3. Scale curve: ${sizes.join(' / ')} load balancers in one cycle (lab in another process, monitor heap ${LAMBDA_256_HEAP.label})`,
      rows,
      checks,
      notes: [
        'each load balancer has 6 nodes (8 DNS queries with all. and PTR, its share of the EC2 answer, which the SDK parses) and 6 status pages, each a new TCP connection (Connection: close, so elbscope never shows as K itself) and an HTML parse: the "nodes only" row shows how the CPU splits',
        'the monitor is bundled as the functions are (deploy/esbuild-plugins.cjs) and runs one process per size; CPU is the monitor process only (user + system), not the lab',
        'on a loaded machine the wall times stretch; the CPU per load balancer is the claim',
        "where a warm cycle's CPU goes (a --cpu-prof profile at 500, docs/performance.md bench 3): ~30 % kernel work for loopback connects, writes and DNS datagrams (on loopback the lab's side of each handshake is charged to the monitor's system calls, which a real network would not do), ~13 % GC, ~12 % node's HTTP client, ~7 % the HTML parse, ~5 % the EC2 XML answer: the floor is the per-page connection, kept on purpose (a new connection per page, closed after it, so elbscope never holds an Apache worker)",
        'the same code measured 1.9–3.0 ms at 2,000 between runs on this machine: the 3 ms target holds on a quiet machine and is missed on a loaded one',
      ],
    };
  } finally {
    await lab.stop();
  }
}
