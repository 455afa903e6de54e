import { Command, CommanderError } from 'commander';
import { ElbscopeError, EnvironmentError, printable } from '../shared/errors';
import { environmentFailureOf } from './failures';
import { CATALOG, type CommandContext } from './commands/catalog';
import { EXIT, type CliIo } from './io';

/**
 * Run the elbscope command line and return its exit code: 0 done, 1 a load
 * balancer could not be observed or the environment refused (EXIT), 2 bad usage
 * or configuration. Errors are printed as one line; only a bug is thrown (main.ts
 * makes it exit 70); nothing here calls process.exit, so tests call it in-process.
 */
export async function runCli(
  argv: string[],
  io: CliIo,
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  let exitCode: number = EXIT.ok;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const program = new Command('elbscope')
    .description('see inside AWS Elastic Load Balancers: nodes per AZ, pre-opened connections, backend TLS')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showSuggestionAfterError();
  const ctx: CommandContext = { io, setExit, signal, now: () => new Date() };
  // Only the command being run is loaded; the others are listed by name and summary.
  const wanted = commandNamed(argv);
  const commands = Promise.all(
    CATALOG.map((entry) =>
      entry.name === wanted ? entry.load(ctx) : Promise.resolve(new Command(entry.name).description(entry.summary)),
    ),
  );
  // Every command, nested ones too, reports errors through us (exit 2), never by exiting the process.
  const wire = (command: Command): Command => {
    command
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
    for (const sub of command.commands) wire(sub);
    return command;
  };
  try {
    for (const command of await commands) program.addCommand(wire(command));
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander; they are successes to us.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // The environment's failures (named where they were met, or caught here unnamed): one line, exit 1, never 70.
    const environment = err instanceof EnvironmentError ? err : environmentFailureOf(err);
    if (environment) {
      io.err(`elbscope: ${printable(environment.message)}`);
      return EXIT.environment;
    }
    if (err instanceof ElbscopeError) {
      io.err(`elbscope: ${printable(err.message)}`);
      return EXIT.usage;
    }
    throw err;
  }
}

/** The command argv runs (`help NAME` counts as NAME), or undefined. */
function commandNamed(argv: string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}
