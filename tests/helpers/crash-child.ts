import { appendFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { LocalRecords } from '../../shared/store/local';
import { faultyRecords } from './faulty-store';
import { runScript } from './crash-script';

// A child process that runs the crash script on a local store and is killed for
// real (SIGKILL) right after its Nth file operation that changes what the
// directory holds (link, rename, unlink, rm) — inside the store's primitives:
// with a lock file held, a temporary file written but not renamed, a record linked
// but its temporary not yet removed. What the kill leaves stays for the parent,
// which restarts the run. Argument: JSON { dir, killAfter, stepLog, publishLog }
// (killAfter null: count, never kill). Each step's index and each published id are
// appended synchronously to the logs before the step is taken or the publish
// acknowledged, so the parent knows where the kill fell.

interface Args {
  dir: string;
  killAfter: number | null;
  stepLog: string;
  publishLog: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
let ops = 0;
// The store's `node:fs/promises` imports are live bindings: patch the module and sync them.
const fsp = createRequire(import.meta.url)('node:fs/promises') as Record<string, (...a: unknown[]) => Promise<unknown>>;
for (const name of ['link', 'rename', 'unlink', 'rm']) {
  const original = fsp[name] as (...a: unknown[]) => Promise<unknown>;
  fsp[name] = async (...a: unknown[]) => {
    const result = await original(...a);
    if (++ops === args.killAfter) process.kill(process.pid, 'SIGKILL');
    return result;
  };
}
syncBuiltinESMExports();

runScript((n) => faultyRecords(new LocalRecords(args.dir), n), null, {
  onStep: (i) => appendFileSync(args.stepLog, `${i}\n`),
  onPublish: (id) => appendFileSync(args.publishLog, `${id}\n`),
}).then(
  () => process.stdout.write(`${JSON.stringify({ ops })}\n`),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(2);
  },
);
