#!/usr/bin/env node
// What one CLI command loads before it runs: the static import closure of its
// chunk in dist/cli, by package. usage: node scripts/bundle-report.mjs observe
import { readFileSync } from 'node:fs';

const meta = JSON.parse(readFileSync(new URL('../dist/cli/meta.json', import.meta.url), 'utf8'));
const command = process.argv[2] ?? 'observe';
const entry = Object.entries(meta.outputs).find(([, o]) => o.entryPoint === `cli/commands/${command}.ts`)?.[0];
if (!entry) throw new Error(`no chunk for cli/commands/${command}.ts`);
const closure = new Set();
const visit = (output) => {
  if (closure.has(output)) return;
  closure.add(output);
  for (const i of meta.outputs[output].imports)
    if (i.kind === 'import-statement' && meta.outputs[i.path]) visit(i.path);
};
visit('dist/cli/main.js');
visit(entry);
const byPackage = new Map();
for (const output of closure) {
  for (const [input, { bytesInOutput }] of Object.entries(meta.outputs[output].inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const key = m ? m[1] : input.split('/')[0];
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
}
const rows = [...byPackage].sort((a, b) => b[1] - a[1]);
const total = rows.reduce((n, [, b]) => n + b, 0);
process.stdout.write(`${command}: ${closure.size} chunks, ${(total / 1024).toFixed(0)} KiB before its first await\n`);
for (const [name, bytes] of rows) process.stdout.write(`  ${(bytes / 1024).toFixed(1).padStart(7)} KiB  ${name}\n`);
