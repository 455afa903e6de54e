import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Records } from '../../../shared/ledger/records';
import { DynamoDbRecords } from '../../../shared/store/dynamodb';
import { LocalRecords } from '../../../shared/store/local';
import { createTable, startDynalite } from '../../helpers/dynalite';
import { faultyRecords, type Crashable } from '../../helpers/faulty-store';
import { EXPECTED_EVENTS, outcome, problemsOf, runScript } from '../../helpers/crash-script';

// "Nothing lost, nothing twice", proven by crashing: a scripted run (a scale-up, a
// node replaced, a DNS failure and its recovery, a TLS failure and its end) is run
// once whole, then once per primitive write with the store dead right after that
// write; each time the run restarts (the same invocation again, as Lambda retries
// it) and goes on to the end. Every run must store the same events, publish each
// exactly once (a recording sink counts), leave no outbox behind, and verify.
// DynamoDB is crashed in process after every primitive write (each one request: a
// kill between the request and its answer leaves what a crash right after it
// leaves); the local store is killed for real (SIGKILL, a child process) after
// every file operation, which includes the end of every primitive write.

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let child: string;
beforeAll(async () => {
  dynamo = await startDynalite();
  // The child bundled once; beside node_modules, so its packages resolve.
  child = join(process.cwd(), 'node_modules', '.cache', 'elbscope-tests', 'crash-child.mjs');
  await build({
    entryPoints: [join(process.cwd(), 'tests', 'helpers', 'crash-child.ts')], bundle: true, platform: 'node', format: 'esm', mainFields: ['module', 'main'], outfile: child, logLevel: 'error',
    banner: { js: "import { createRequire as __require } from 'node:module'; const require = __require(import.meta.url);" },
  });
});
afterAll(async () => dynamo?.stop());

/** A fresh store of one adapter. */
type Fresh = () => Promise<{ records: Records }>;
const local: Fresh = async () => ({ records: new LocalRecords(mkdtempSync(join(tmpdir(), 'elbscope-crash-'))) });
const dynamodb: Fresh = async () => {
  const table = `crash-${Math.random().toString(36).slice(2)}`;
  await createTable(dynamo.client, table);
  return { records: new DynamoDbRecords(dynamo.client, table) };
};

/** The uncrashed run's outcome and write count (the crash points). */
async function reference(fresh: Fresh) {
  const { records } = await fresh();
  const clean = await runScript((n) => faultyRecords(records, n), null);
  const expected = await outcome(records);
  expect(expected.events.map((e) => e.replace(/^\d+ /, '').replace(/ \S+$/, ''))).toEqual(EXPECTED_EVENTS);
  expect(clean.published.sort()).toEqual([...expected.ids].sort());
  expect(clean.writes).toBeGreaterThan(20);
  return { expected, writes: clean.writes };
}

/** Run the child on a local store in `dir`, killed after file operation `n` (null: never); where it died, what it published, its count of operations. */
function childRun(dir: string, n: number | null): Promise<{ step: number; published: string[]; killed: boolean; ops: number }> {
  const logs = mkdtempSync(join(tmpdir(), 'elbscope-crash-child-'));
  const stepLog = join(logs, 'steps');
  const publishLog = join(logs, 'published');
  writeFileSync(stepLog, '');
  writeFileSync(publishLog, '');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [child, JSON.stringify({ dir, killAfter: n, stepLog, publishLog })], { timeout: 60_000 }, (err, stdout, stderr) => {
      const killed = (err as { signal?: string } | null)?.signal === 'SIGKILL';
      if (err && !killed) return reject(new Error(`crash child (file operation ${n}): ${stderr || err.message}`));
      const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
      resolve({ step: Number(lines(stepLog).at(-1) ?? 0), published: lines(publishLog), killed, ops: killed ? 0 : (JSON.parse(stdout) as { ops: number }).ops });
    });
  });
}

describe('Crashing DynamoDB after every write request (in process)', () => {
  const fresh = dynamodb;
  it('stores the same events, publishes each exactly once, leaves no outbox, and verifies, whichever write the crash follows', async () => {
    const { expected, writes } = await reference(fresh);
    const problems: string[] = [];
    for (let n = 1; n <= writes; n++) {
      const { records } = await fresh();
      const open = (k: number | null): Crashable => faultyRecords(records, k);
      const run = await runScript(open, n);
      problems.push(...problemsOf(`crash after write ${n}`, run, await outcome(records), expected));
    }
    expect(problems).toEqual([]);
  }, 240_000);
});

describe('Killing a process that writes a local store, after every file operation', () => {
  // Inside the primitives: a lock held, a temporary file not yet renamed, a record
  // linked but its temporary not yet removed. The restart (in this process) must
  // break a dead process's lock at once and go on as after any crash.
  it('stores the same events, publishes each exactly once, leaves no outbox, and verifies, whichever operation the kill follows', async () => {
    const { expected } = await reference(local);
    const clean = await childRun(mkdtempSync(join(tmpdir(), 'elbscope-kill-')), null);
    expect(clean.ops).toBeGreaterThan(40);
    const problems: string[] = [];
    for (let n = 1; n <= clean.ops; n++) {
      const dir = mkdtempSync(join(tmpdir(), 'elbscope-kill-'));
      const died = await childRun(dir, n);
      if (!died.killed) {
        problems.push(`kill after operation ${n}: the child was not killed`);
        continue;
      }
      const records = new LocalRecords(dir);
      // Restarted: the step the kill fell in, again, half a minute later; then to the end.
      const run = await runScript((k) => faultyRecords(records, k), null, { from: died.step, restarted: true, published: [...died.published] });
      problems.push(...problemsOf(`kill after operation ${n}`, { published: run.published, crashes: run.crashes + 1 }, await outcome(records), expected));
    }
    expect(problems).toEqual([]);
  }, 240_000);
});
