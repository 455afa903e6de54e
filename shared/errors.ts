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
  if (err instanceof Error && err.name === 'Error' && !('$metadata' in err) && typeof err.message === 'string' && err.message !== '') return capLine(firstLine(err.message));
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
    return Object.values(value).slice(0, 50).map((v) => textOf(v, depth + 1)).filter((t) => t !== '').join(' ');
  } catch {
    return ''; // a getter that throws: nothing to say
  }
}

/** The first line, trimmed, with other control characters made spaces. */
function firstLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return (text.split(/\r?\n|\r/)[0] ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
}

function capLine(line: string): string {
  return line.length <= MAX_ERROR_CHARS ? line : `${line.slice(0, MAX_ERROR_CHARS - 1)}…`;
}
