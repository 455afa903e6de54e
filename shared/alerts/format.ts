import { createHash } from 'node:crypto';
import type { ChainedEvent } from '../detect/state';

/**
 * What SNS Publish accepts (Amazon SNS API Reference, Publish), as the limits
 * elbscope formats alerts to. The lab's endpoint enforces the same documented
 * rules independently (lab/sns/publish-contract.ts).
 */
export const SNS_LIMITS = {
  /** "must be less than 100 characters long". */
  subjectChars: 99,
  /** "at most 256 KB in size (262,144 bytes, not 262,144 characters)"; attributes count toward it. */
  messageBytes: 262_144,
} as const;

/** Non-ASCII characters elbscope's own text uses, spelt in ASCII for subjects. */
const ASCII_SPELLING = new Map<string, string>([
  ['→', '->'],
  ['←', '<-'],
  ['…', '...'],
  ['–', '-'],
  ['—', '-'],
  ['‘', "'"],
  ['’', "'"],
  ['“', '"'],
  ['”', '"'],
  ['≥', '>='],
  ['≤', '<='],
  ['×', 'x'],
]);

/**
 * Any text as printable ASCII on one line: known symbols spelt out (`→` as `->`),
 * control characters and line breaks as spaces, other characters as `?`, runs of
 * spaces collapsed. Linear in the input.
 */
export function printableAscii(text: string): string {
  let out = '';
  let space = false;
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    let piece: string;
    if (code >= 0x21 && code <= 0x7e) piece = ch;
    else if (
      code === 0x20 ||
      code < 0x20 ||
      code === 0x7f ||
      (code >= 0x80 && code <= 0x9f) ||
      ch === '\u2028' ||
      ch === '\u2029'
    )
      piece = ' ';
    else piece = ASCII_SPELLING.get(ch) ?? '?';
    if (piece === ' ') {
      space = out.length > 0;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += piece;
  }
  return out;
}

/**
 * The SNS Subject of an alert: "elbscope: test us-east-1a scaled 1 -> 3 nodes".
 * Printable ASCII only, starting with a letter, under 100 characters (cut with
 * `...`), as the Publish reference requires; the body keeps the UTF-8 summary.
 */
export function alertSubject(event: ChainedEvent): string {
  const prefix =
    event.status === 'resolved' ? 'elbscope: resolved: ' : event.details.repeat ? 'elbscope: still: ' : 'elbscope: ';
  const clean = printableAscii(`${prefix}${event.summary}`);
  return clean.length <= SNS_LIMITS.subjectChars
    ? clean
    : `${clean.slice(0, SNS_LIMITS.subjectChars - 3).trimEnd()}...`;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffe\uffff]/g;

/** Text as well-formed UTF-8 with no control characters but newline and tab (SQS raw delivery refuses the rest). */
function bodyText(text: string): string {
  return text.toWellFormed().replace(CONTROL, '?');
}

/** JSON whose strings carry no raw control characters: JSON.stringify leaves U+007F–U+009F as they are. */
function controlFreeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent)
    .toWellFormed()
    .replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const utf8 = new TextEncoder();

/** UTF-8 byte length. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The longest prefix of `text` that fits `maxBytes` of UTF-8, never cutting a character. */
export function fitUtf8(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  const { read } = utf8.encodeInto(text, new Uint8Array(Math.max(0, maxBytes)));
  return text.slice(0, read);
}

/** The readable lines of an alert (what a person reads in an email). */
function readableLines(event: ChainedEvent): string[] {
  const test = event.kind === 'alert-test';
  return [
    event.summary,
    '',
    `what:          ${event.kind}${event.status === 'event' ? '' : ` (${event.status})`}`,
    `load balancer: ${event.loadBalancer}`,
    ...(event.az ? [`AZ:            ${event.az}`] : []),
    ...(event.backend ? [`backend:       ${event.backend}`] : []),
    ...(event.from !== null || event.to !== null ? [`change:        ${event.from ?? '-'} → ${event.to ?? '-'}`] : []),
    `when:          ${event.at}`,
    `severity:      ${event.severity}`,
    test
      ? `event id:      ${event.id} (a test: not part of any audit trail)`
      : `event id:      ${event.id} (audit record #${event.seq})`,
    // The chain's head as of this event, kept outside the store by whoever receives the alert:
    // `elbscope verify --anchor HASH` proves the trail up to it was not rewritten.
    ...(test ? [] : [`audit anchor:  #${event.seq} ${event.hash}`]),
  ];
}

const JSON_HEADER = '--- event (JSON) ---';

/**
 * A readable message body, then the full event as JSON (for machines and support
 * cases), within `maxBytes` of UTF-8. An event too large for SNS (details listing
 * thousands of addresses, say) is shortened with a note saying what was left out
 * and where the whole record is, never refused.
 */
export function alertBody(event: ChainedEvent, maxBytes: number = SNS_LIMITS.messageBytes): string {
  const head = bodyText(readableLines(event).join('\n'));
  const full = `${head}\n\n${JSON_HEADER}\n${controlFreeJson(event, 2)}`;
  if (utf8Bytes(full) <= maxBytes) return full;
  // Too large: the details go (the audit trail keeps them), the rest of the JSON stays.
  const note = `(shortened to fit SNS's 256 KB: the full record is event ${event.id} in elbscope's audit trail, \`elbscope events --json\`)`;
  const { details: _details, ...rest } = event;
  const shortened = `${head}\n\n${note}\n${JSON_HEADER}\n${controlFreeJson({ ...rest, details: { omitted: true } })}`;
  if (utf8Bytes(shortened) <= maxBytes) return shortened;
  // Still too large (names of absurd length): cut the text itself, keeping the note.
  const tail = `\n…\n${note}`;
  return `${fitUtf8(head, maxBytes - utf8Bytes(tail))}${tail}`;
}

/** The most of a message attribute's value elbscope sends (eight of them leave the message 248 KB). */
const ATTRIBUTE_VALUE_BYTES = 1_024;

/** A message attribute as the SDK takes it. */
export type StringAttribute = { DataType: 'String'; StringValue: string };

/**
 * SNS message attributes, so subscribers can filter (`loadBalancer`, `kind`,
 * `severity`, `status`, `eventId`, `az`, `backend`) and keep the audit anchor
 * (`chainHead`: `seq:hash`): at most 10 (the limit for
 * raw delivery to SQS), names of the documented alphabet, no empty values (SNS
 * refuses them), values cleaned as the body is.
 */
export function alertAttributes(event: ChainedEvent): Record<string, StringAttribute> {
  const attrs: Record<string, StringAttribute> = {};
  // A value is cut to ATTRIBUTE_VALUE_BYTES: a name of any length (a backend's `name` has no limit) must leave the
  // message its room within the 256 KB, else the Publish is refused every time.
  const put = (name: string, value: string | null) => {
    const clean = value === null ? '' : fitUtf8(bodyText(value), ATTRIBUTE_VALUE_BYTES);
    if (clean.trim() !== '') attrs[name] = { DataType: 'String', StringValue: clean };
  };
  put('loadBalancer', event.loadBalancer);
  put('kind', event.kind);
  put('severity', event.severity);
  put('status', event.status);
  put('eventId', event.id);
  put('az', event.az);
  put('backend', event.backend);
  if (event.kind !== 'alert-test') put('chainHead', `${event.seq}:${event.hash}`);
  return attrs;
}

/** Bytes the attributes take from the message size limit: "all parts … including name, type, and value". */
export function attributeBytes(attrs: Record<string, StringAttribute>): number {
  let n = 0;
  for (const [name, { DataType, StringValue }] of Object.entries(attrs))
    n += utf8Bytes(name) + utf8Bytes(DataType) + utf8Bytes(StringValue);
  return n;
}

// "up to 128 alphanumeric characters (a-z, A-Z, 0-9) and punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)".
const FIFO_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/**
 * A FIFO message group id for a load balancer: its name when that is a valid id
 * (up to 128 alphanumerics and punctuation), else a stable hash of it, so every
 * load balancer keeps one ordered group whatever its name holds.
 */
export function fifoGroupId(loadBalancer: string): string {
  return FIFO_ID.test(loadBalancer)
    ? loadBalancer
    : `lb-${createHash('sha256').update(loadBalancer).digest('hex').slice(0, 40)}`;
}
