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
 * Never throws: an SDK error's message is read from the answer, and the SDK's XML
 * reader turns markup in it (`<Message>a<b>c</b></Message>`) into an object.
 */
export function describeError(err: unknown): string {
  return capLine(describeWhole(err));
}

function describeWhole(err: unknown): string {
  // Its message is a whole line already: the part, where, what to do.
  if (err instanceof EnvironmentError) return err.message;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const label = labelOf(typeof code === 'string' && code !== '' ? code : err.name);
    let first = firstLine(textOf(err.message));
    // From an AWS answer (the SDK's errors carry $metadata): someone else's text, its markup neutralised.
    if ('$metadata' in err) first = first.replace(/</g, '‹').replace(/>/g, '›');
    if (first === '') return label;
    return first.startsWith(label) ? first : `${label}: ${first}`;
  }
  return firstLine(textOf(err)) || 'unknown error';
}

/**
 * One line for an error that may be elbscope's own (a plain Error whose message
 * already names the call): its message's first line, capped; anything else (an
 * SDK error, a thrown value) as describeError says it.
 */
export function errorLine(err: unknown): string {
  if (
    err instanceof Error &&
    err.name === 'Error' &&
    !('$metadata' in err) &&
    typeof err.message === 'string' &&
    err.message !== ''
  )
    return capLine(firstLine(err.message));
  return describeError(err);
}

/** An error's code or name as a label: a name's characters only (an answer's `<Code>` is input too). */
function labelOf(name: unknown): string {
  const text = typeof name === 'string' ? name.replace(/[^\w.:-]/g, '?').slice(0, 64) : '';
  return text === '' ? 'Error' : text;
}

/** The text of any value: a string as it is, an object's string leaves in order (what markup became), depth-bounded. */
function textOf(value: unknown, depth = 0): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined || typeof value !== 'object' || depth > 4) return '';
  try {
    return Object.values(value)
      .slice(0, 50)
      .map((v) => textOf(v, depth + 1))
      .filter((t) => t !== '')
      .join(' ');
  } catch {
    return ''; // a getter that throws: nothing to say
  }
}

/** The first line, trimmed, with other control characters made spaces (and the invisible ones printable escapes). */
function firstLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return printable((text.split(/\r?\n|\r/)[0] ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim());
}

function capLine(line: string): string {
  return line.length <= MAX_ERROR_CHARS ? line : `${line.slice(0, MAX_ERROR_CHARS - 1)}…`;
}

/**
 * The environment refused what elbscope needed: a full disk, too many open files,
 * denied access, a missing DynamoDB table, an endpoint that refuses. The message is
 * one line naming the part that met it, where, and what to do. Not a bug: the CLI
 * exits 1 (70 is for bugs), and `watch` says it and goes on with the next cycle.
 */
export class EnvironmentError extends ElbscopeError {
  override name = 'EnvironmentError';
  constructor(
    message: string,
    /** The system or service error code met (ENOSPC, ResourceNotFoundException, …). */
    readonly code: string,
  ) {
    super(message);
  }
}

/** System error codes that are the machine's state, not elbscope's doing, with what to do about each. */
const SYSTEM_FAILURES: Readonly<Record<string, string>> = {
  EMFILE:
    'too many open files in this process: raise its limit (ulimit -n) or lower what holds them (metrics connections, concurrency)',
  ENFILE: "the system's open-file table is full: close files elsewhere, or raise the system's limit (fs.file-max)",
  ENOSPC: 'no space left on the device: free some space there',
  EDQUOT: 'disk quota exceeded: free some space, or raise the quota',
  EACCES: 'permission denied: give this user access, or choose another place',
  EPERM: 'operation not permitted: give this user access, or choose another place',
  EROFS: 'read-only file system: choose a writable place',
  EIO: 'I/O error from the device: check the disk',
  ECONNREFUSED:
    'the endpoint refused the connection: check the endpoint (AWS_ENDPOINT_URL_*) and that the service is up',
  ECONNRESET: 'the endpoint closed the connection: check the endpoint and the network',
  ETIMEDOUT: 'the endpoint did not answer in time: check the network',
  EHOSTUNREACH: 'the endpoint is unreachable: check the network',
  ENETUNREACH: 'the network is unreachable: check the network',
  ENOTFOUND: "the endpoint's host name does not resolve: check the endpoint and DNS",
  EAI_AGAIN: "the endpoint's host name could not be resolved now: check DNS",
};

/**
 * The named error for `err` when it is a system failure of the environment (the
 * codes of SYSTEM_FAILURES) that `part` met ("local store .elbscope", "--out
 * r.md"; '' when unknown) at `at` (a file, when the error names none):
 * `part: syscall path: CODE, what it means and what to do`. Null otherwise.
 */
export function systemFailure(part: string, err: unknown, at?: string): EnvironmentError | null {
  if (err instanceof EnvironmentError) return err;
  if (!(err instanceof Error)) return null;
  const { code, syscall, path, address, port } = err as NodeJS.ErrnoException & { address?: unknown; port?: unknown };
  if (typeof code !== 'string' || !Object.hasOwn(SYSTEM_FAILURES, code)) return null;
  // A write through a file handle carries no path: `at` (the caller's file) says where.
  const file = typeof path === 'string' ? path : at;
  const where =
    file !== undefined
      ? `${typeof syscall === 'string' ? `${syscall} ` : ''}${file}`
      : typeof address === 'string'
        ? `${address}${typeof port === 'number' ? `:${port}` : ''}`
        : (syscall ?? '');
  return new EnvironmentError(
    printable(`${part ? `${part}: ` : ''}${where ? `${where}: ` : ''}${code}, ${SYSTEM_FAILURES[code]}`),
    code,
  );
}

/**
 * Characters a line must never carry raw: C0 and C1 controls and DEL (a newline
 * forges a line, ESC drives the terminal, NUL cuts it), the bidi controls (U+061C,
 * U+200E/F, U+202A–U+202E, U+2066–U+2069: they reorder what is shown), the
 * zero-width ones (U+200B–U+200D, U+2060, U+FEFF: they hide what is there) and the
 * Unicode line and paragraph separators (U+2028/9).
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/g;

function escapeChar(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * `text` safe on one console or log line: every character of UNPRINTABLE escaped
 * (`\n`, `\t`, `\u202E`; the `\uXXXX` form stays valid inside a JSON string). Used
 * wherever a line carries a name elbscope did not choose (a backend's, a load
 * balancer's from a store, a host name from DNS, an error's text).
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeChar);
}

/**
 * `text` of several lines (a report, JSON, help) safe on a console: as printable,
 * but its line breaks (`\n`, `\r\n`) and tabs kept. The last guard on everything
 * the CLI writes; names inside a line are escaped with printable where the line is made.
 */
export function printableLines(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(UNPRINTABLE, (c, at: number) =>
    c === '\n' || c === '\t' || (c === '\r' && text[at + 1] === '\n') ? c : escapeChar(c),
  );
}
