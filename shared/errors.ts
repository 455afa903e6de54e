/**
 * Errors that elbscope reports to a person. Each carries a one-line message that
 * names what was wrong (the input, the source); callers print `message` alone,
 * never a stack trace.
 */
export class ElbscopeError extends Error {
  override name = 'ElbscopeError';
}

/** The configuration (file, environment or flags) is invalid. */
export class ConfigError extends ElbscopeError {
  override name = 'ConfigError';
}

/** A command line could not be understood. */
export class UsageError extends ElbscopeError {
  override name = 'UsageError';
}

/** The most of a message elbscope keeps: an endpoint's error text is someone else's input. */
export const MAX_ERROR_CHARS = 500;

/**
 * One line describing any thrown value, for error lists and logs: the error's
 * code or name, then the first line of its message, at most MAX_ERROR_CHARS.
 */
export function describeError(err: unknown): string {
  return capLine(describeWhole(err));
}

function describeWhole(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const label = typeof code === 'string' && code !== '' ? code : err.name;
    const first = (err.message.split('\n')[0] ?? '').trim();
    if (first === '') return label;
    return first.startsWith(label) ? first : `${label}: ${first}`;
  }
  return String(err).split('\n')[0] ?? 'unknown error';
}

function capLine(line: string): string {
  return line.length <= MAX_ERROR_CHARS ? line : `${line.slice(0, MAX_ERROR_CHARS - 1)}…`;
}
