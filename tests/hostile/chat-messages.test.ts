import { describe, expect, it } from 'vitest';
import { CHAT_LIMITS } from '../../shared/alerts/chat';
import { publishInput } from '../../shared/alerts/sinks';
import { makeEvent } from '../../shared/detect/events';
import type { ChainedEvent } from '../../shared/detect/state';
import { chainEvents } from '../../shared/ledger/chain';
import { checkCustomNotification } from '../../lab/sns/chat-contract';
import { checkPublish } from '../../lab/sns/publish-contract';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:elbscope-alerts';

function chained(fields: Partial<Parameters<typeof makeEvent>[0]> = {}): ChainedEvent {
  const event = makeEvent({
    kind: 'scaled',
    status: 'event',
    severity: 'info',
    loadBalancer: 'web',
    az: 'eu-west-1b',
    backend: null,
    from: 2,
    to: 4,
    at: '2026-11-25T10:02:00.000Z',
    summary: 'web eu-west-1b scaled 2 → 4 nodes',
    details: { direction: 'up' },
    ...fields,
  });
  return chainEvents([event], { seq: 0, hash: '0'.repeat(64) }).chained[0]!;
}

/** Every protocol's message from one Publish, after the stand-in accepted it. */
function published(event: ChainedEvent) {
  const input = publishInput(TOPIC, event, { regionOf: () => 'eu-west-1' });
  expect(checkPublish(input)).toBeNull();
  const parts = JSON.parse(input.Message) as Record<string, string>;
  for (const [k, v] of Object.entries(parts)) expect(v.length, k).toBeGreaterThan(0);
  expect(checkCustomNotification(parts.https!)).toBeNull();
  return { input, parts, card: JSON.parse(parts.https!) };
}

const HOSTILE = [
  '<!channel>',
  '<!here|here>',
  '<https://evil.example|click to fix>',
  '[click to fix](https://evil.example)',
  '*bold* _it_ ~s~',
  '```code``` `x`',
  'a\nb\r\nc',
  'zero\u200bwidth\u2060join\ufeff',
  'bidi\u202eevil\u202c \u2066x\u2069 \u200f',
  '🔴🟠 👩‍💻',
  '@channel @here',
];

describe('hostile text in chat alerts', () => {
  it.each(HOSTILE)('%j as names and summary: valid Publish, valid card, nothing active', (text) => {
    const { card } = published(
      chained({ loadBalancer: text, az: text, backend: text, summary: `${text} scaled`, details: { [text]: text } }),
    );
    const all = `${card.content.title}\n${card.content.description}\n${card.content.nextSteps.join('\n')}`;
    expect(all).not.toMatch(/<|>/);
    expect(all).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200b\u200e\u200f\u2060\u061c\ufeff]/);
    // Outside code spans (where chat shows text as it is), no markdown link.
    expect(all.replace(/`[^`\n]*`/g, '')).not.toMatch(/\]\(/);
    expect(card.content.title).not.toMatch(/\n/);
  });
});

describe('hostile sizes and shapes in chat alerts', () => {
  it('10 KB names of emoji and huge details: within 256 KB with attributes, the card within its limits', () => {
    const name = '😀'.repeat(5_000);
    const details = {
      list: Array.from({ length: 50_000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`),
      blob: 'é'.repeat(300_000),
    };
    const { input, parts, card } = published(
      chained({ loadBalancer: name, az: name, backend: name, summary: `${name} scaled`, details }),
    );
    let bytes = Buffer.byteLength(input.Message);
    for (const [k, v] of Object.entries(input.MessageAttributes))
      bytes += Buffer.byteLength(k + v.DataType + v.StringValue);
    expect(bytes).toBeLessThanOrEqual(262_144);
    expect(card.content.title.length).toBeLessThanOrEqual(CHAT_LIMITS.titleChars);
    expect(card.content.title.isWellFormed()).toBe(true);
    expect(parts.default).toMatch(/shortened to fit/);
  });

  it('a backend name larger than SNS takes (300 KB): still a Publish SNS accepts, not one refused for ever', () => {
    const name = 'b'.repeat(300_000);
    published(chained({ backend: name, az: null, summary: `web ${name}: certificate changed`, kind: 'cert-changed' }));
  });

  it('a kind and a severity the card formatter does not know (a newer or older record): a card all the same', () => {
    const { card } = published(
      chained({ kind: 'future-kind' as never, severity: 'severe' as never, summary: 'web something new' }),
    );
    expect(card.content.title).not.toMatch(/undefined/);
    expect(card.content.description).not.toMatch(/undefined/);
    expect(card.content.keywords).toContain('future-kind');
  });

  it('a resolved repeat: marked resolved, not "Still"', () => {
    const { card, parts } = published(
      chained({ kind: 'reading-pressure', status: 'resolved', severity: 'warning', details: { repeat: true } }),
    );
    expect(card.content.title).toMatch(/^✅ Resolved: /);
    expect(parts.sms).toMatch(/^elbscope: resolved: /);
  });

  it('an empty summary and names: every protocol still has a message', () => {
    published(chained({ loadBalancer: '', az: null, summary: '', details: {} }));
  });
});

describe('the stand-in refuses a broken structure', () => {
  const at = (Message: string) =>
    checkPublish({ TopicArn: TOPIC, MessageStructure: 'json', Message })?.message ?? 'accepted';
  it.each([
    ['{"default":"a","default":"b"}', /duplicate key "default"/],
    ['{"default":"a","\\u0064efault":"b"}', /duplicate key "default"/],
    ['{"default":"a","https":"x","https":"y"}', /duplicate key "https"/],
    ['{"default":null}', /No default entry/],
    ['{"default":["a"]}', /No default entry/],
    ['{"default":{"x":"a"}}', /No default entry/],
    ['[{"default":"a"}]', /failed to parse/],
    ['null', /failed to parse/],
    ['{"default":"a"} x', /failed to parse/],
    ['{"default":"a","https":"{\\"k\\":\\"}\\",\\"default\\":1}"}', /^accepted$/],
  ])('%s', (message, expected) => {
    expect(at(message)).toMatch(expected);
  });
});
