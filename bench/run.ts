// `npm run bench`: every benchmark, side by side with its baseline, in one run;
// the results, with the machine, date and versions, go to bench/RESULTS.md.
import { writeFileSync } from 'node:fs';
import { cycleVsManual } from './cycle-vs-manual';
import { scrapeVsExporter } from './scrape-vs-exporter';
import { scale } from './scale';
import { coldStart } from './cold-start';
import { cost } from './cost';
import { measureCalls } from './alarm-calls';
import { parsers } from './parsers';
import { oneShot } from './one-shot';
import { handlerAtScale } from './handler-at-scale';
import { loadNow, machine, renderResult, type BenchResult } from './lib';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const results: BenchResult[] = [];
// Read before anything runs: the machine as the run found it.
const machineAtStart = machine();
const step = async <T extends BenchResult | null>(name: string, fn: () => Promise<T>): Promise<T> => {
  process.stderr.write(`bench: ${name}...\n`);
  const before = loadNow();
  const r = await fn();
  if (r) {
    // The machine's load with each result: a loaded machine's numbers say so.
    r.rows.push(['machine load (1-min average, before → after)', `${before} → ${loadNow()}`]);
    results.push(r);
    process.stdout.write(`${renderResult(r)}\n`);
  } else process.stdout.write(`## ${name}\n\nskipped: a baseline tool is not installed (see docs/performance.md)\n\n`);
  return r;
};

const one = await step('cycle vs manual', cycleVsManual);
await step('scrape vs exporter', scrapeVsExporter);
await step('scale', () => scale());
await step('cold start', coldStart);
await step('cost', async () =>
  cost(one.cycleMs, undefined, { alarms: await measureCalls('alarms'), polling: await measureCalls('polling') }),
);
await step('parsers', async () => parsers());
await step('one shot', () => oneShot());
await step('packaged handler at scale', () => handlerAtScale());

const text = [
  '# Benchmark results',
  '',
  'Written by `npm run bench` (bench/run.ts). Every ratio compares two things measured in the same run on the same machine.',
  '',
  ...machineAtStart.map((l) => `- ${l}`),
  `- load at end: ${loadNow()}`,
  '',
  ...results.map(renderResult),
].join('\n');
writeFileSync(new URL('./RESULTS.md', import.meta.url), text);
process.stderr.write('bench: wrote bench/RESULTS.md\n');
