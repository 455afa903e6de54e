import { appendFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { LocalRecords } from '../../shared/store/local';
import { faultyRecords } from './faulty-store';
import { runScript } from './crash-script';

// A child process that runs the crash script on a local store and is killed for
// real (SIGKILL): right after its Nth file operation that changes what the store
// holds (link, rename, unlink, rm) — inside the store's primitives: a lock file
// held, a temporary file written and not renamed, a record linked and its temporary
// not yet removed — or, with `killAtPublish`, when "SNS" is asked for its Kth
// publish, after the alert file took that event. What the kill leaves stays for
// the parent, which restarts the run. Argument: JSON { dir, alertFile, killAfter,
// killAtPublish, steps, stepLog, consoleLog, publishLog } (both kills null: count, never kill). Each
// step's index and each id the console or SNS takes are appended synchronously to
// the logs before the step is taken or the delivery acknowledged, so the parent
// knows where the kill fell and what each sink had.

interface Args {
  dir: string;
  alertFile: string;
  killAfter: number | null;
  killAtPublish: number | null;
  /** How many of the script's steps to run (all: absent). */
  steps?: number;
  stepLog: string;
  consoleLog: string;
  publishLog: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const die = () => process.kill(process.pid, 'SIGKILL');
let ops = 0;
let publishes = 0;
// The store's `node:fs/promises` imports are live bindings: patch the module and sync them.
const fsp = createRequire(import.meta.url)('node:fs/promises') as Record<string, (...a: unknown[]) => Promise<unknown>>;
for (const name of ['link', 'rename', 'unlink', 'rm']) {
  const original = fsp[name] as (...a: unknown[]) => Promise<unknown>;
  fsp[name] = async (...a: unknown[]) => {
    const result = await original(...a);
    if (++ops === args.killAfter) die();
    return result;
  };
}
syncBuiltinESMExports();

runScript((n) => faultyRecords(new LocalRecords(args.dir), n), null, args.alertFile, {
  ...(args.steps ? { steps: args.steps } : {}),
  onStep: (i) => appendFileSync(args.stepLog, `${i}\n`),
  onConsole: (id) => appendFileSync(args.consoleLog, `${id}\n`),
  onPublish: (id) => {
    if (++publishes === args.killAtPublish) die();
    appendFileSync(args.publishLog, `${id}\n`);
  },
}).then(
  () => process.stdout.write(`${JSON.stringify({ ops, publishes })}\n`),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(2);
  },
);
