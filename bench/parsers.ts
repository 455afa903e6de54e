import { performance } from 'node:perf_hooks';
import { parseApacheHtml } from '../shared/backends/apache-html';
import { parseApacheAuto } from '../shared/backends/apache-status';
import { parseNginxStatus } from '../shared/backends/nginx-status';
import { median, ms, type BenchResult } from './lib';

/**
 * Benchmark 6: status-page parse time against input size for the adversarial
 * shapes that made the old parsers hang (issue 16), at 64 KiB to 1 MiB (the fetch
 * cap). Linear means the time per MiB stays about the same as the input grows;
 * the check allows 4× between the smallest and largest size (a quadratic parser
 * grows 16× from 64 KiB to 1 MiB per byte, a cubic one far more). CPU time on
 * a loaded machine varies, so the ratio, not the milliseconds, is the claim.
 */
export function parsers(): BenchResult {
  const HEAD = '<html><title>Apache Status</title><h1>Apache Server Status for x</h1>';
  const shapes: [string, (n: number) => string, (s: string) => unknown][] = [
    ['<pre> + spaces, unclosed', (n) => `${HEAD}<pre>${' '.repeat(n)}`, parseApacheHtml],
    [
      '<tr  repeated',
      (n) => `${HEAD}<table><tr><th>Srv</th><th>Client</th></tr>${'<tr '.repeat(n / 4)}`,
      parseApacheHtml,
    ],
    [
      '< repeated in a cell',
      (n) => `${HEAD}<table><tr><th>Srv</th><th>Client</th></tr><tr><td>0</td><td>${'<'.repeat(n)}</td></tr></table>`,
      parseApacheHtml,
    ],
    [
      'nginx + newlines',
      (n) => `Active connections: 1\nReading: 0 Writing: 1 Waiting: 0${'\n'.repeat(n)}x`,
      parseNginxStatus,
    ],
    ['?auto + colon-less junk', (n) => `${'junk '.repeat(n / 5)}\nScoreboard: R_\n`, parseApacheAuto],
  ];
  const sizes = [64 * 1024, 256 * 1024, 1024 * 1024];
  const rows: [string, string][] = [];
  const checks: BenchResult['checks'] = [];
  for (const [name, make, parse] of shapes) {
    const perMiB = sizes.map((size) => {
      const input = make(size);
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        parse(input);
        times.push(performance.now() - t0);
      }
      return (median(times) * (1024 * 1024)) / input.length;
    });
    rows.push([name, sizes.map((s, i) => `${s / 1024} KiB: ${ms(perMiB[i] as number)}/MiB`).join(', ')]);
    const growth = (perMiB[2] as number) / Math.max(perMiB[0] as number, 0.01);
    checks.push({
      target: `${name}: linear (time per MiB at 1 MiB within 4× of 64 KiB: ${growth.toFixed(2)}×)`,
      ok: growth < 4,
    });
  }
  return { title: '6. Status-page parsers on adversarial input: time per MiB against size', rows, checks };
}
