import { printable, printableLines } from '../shared/errors';
import { runCli } from './program';

// The process entry point: wire stdout/stderr, Ctrl-C and the exit code.
// The last guard on the console: no control or bidi character reaches it raw from any
// command (lines keep their breaks; a name inside a line is escaped where the line is made).
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());
// A reader that went away (`elbscope report … | head`) is no error of ours: stop as `head` asked, quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    controller.abort();
    process.exit(process.exitCode ?? 0);
  });
}
runCli(
  process.argv.slice(2),
  {
    out: (text) => process.stdout.write(`${printableLines(text)}\n`),
    err: (text) => process.stderr.write(`${printableLines(text)}\n`),
    env: process.env,
  },
  controller.signal,
).then(
  (code) => {
    process.exitCode = code;
    // After Ctrl-C the command has said its last line: calls still in flight (each within its deadline) must not hold
    // the process.
    if (controller.signal.aborted) process.exit(code);
  },
  (err: unknown) => {
    // Only a bug gets here; still one line, with the stack behind ELBSCOPE_DEBUG.
    process.stderr.write(`elbscope: internal error: ${printable(err instanceof Error ? err.message : String(err))}\n`);
    if (process.env.ELBSCOPE_DEBUG) console.error(err);
    process.exitCode = 70;
  },
);
