import { createHash } from 'node:crypto';
import { configuredRegion, loadBalancerKey, type IdentitySource } from '../config/identity';
import { regionOfAz } from '../nodes/lb-name';
import type { ChainedEvent } from '../detect/state';
import { printableAscii } from './format';

/**
 * An alert as a custom notification of Amazon Q Developer in chat applications (formerly AWS Chatbot), which renders
 * an SNS message in Slack or Microsoft Teams only when it has this documented shape ("Custom notifications using
 * Amazon Q Developer in chat applications", Event schema:
 * https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html). `version` ("Must be 1.0") and `source`
 * ("Must be custom") are required; elbscope fills title, description, next steps and keywords, and the metadata that
 * threads a condition's firing and its end together.
 */
export interface CustomNotification {
  version: '1.0';
  source: 'custom';
  id: string;
  content: {
    textType: 'client-markdown';
    title: string;
    description: string;
    nextSteps: string[];
    keywords: string[];
  };
  metadata: {
    threadId: string;
    summary: string;
    eventType: string;
    additionalContext: Record<string, string>;
  };
}

/**
 * How long each part may be. The custom-notification page names no limits but SNS's 256 KB; the chat applications do
 * (Slack Block Kit: a header's text at most 150 characters, a section's at most 3,000), and an Amazon Q custom action
 * reads at most 1,024 characters of a notification's value (CustomActionAttachment, Variables). Stricter reading:
 * elbscope keeps within them, so nothing is cut by the renderer.
 */
export const CHAT_LIMITS = {
  titleChars: 150,
  descriptionChars: 3_000,
  nextSteps: 5,
  nextStepChars: 300,
  keywords: 5,
  keywordChars: 64,
  contextValueChars: 1_024,
} as const;

const SEVERITY_MARK = { critical: '🔴', warning: '🟠', info: '🔵' } as const;

/** What to look at next, by kind, beyond the report (one line each). */
const KIND_HINTS: Partial<Record<ChainedEvent['kind'], string>> = {
  scaled:
    'A scale-up under a known surge: record the pre-warm you need with `elbscope prewarm` and ask AWS support for it',
  'az-removed': 'Check the AZ in the load balancer’s subnets and its targets’ health',
  'az-out-of-dns': 'Check the targets’ health in that AZ (an NLB takes an AZ with no healthy target out of DNS)',
  'reading-pressure': 'Pre-opened connections hold the workers: raise the worker slots or ask AWS to stop pre-opening',
  'slow-clients': 'Clients hold workers without sending: check the front end’s timeouts',
  spillover: 'Requests are being dropped: scale the backends out now, then ask AWS support for a pre-warm',
  'surge-queue': 'The surge queue is filling: scale the backends out before it spills over',
  'lcu-above-reservation': 'Raise the LCU reservation (`aws elbv2 modify-capacity-reservation`)',
  'cert-expiring': 'Renew the backend’s certificate',
  'tls-failed': 'Check the backend’s TLS listener (`elbscope tls HOST:PORT`)',
  'observation-failed': 'Check the source named above: permissions, DNS, the status page',
  'prewarm-overdue': 'Ask AWS support about the pre-warm case',
};

/**
 * A name as chat shows it: one printable line, inside a code span so the chat's markdown leaves it alone, without the
 * characters that would end the span or start a Slack link (`` ` ``, `<`, `>`, `&`).
 */
function code(text: string): string {
  const clean = printableAscii(text).replace(/[`<>&]/g, '?');
  return `\`${clean === '' ? '-' : clean}\``;
}

/**
 * Plain text for chat: well-formed, on one line, without Slack's control characters `<`, `>`, `&`, without the
 * invisible characters that reorder or hide text (bidi overrides and isolates, zero-width spaces: a name could turn a
 * title around), and with no markdown link (`[text](url)`, which Teams renders) — the text may hold a remote answer
 * (an observation's failure reason).
 */
function plain(text: string): string {
  return text
    .toWellFormed()
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(INVISIBLE, '')
    .replace(/[<>&]/g, '?')
    .replaceAll('](', '] (');
}

/** Bidi marks, embeddings, overrides and isolates; zero-width space, word joiner and invisible operators; BOM. */
const INVISIBLE = /[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** `text` cut to `max` characters (UTF-16 units, never half a pair), with `…` when cut. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  if (/[\ud800-\udbff]/.test(text[end - 1] ?? '')) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * The region of each configured load balancer by its key, as the configuration says (a chat keyword); a key it does not
 * list (a discovered load balancer) gives null, and the AZ's region is used where there is one.
 */
export function regionsByKey(
  loadBalancers: readonly IdentitySource[],
  defaultRegion?: string,
): (loadBalancer: string) => string | null {
  const regions = new Map(loadBalancers.map((lb) => [loadBalancerKey(lb), configuredRegion(lb, defaultRegion)]));
  return (key) => regions.get(key) ?? null;
}

/** "2 min 30 s" from milliseconds. */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}

/** Details worth a line in chat: scalars (numbers, booleans, short strings), at most eight, in their order. */
function keyFigures(details: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(details)) {
    if (lines.length >= 8) break;
    if (name === 'repeat' || name === 'sinceFirstSignMs' || name === 'firstSign') continue;
    if (typeof value === 'number' && Number.isFinite(value)) lines.push(`${plain(name)}: ${value}`);
    else if (typeof value === 'boolean') lines.push(`${plain(name)}: ${value ? 'yes' : 'no'}`);
    else if (typeof value === 'string' && value.length > 0 && value.length <= 120)
      lines.push(`${plain(name)}: ${code(value)}`);
  }
  return lines;
}

/** ISO time `ms` after `at` (or null when `at` is not a time). */
function shifted(at: string, ms: number): string | null {
  const t = Date.parse(at);
  return Number.isFinite(t) ? new Date(t + ms).toISOString() : null;
}

/** A shell word: single-quoted unless it is plainly safe. */
function shellWord(text: string): string {
  const clean = printableAscii(text).replace(/[`<>&]/g, '?');
  return /^[A-Za-z0-9._:/=-]+$/.test(clean) ? clean : `'${clean.replace(/'/g, `'\\''`)}'`;
}

/** The `elbscope report` command for this event's case: the load balancer, from an hour before to an hour after. */
function reportCommand(event: ChainedEvent): string {
  const from = shifted(event.at, -60 * 60_000);
  const to = shifted(event.at, 60 * 60_000);
  return [
    'elbscope report',
    `--lb ${shellWord(event.loadBalancer)}`,
    ...(from ? [`--from ${from}`] : []),
    ...(to ? [`--to ${to}`] : []),
    '--format html --out elbscope-report.html',
  ].join(' ');
}

/** What the chat reader is told: a title, the key figures, next steps, keywords; `region` when it is known. */
export function customNotification(event: ChainedEvent, context: { region?: string | null } = {}): CustomNotification {
  const test = event.kind === 'alert-test';
  const resolved = event.status === 'resolved';
  const repeat = event.details.repeat === true;
  // A severity this version does not know (a record from another version) still gets a mark, never `undefined`.
  const mark = resolved ? '✅' : (SEVERITY_MARK[event.severity] ?? '⚪');
  const prefix = resolved ? 'Resolved: ' : repeat ? 'Still: ' : '';
  const title = cut(plain(`${mark} ${prefix}${event.summary}`), CHAT_LIMITS.titleChars);
  const region = context.region ?? regionOfAz(event.az);

  const since = event.details.sinceFirstSignMs;
  const lines = [
    plain(event.summary),
    '',
    `Load balancer: ${code(event.loadBalancer)}${region ? ` in ${code(region)}` : ''}`,
    ...(event.az ? [`AZ: ${code(event.az)}`] : []),
    ...(event.backend ? [`Backend: ${code(event.backend)}`] : []),
    ...(event.from !== null || event.to !== null
      ? [`Change: ${plain(String(event.from ?? '-'))} → ${plain(String(event.to ?? '-'))}`]
      : []),
    ...(typeof since === 'number' && Number.isFinite(since) && since >= 0
      ? [`Since the first sign: ${duration(since)}`]
      : []),
    ...keyFigures(event.details),
    `What: ${code(event.kind)}${event.status === 'event' ? '' : ` (${event.status})`}, severity ${event.severity}`,
    `When: ${plain(event.at)}`,
    test ? `Event: ${code(event.id)} (a test)` : `Event: ${code(event.id)}, audit record #${event.seq}`,
  ];
  const description = cut(lines.join('\n'), CHAT_LIMITS.descriptionChars);

  const hint = resolved || test ? undefined : KIND_HINTS[event.kind];
  const nextSteps = test
    ? ['Nothing to do: this is `elbscope alert-test` checking the way to this channel']
    : [
        `For the case, the report: \`${reportCommand(event)}\``,
        `The load balancer's events: \`elbscope events --lb ${shellWord(event.loadBalancer)}\``,
        ...(hint ? [hint] : []),
      ].map((s) => cut(s, CHAT_LIMITS.nextStepChars));

  const keywords = [event.kind, ...(region ? [region] : []), event.severity, ...(resolved ? ['resolved'] : [])]
    .map((k) => cut(plain(k), CHAT_LIMITS.keywordChars))
    .slice(0, CHAT_LIMITS.keywords);

  const context_: Record<string, string> = {};
  const put = (name: string, value: string | null) => {
    const clean = value === null ? '' : cut(printableAscii(value), CHAT_LIMITS.contextValueChars);
    if (clean !== '') context_[name] = clean;
  };
  put('eventId', event.id);
  put('loadBalancer', event.loadBalancer);
  put('kind', event.kind);
  put('status', event.status);
  put('severity', event.severity);
  put('az', event.az);
  put('backend', event.backend);
  put('region', region);

  return {
    version: '1.0',
    source: 'custom',
    id: event.id,
    content: { textType: 'client-markdown', title, description, nextSteps, keywords },
    metadata: {
      // A condition's firing, repeats and end share a fingerprint: one thread in the channel (a hash: any name fits).
      threadId: `elbscope-${createHash('sha256').update(event.fingerprint).digest('hex').slice(0, 32)}`,
      summary: cut(plain(`${prefix}${event.summary}`), CHAT_LIMITS.titleChars),
      eventType: `elbscope-${event.kind}`,
      additionalContext: context_,
    },
  };
}
