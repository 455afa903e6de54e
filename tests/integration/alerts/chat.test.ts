import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { customNotification, CHAT_LIMITS } from '../../../shared/alerts/chat';
import { publishInput } from '../../../shared/alerts/sinks';
import { makeEvent } from '../../../shared/detect/events';
import { chainEvents } from '../../../shared/ledger/chain';
import { checkCustomNotification } from '../../../lab/sns/chat-contract';
import { deliveredTo, startSnsEndpoint, type SnsState } from '../../../lab/sns/server';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:elbscope-alerts';

function chained(fields: Partial<Parameters<typeof makeEvent>[0]> = {}) {
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
    details: { direction: 'up', sinceFirstSignMs: 150_000 },
    ...fields,
  });
  return chainEvents([event], { seq: 0, hash: '0'.repeat(64) }).chained[0]!;
}

describe('MessageStructure json through the real SDK to the lab endpoint', () => {
  const state: SnsState = { messages: [], failNext: [], refused: [] };
  let endpoint: Awaited<ReturnType<typeof startSnsEndpoint>>;
  let sns: SNSClient;
  beforeAll(async () => {
    endpoint = await startSnsEndpoint(state);
    sns = new SNSClient({
      region: 'us-east-1',
      endpoint: endpoint.url,
      maxAttempts: 1,
      credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
    });
  });
  afterAll(async () => {
    sns.destroy();
    await endpoint.close();
  });
  beforeEach(() => {
    state.messages.length = 0;
    state.refused!.length = 0;
  });
  const publish = (Message: string, extra: Record<string, unknown> = {}) =>
    sns.send(new PublishCommand({ TopicArn: TOPIC, MessageStructure: 'json', Message, ...extra })).then(
      () => 'accepted',
      (e: { name: string; message: string }) => `${e.name}: ${e.message}`,
    );

  it('a scale-up: e-mail gets the plain text, chat a custom notification with the figures, next steps and keywords', async () => {
    const event = chained();
    const input = publishInput(TOPIC, event, { regionOf: () => 'eu-west-1' });
    expect(await sns.send(new PublishCommand(input)).then(() => 'accepted')).toBe('accepted');
    const [m] = state.messages;
    expect(deliveredTo(m!, 'email')).toMatch(/^web eu-west-1b scaled 2 → 4 nodes\n\nwhat: {10}scaled\n/);
    expect(deliveredTo(m!, 'sms')).toBe('elbscope: web eu-west-1b scaled 2 -> 4 nodes');
    const chat = deliveredTo(m!, 'https');
    expect(checkCustomNotification(chat)).toBeNull();
    expect(JSON.parse(chat)).toEqual({
      version: '1.0',
      source: 'custom',
      id: event.id,
      content: {
        textType: 'client-markdown',
        title: '🔵 web eu-west-1b scaled 2 → 4 nodes',
        description: [
          'web eu-west-1b scaled 2 → 4 nodes',
          '',
          'Load balancer: `web` in `eu-west-1`',
          'AZ: `eu-west-1b`',
          'Change: 2 → 4',
          'Since the first sign: 2 min 30 s',
          'direction: `up`',
          'What: `scaled`, severity info',
          'When: 2026-11-25T10:02:00.000Z',
          `Event: \`${event.id}\`, audit record #1`,
        ].join('\n'),
        nextSteps: [
          'For the case, the report: `elbscope report --lb web --from 2026-11-25T09:02:00.000Z --to 2026-11-25T11:02:00.000Z --format html --out elbscope-report.html`',
          "The load balancer's events: `elbscope events --lb web`",
          expect.stringMatching(/^A scale-up under a known surge/),
        ],
        keywords: ['scaled', 'eu-west-1', 'info'],
      },
      metadata: {
        threadId: expect.stringMatching(/^elbscope-[0-9a-f]{32}$/),
        summary: 'web eu-west-1b scaled 2 → 4 nodes',
        eventType: 'elbscope-scaled',
        additionalContext: {
          eventId: event.id,
          loadBalancer: 'web',
          kind: 'scaled',
          status: 'event',
          severity: 'info',
          az: 'eu-west-1b',
          region: 'eu-west-1',
        },
      },
    });
  });

  it('a condition and its end share a chat thread; the end is marked resolved', () => {
    const firing = customNotification(chained({ kind: 'reading-pressure', status: 'firing', severity: 'warning' }));
    const resolved = customNotification(chained({ kind: 'reading-pressure', status: 'resolved', severity: 'warning' }));
    expect(resolved.metadata.threadId).toBe(firing.metadata.threadId);
    expect(firing.content.title).toMatch(/^🟠 /);
    expect(resolved.content.title).toMatch(/^✅ Resolved: /);
    expect(resolved.content.keywords).toEqual(['reading-pressure', 'eu-west-1', 'warning', 'resolved']);
  });

  it('refuses what SNS refuses for MessageStructure json, naming it, and delivers nothing', async () => {
    expect(await publish('not json')).toBe(
      'InvalidParameterException: Invalid parameter: Message Reason: Message Structure - JSON message body failed to parse',
    );
    expect(await publish('["default"]')).toMatch(/failed to parse$/);
    expect(await publish('"default"')).toMatch(/failed to parse$/);
    expect(await publish('{"email":"x"}')).toMatch(/No default entry in JSON message body$/);
    expect(await publish('{"default":1}')).toMatch(/No default entry in JSON message body$/);
    expect(await publish('{"default":"a","email":{"text":"b"}}')).toMatch(/the value of "email" is not a string$/);
    expect(await publish('{"default":"a","email":"b","email":"c"}')).toMatch(/duplicate key "email"$/);
    expect(await publish('{"default":"a","slack":"b"}')).toMatch(/"slack" is not a transport protocol$/);
    expect(await publish('{"default":"\\ud800"}')).toMatch(/"default" is not UTF-8$/);
    expect(await publish('{"default":"a"}', { MessageStructure: 'xml' })).toBe(
      'InvalidParameterException: Invalid parameter: MessageStructure',
    );
    // The whole JSON counts toward the 256 KB, as does every attribute.
    const big = 'é'.repeat(131_062); // 262,124 bytes: with `{"default":""}` (14 bytes) 262,138, 6 to spare
    expect(await publish(JSON.stringify({ default: big }))).toBe('accepted');
    expect(
      await publish(JSON.stringify({ default: big }), {
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'scaled' } },
      }),
    ).toMatch(/Message too long: 262154 bytes with attributes/);
    // An empty value is allowed ("Values have a minimum length of 0"); nested keys may repeat.
    expect(await publish('{"default":"","https":"{\\"a\\":{\\"x\\":1},\\"b\\":{\\"x\\":2}}"}')).toBe('accepted');
    expect(state.messages.map((m) => Object.keys(m.structure ?? {}))).toEqual([['default'], ['default', 'https']]);
  });

  it('the custom-notification check refuses what chat would drop or cut', () => {
    const good = customNotification(chained());
    const text = (change: (n: Record<string, any>) => void) => {
      const n = structuredClone(good) as Record<string, any>;
      change(n);
      return checkCustomNotification(JSON.stringify(n));
    };
    expect(text(() => undefined)).toBeNull();
    expect(text((n) => (n.version = '2.0'))).toBe('version: must be "1.0"');
    expect(text((n) => delete n.source)).toBe('source: must be "custom"');
    expect(text((n) => (n.content.textType = 'markdown'))).toMatch(/^content\.textType/);
    expect(text((n) => (n.content.description = ''))).toBe('content.description: missing or empty');
    expect(text((n) => (n.content.description = 'x'.repeat(3_001)))).toMatch(/more than 3000$/);
    expect(text((n) => (n.content.title = 'x'.repeat(151)))).toMatch(/^content\.title/);
    expect(text((n) => (n.content.keywords = ['a', 2]))).toBe('content.keywords: not an array of strings');
    expect(text((n) => (n.content.nextSteps = ['1', '2', '3', '4', '5', '6']))).toMatch(/6 items/);
    expect(text((n) => (n.metadata.additionalContext.count = 3))).toMatch(/^metadata\.additionalContext\.count/);
    expect(checkCustomNotification('[]')).toBe('not a JSON object');
  });

  it('hostile names and a huge summary still make a card within the limits, names in code spans', () => {
    const name = `a\`b<c>&d\n${'x'.repeat(400)}\u0000\ud800`;
    const n = customNotification(chained({ loadBalancer: name, az: name, summary: `${name} ${'→'.repeat(4000)}` }));
    expect(checkCustomNotification(JSON.stringify(n))).toBeNull();
    expect(n.content.title.length).toBeLessThanOrEqual(CHAT_LIMITS.titleChars);
    expect(n.content.description.length).toBeLessThanOrEqual(CHAT_LIMITS.descriptionChars);
    expect(n.content.description).not.toMatch(/[<>&\u0000]/);
    expect(n.content.description.isWellFormed()).toBe(true);
    // A command for an absurd name is cut with … rather than let the chat cut it.
    expect(n.content.nextSteps[0]).toMatch(/--lb 'a\?b\?c\?\?d x+…$/);
    expect(n.content.nextSteps.every((s) => s.length <= CHAT_LIMITS.nextStepChars)).toBe(true);
  });
});
