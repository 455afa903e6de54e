import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { alertBody, alertSubject, printableAscii, fitUtf8 } from '../../../shared/alerts/format';
import { publishInput } from '../../../shared/alerts/sinks';
import { EVENT_KINDS, makeEvent } from '../../../shared/detect/events';
import { chainEvents } from '../../../shared/ledger/chain';
import { checkPublish } from '../../../lab/sns/publish-contract';
import { checkCustomNotification } from '../../../lab/sns/chat-contract';

const STANDARD = 'arn:aws:sns:us-east-1:123456789012:elbscope-alerts';
const FIFO = `${STANDARD}.fifo`;

// Names as hostile as a tag or a status page can make them: unicode (astral, RTL,
// lone surrogates), control characters and line breaks, `|`, up to 250 characters.
const hostileChar = fc.oneof(
  fc.constantFrom(
    '|',
    '→',
    '…',
    '\n',
    '\r',
    '\t',
    '\u0000',
    '\u001b',
    '\u007f',
    '\u0085',
    '\u2028',
    '\ud83d\ude00',
    '\ud800',
    '\udfff',
    'é',
    'ß',
    '\u202e',
    ' ',
    '"',
    '<',
    '&',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.string({ minLength: 1, maxLength: 1 }),
);
const hostileName = fc.oneof(
  fc.array(hostileChar, { minLength: 0, maxLength: 250 }).map((cs) => cs.join('')),
  fc.constant('x'.repeat(250)),
  fc.constant(''),
);

const arbEvent = fc.record({
  kind: fc.constantFrom(...EVENT_KINDS),
  status: fc.constantFrom('event', 'firing', 'resolved') as fc.Arbitrary<'event' | 'firing' | 'resolved'>,
  severity: fc.constantFrom('info', 'warning', 'critical') as fc.Arbitrary<'info' | 'warning' | 'critical'>,
  loadBalancer: hostileName,
  az: fc.option(hostileName, { nil: null }),
  backend: fc.option(hostileName, { nil: null }),
  from: fc.option(fc.oneof(fc.integer(), hostileName), { nil: null }),
  to: fc.option(fc.oneof(fc.integer(), hostileName), { nil: null }),
  repeat: fc.boolean(),
  // Sometimes details far larger than SNS takes (an answer of thousands of addresses).
  detailsSize: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40_000 })),
});

type ArbEvent = typeof arbEvent extends fc.Arbitrary<infer T> ? T : never;

function build(e: ArbEvent) {
  const summary = `${e.loadBalancer} ${e.az ?? e.backend ?? ''} ${e.kind} ${e.from ?? '-'} → ${e.to ?? '-'}`;
  const details: Record<string, unknown> = {
    repeat: e.repeat,
    nodes: Array.from({ length: e.detailsSize }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`),
  };
  const event = makeEvent({
    kind: e.kind,
    status: e.status,
    severity: e.severity,
    loadBalancer: e.loadBalancer,
    az: e.az,
    backend: e.backend,
    from: e.from,
    to: e.to,
    at: '2026-11-25T10:02:00.000Z',
    summary,
    details,
  });
  return chainEvents([event], { seq: 0, hash: '0'.repeat(64) }).chained[0]!;
}

describe('Alerts within SNS Publish’s documented contract (property)', () => {
  it('every event kind, with hostile names and huge details, makes a Publish that the contract accepts, standard and FIFO', () => {
    fc.assert(
      fc.property(arbEvent, fc.constantFrom(STANDARD, FIFO), (e, topic) => {
        const record = build(e);
        const input = publishInput(topic, record);
        expect(checkPublish(input)).toBeNull();
        // The subject: printable ASCII, starting with a letter, under 100 characters.
        expect(input.Subject).toMatch(/^[A-Za-z][ -~]{0,98}$/);
        // A message per protocol: e-mail and default the readable body (well-formed, no control characters but
        // newline and tab, the JSON kept or the shortening said), chat a custom notification it renders.
        expect(input.MessageStructure).toBe('json');
        const parts = JSON.parse(input.Message) as Record<string, string>;
        expect(Object.keys(parts).sort()).toEqual(['default', 'email', 'https', 'sms']);
        expect(parts.email).toBe(parts.default);
        const body = parts.default as string;
        expect(body.isWellFormed()).toBe(true);
        // eslint-disable-next-line no-control-regex
        expect(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(body)).toBe(false);
        expect(body.includes('--- event (JSON) ---') || body.includes('shortened to fit')).toBe(true);
        expect(parts.sms).toBe(input.Subject);
        expect(checkCustomNotification(parts.https as string)).toBeNull();
        expect(Object.keys(input.MessageAttributes).length).toBeLessThanOrEqual(10);
      }),
      { numRuns: 300 },
    );
  });

  it('shortens a huge event with a note instead of letting SNS refuse it, keeping the parseable JSON of everything but the details', () => {
    const record = build({
      kind: 'scaled',
      status: 'event',
      severity: 'info',
      loadBalancer: 'big',
      az: 'us-east-1a',
      backend: null,
      from: 1,
      to: 8000,
      repeat: false,
      detailsSize: 30_000,
    });
    const full = JSON.stringify(record, null, 2);
    expect(Buffer.byteLength(full)).toBeGreaterThan(262_144);
    const body = alertBody(record);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(262_144);
    expect(body).toContain(`the full record is event ${record.id}`);
    expect(JSON.parse(body.split('--- event (JSON) ---\n')[1] ?? '')).toMatchObject({
      id: record.id,
      kind: 'scaled',
      to: 8000,
      details: { omitted: true },
    });
  });

  it('spells elbscope’s own symbols in ASCII and cuts long subjects with ...', () => {
    const record = build({
      kind: 'scaled',
      status: 'resolved',
      severity: 'info',
      loadBalancer: 'a'.repeat(120),
      az: 'us-east-1a',
      backend: null,
      from: 1,
      to: 3,
      repeat: false,
      detailsSize: 0,
    });
    expect(printableAscii('web 1 → 3 … “ok” ü\n\tx')).toBe('web 1 -> 3 ... "ok" ? x');
    const subject = alertSubject(record);
    expect(subject).toMatch(/^elbscope: resolved: a+\.\.\.$/);
    expect(subject.length).toBe(99);
    expect(fitUtf8('éé', 3)).toBe('é'); // never half a character
  });
});
