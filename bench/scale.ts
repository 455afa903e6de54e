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
 * Benchmark 3: 500 load balancers (3 AZs × 2 nodes) and 3,000 backends in one
 * cycle, the lab in one process and the monitor in another: wall time and the
 * monitor's peak RSS, with bounded concurrency per kind of call and per host.
 */
export async function scale(lbs = 500, backendsPerLb = 6, heapMb = 64, parallel = 16): Promise<BenchResult> {
  const lab = await startChild<{ dnsServer: string; dnsImpl: string; ec2Url: string; ports: number[] }>('./scale-lab.ts', [`${lbs},${backendsPerLb},50`]);
  try {
    const { dnsServer, ec2Url, ports } = lab.info;
    const config = (n: number) => ({
      loadBalancers: Array.from({ length: n }, (_, i) => ({
        dnsName: `scale${i}-1.us-east-1.elb.amazonaws.com`,
        backends: Array.from({ length: backendsPerLb }, (_, b) => ({ name: `b${b}`, statusUrl: `http://127.0.0.1:${ports[(i * backendsPerLb + b) % ports.length]}/lb${i}/b${b}/server-status`, acceptFilterNone: true })),
      })),
      dns: { servers: [dnsServer], timeoutMs: 2000, tries: 2, concurrency: parallel },
      concurrency: parallel,
      backendProbe: { concurrency: parallel, perHost: 4 },
    });
    // The monitor as it ships: bundled by esbuild, run by plain node (no TypeScript loader in its memory).
    const bundle = join(tmpdir(), `elbscope-scale-monitor-${process.pid}.mjs`);
    await build({ entryPoints: [fileURLToPath(new URL('./scale-monitor.ts', import.meta.url))], bundle: true, platform: 'node', target: 'node20', format: 'esm', mainFields: ['module', 'main'], minify: true, plugins, outfile: bundle, banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" }, logLevel: 'silent' });
    const monitor = async (n: number) => {
      const file = join(mkdtempSync(join(tmpdir(), 'elbscope-scale-')), 'config.json');
      writeFileSync(file, JSON.stringify(config(n)));
      // Heap bounded as the Lambda runtime bounds it for a small function (it sizes V8 from the memory setting).
      const child = await startChild<{ cycles: number[]; peakRssMb: number; errors: number; nodes: number; backends: number }>(bundle, [file, ec2Url], false, [`--max-old-space-size=${heapMb}`, '--max-semi-space-size=4']);
      await child.stop();
      return child.info;
    };
    // The same process with one load balancer: what the runtime, the code and the SDK take before the work.
    const baseline = await monitor(1);
    const r = await monitor(lbs);
    const [cold, ...warm] = r.cycles;
    const wall = Math.min(...warm);
    return {
      title: `3. Scale: ${lbs} load balancers, ${lbs * backendsPerLb} backends in one cycle (lab in another process)`,
      rows: [
        ['first cycle (cold: connections, SDK set-up)', ms(cold as number)],
        ['cycle (best of the next 2)', ms(wall)],
        ['monitor peak RSS', `${r.peakRssMb.toFixed(0)} MB (V8 heap capped at ${heapMb} MB, semi-space 4 MB)`],
        ['same monitor, one load balancer: peak RSS', `${baseline.peakRssMb.toFixed(0)} MB`],
        ['nodes placed in AZs / backends read / errors', `${r.nodes} / ${r.backends} / ${r.errors}`],
        ['lab DNS server', lab.info.dnsImpl],
        ['bounds', `DNS ${parallel} in flight; ${parallel} load balancers at once; status pages ${parallel} at once, 4 per host; EC2: one paginated call per 200 ENI descriptions in the region`],
      ],
      notes: [
        'the monitor is bundled as the functions are (deploy/esbuild-plugins.cjs): before that plugin, the EC2 client kept every schema of its API and the same run peaked at ~150 MB',
        `the V8 heap is capped at ${heapMb} MB, as Lambda sizes it for a small function, to show the cycle's working set fits in it; uncapped, V8 grows its heap lazily and RSS says more about the limit than the work`,
      ],
      checks: [
        { target: `wall time < 3 s (${ms(wall)})`, ok: wall < 3000 },
        { target: `peak RSS < 150 MB (${r.peakRssMb.toFixed(0)} MB)`, ok: r.peakRssMb < 150 },
        { target: `every node and backend observed (${r.errors} errors)`, ok: r.errors === 0 && r.nodes === lbs * 6 && r.backends === lbs * backendsPerLb },
      ],
    };
  } finally {
    await lab.stop();
  }
}
