import { Command, CommanderError } from 'commander';
import { ElbscopeError } from '../shared/errors';
import { backendsCommand, tlsCommand } from './commands/backends';
import { alertTestCommand, redeliverCommand } from './commands/alerts';
import { eventsCommand, prewarmCommand, reportCommand, verifyCommand } from './commands/audit';
import { observeCommand } from './commands/observe';
import { watchCommand } from './commands/watch';
import { discoverCommand } from './commands/discover';
import { experimentCommand } from './commands/experiment';
import { labCommand } from './commands/lab';
import { startCommand } from './commands/start';
import { EXIT, type CliIo } from './io';

/**
 * Run the elbscope command line and return its exit code: 0 done, 1 a load
 * balancer could not be observed, 2 bad usage or configuration. Errors are
 * printed as one line; nothing here calls process.exit, so tests call it in-process.
 */
export async function runCli(argv: string[], io: CliIo, signal: AbortSignal = new AbortController().signal): Promise<number> {
  let exitCode: number = EXIT.ok;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const program = new Command('elbscope')
    .description('see inside AWS Elastic Load Balancers: nodes per AZ, pre-opened connections, backend TLS')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showSuggestionAfterError();
  const now = () => new Date();
  const commands = [
    observeCommand(io, setExit),
    backendsCommand(io, setExit),
    tlsCommand(io, setExit),
    watchCommand(io, setExit, signal),
    eventsCommand(io, setExit),
    alertTestCommand(io, setExit, now),
    redeliverCommand(io, setExit, now),
    verifyCommand(io, setExit),
    prewarmCommand(io, setExit, now),
    reportCommand(io, setExit, now),
    startCommand(io, setExit, signal),
    labCommand(io, setExit, signal),
    experimentCommand(io, setExit),
    discoverCommand(io, setExit),
  ];
  // Every command, nested ones too, reports errors through us (exit 2), never by exiting the process.
  const wire = (command: Command): Command => {
    command.exitOverride().configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
    for (const sub of command.commands) wire(sub);
    return command;
  };
  for (const command of commands) program.addCommand(wire(command));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander; they are successes to us.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof ElbscopeError) {
      io.err(`elbscope: ${err.message}`);
      return EXIT.usage;
    }
    throw err;
  }
}
