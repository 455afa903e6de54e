import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { allSinks, consoleSink, fileSink, snsSink } from '../../../shared/alerts/sinks';
import { snsClient } from '../../../shared/aws/sns';
import type { RecordDeps } from '../../../shared/cycle/record';
import { commitEvents } from '../../../shared/ledger/commit';
import { flushOutbox } from '../../../shared/ledger/flush';
import { makeEvent } from '../../../shared/detect/events';
import { localStore } from '../../../shared/store/local';
import { deliveredTo, startSnsEndpoint, type SnsState } from '../../../lab/sns/server';
import { startSilentServer } from '../../helpers/servers';
import { enforcePublishContract } from '../../helpers/sns-contract-mock';
import { listEvents } from '../../../shared/ledger/store';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:elbscope-alerts';
const scaled = (lb: string) =>
  makeEvent({
    kind: 'scaled',
    status: 'event',
    severity: 'info',
    loadBalancer: lb,
    az: 'us-east-1a',
    backend: null,
    from: 1,
    to: 3,
    at: '2026-11-25T10:02:00.000Z',
    summary: `${lb} us-east-1a scaled 1 → 3 nodes`,
    details: { direction: 'up' },
  });

function freshStore() {
  return localStore(mkdtempSync(join(tmpdir(), 'elbscope-outbox-')));
}

/** A clock the test moves. */
function clock(start: string) {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
}

describe('Outbox with SNS mocked (aws-sdk-client-mock), holding Publish to its documented contract', () => {
  const snsMock = mockClient(SNSClient);
  const sns = new SNSClient({ region: 'us-east-1', maxAttempts: 1 });
  beforeEach(() => snsMock.reset());
  afterAll(() => snsMock.restore()); // the mock patches every SNSClient; the next block uses a real one

  it('retries a transiently failed publish after a backoff: exactly one accepted publish per event', async () => {
    const accepted = enforcePublishContract(snsMock, {
      failNext: [{ code: 'InternalError', status: 500, message: 'Service Unavailable' }],
    });
    const store = freshStore();
    const t = clock('2026-11-25T10:02:30Z');
    const deps: RecordDeps = { store, sink: snsSink(sns, TOPIC), now: t.now, claimant: 'test' };
    const [event] = await commitEvents(store, 'test', () => [scaled('test')], { at: '2026-11-25T10:00:00.000Z' });
    const id = event?.id as string;

    expect(await flushOutbox(deps)).toEqual({
      published: [],
      undeliverable: [],
      waiting: [],
      rejected: [],
      failed: [
        {
          id,
          error: `SNS ${TOPIC}: InternalError: Service Unavailable`,
          attempts: 1,
          notBefore: '2026-11-25T10:03:30.000Z',
        },
      ],
    });
    expect(await flushOutbox(deps)).toMatchObject({ published: [], waiting: [id] }); // backing off: not tried again yet
    t.advance(60_000);
    expect(await flushOutbox(deps)).toMatchObject({ published: [id], failed: [] });
    expect(await flushOutbox(deps)).toEqual({
      published: [],
      failed: [],
      undeliverable: [],
      waiting: [],
      rejected: [],
    });

    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(2); // one failure, one success, nothing after
    expect(accepted).toEqual([
      expect.objectContaining({ TopicArn: TOPIC, Subject: 'elbscope: test us-east-1a scaled 1 -> 3 nodes' }),
    ]);
    expect((await listEvents(store, 'test'))[0]?.publishedAt).toBe('2026-11-25T10:03:30.000Z');
  });

  it('a retry after an SNS failure sends the event to SNS only: the console and file copies are not written again', async () => {
    const accepted = enforcePublishContract(snsMock, {
      failNext: [
        { code: 'InternalError', status: 500, message: 'Service Unavailable' },
        { code: 'Throttled', status: 429, message: 'Rate exceeded' },
      ],
    });
    const store = freshStore();
    const t = clock('2026-11-25T10:02:30Z');
    const consoleLines: string[] = [];
    const alertFile = join(mkdtempSync(join(tmpdir(), 'elbscope-alert-file-')), 'alerts.jsonl');
    const deps: RecordDeps = {
      store,
      sink: allSinks([consoleSink((l) => consoleLines.push(l)), fileSink(alertFile), snsSink(sns, TOPIC)]),
      now: t.now,
      claimant: 'test',
    };
    const [event] = await commitEvents(store, 'test', () => [scaled('test')], { at: '2026-11-25T10:00:00.000Z' });
    const id = event?.id as string;

    expect((await flushOutbox(deps)).failed.map((f) => f.id)).toEqual([id]);
    expect((await store.outbox({ op: 'list' }))[0]?.delivered).toEqual(['console', `file ${alertFile}`]);
    t.advance(60_000);
    expect((await flushOutbox(deps)).failed.map((f) => f.id)).toEqual([id]); // SNS fails again
    t.advance(120_000);
    expect((await flushOutbox(deps)).published).toEqual([id]);

    expect(consoleLines.filter((l) => l.includes('scaled 1'))).toHaveLength(1);
    expect(readFileSync(alertFile, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(3);
    expect(accepted).toHaveLength(1);
  });

  it('backs off 1, 2, 4 … minutes, at most 15, and never drops the event', async () => {
    const failNext = Array.from({ length: 7 }, () => ({ code: 'Throttled', status: 429, message: 'Rate exceeded' }));
    enforcePublishContract(snsMock, { failNext });
    const store = freshStore();
    const t = clock('2026-11-25T10:00:00Z');
    const deps: RecordDeps = { store, sink: snsSink(sns, TOPIC), now: t.now, claimant: 'test' };
    await commitEvents(store, 'test', () => [scaled('test')], { at: '2026-11-25T10:00:00.000Z' });
    const gaps: number[] = [];
    let last = t.now().getTime();
    for (let i = 0; i < 7; i++) {
      const r = await flushOutbox(deps);
      const next = Date.parse(r.failed[0]?.notBefore ?? '');
      gaps.push((next - last) / 60_000);
      t.advance(next - last);
      last = next;
    }
    expect(gaps).toEqual([1, 2, 4, 8, 15, 15, 15]);
    expect((await flushOutbox(deps)).published).toHaveLength(1);
  });

  it('marks a permanently refused alert undeliverable at once, with its reason, and never retries it', async () => {
    enforcePublishContract(snsMock, {
      failNext: [
        { code: 'AuthorizationError', status: 403, message: 'User is not authorized to perform: SNS:Publish' },
      ],
    });
    const store = freshStore();
    const warnings: string[] = [];
    const deps: RecordDeps = {
      store,
      sink: snsSink(sns, TOPIC),
      now: () => new Date('2026-11-25T10:02:30Z'),
      claimant: 'test',
      warn: (m) => warnings.push(m),
    };
    const [event] = await commitEvents(store, 'test', () => [scaled('test')], { at: '2026-11-25T10:00:00.000Z' });
    const reason = `SNS ${TOPIC}: AuthorizationErrorException: User is not authorized to perform: SNS:Publish`;
    expect(await flushOutbox(deps)).toEqual({
      published: [],
      failed: [],
      waiting: [],
      rejected: [],
      undeliverable: [{ id: event?.id, error: reason }],
    });
    expect(await flushOutbox(deps)).toEqual({
      published: [],
      failed: [],
      waiting: [],
      rejected: [],
      undeliverable: [],
    });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    expect(warnings).toHaveLength(1); // logged once
    expect(await listEvents(store, 'test')).toEqual([
      expect.objectContaining({ publishedAt: null, deliveryError: { at: '2026-11-25T10:02:30.000Z', error: reason } }),
    ]);
  });

  it('does not count an answer without a MessageId (a proxy page) as a delivery: transient, retried', async () => {
    snsMock.on(PublishCommand).resolves({});
    const store = freshStore();
    await commitEvents(store, 'test', () => [scaled('test')], { at: '2026-11-25T10:00:00.000Z' });
    const r = await flushOutbox({
      store,
      sink: snsSink(sns, TOPIC),
      now: () => new Date('2026-11-25T10:02:30Z'),
      claimant: 'x',
    });
    expect(r.failed).toEqual([
      expect.objectContaining({
        attempts: 1,
        error: `SNS ${TOPIC}: Error: Publish: HTTP ? answer has no MessageId: not an SNS Publish response`,
      }),
    ]);
    expect((await listEvents(store, 'test'))[0]?.publishedAt).toBeNull();
  });

  it('publishes on the next cycle, once, after a crash between storing and publishing', async () => {
    const accepted = enforcePublishContract(snsMock);
    const store = freshStore();
    const cycleAt = '2026-11-25T10:02:00.000Z';
    // Decides as recordCycle does: a cycle already recorded decides nothing.
    const decide = ({ meta }: { meta: { lastCycleAt: string | null } }) => {
      if (meta.lastCycleAt !== null && meta.lastCycleAt >= cycleAt) return [];
      meta.lastCycleAt = cycleAt;
      return [scaled('test')];
    };
    // The invocation that "crashed": the event is committed and stored, never published.
    const [event] = await commitEvents(store, 'test', decide, { at: '2026-11-25T10:00:00.000Z' });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
    // Lambda retries the same scheduled event: nothing new is decided, the stored event is published once.
    expect(await commitEvents(store, 'test', decide, { at: '2026-11-25T10:00:00.000Z' })).toEqual([]);
    const deps: RecordDeps = { store, sink: snsSink(sns, TOPIC), now: () => new Date(), claimant: 'next' };
    await flushOutbox(deps);
    await flushOutbox(deps);
    expect(accepted.map((input) => input.MessageAttributes?.eventId?.StringValue)).toEqual([event?.id]);
  });

  it('gives FIFO topics a deduplication id and an ordered group, also for a load balancer name no group id may hold', async () => {
    const accepted = enforcePublishContract(snsMock);
    const store = freshStore();
    const odd = 'shop – façade';
    const [a] = await commitEvents(store, 'test', () => [scaled('test')], { at: '2026-11-25T10:00:00.000Z' });
    const [b] = await commitEvents(store, odd, () => [scaled(odd)], { at: '2026-11-25T10:00:00.000Z' });
    const r = await flushOutbox({ store, sink: snsSink(sns, `${TOPIC}.fifo`), now: () => new Date(), claimant: 'x' });
    expect(r.undeliverable).toEqual([]);
    expect(accepted[0]).toMatchObject({ MessageDeduplicationId: a?.id, MessageGroupId: 'test' });
    expect(accepted[1]).toMatchObject({
      MessageDeduplicationId: b?.id,
      MessageGroupId: expect.stringMatching(/^lb-[0-9a-f]{40}$/),
    });
  });
});

describe('SNS through the real SDK to a local endpoint enforcing the Publish contract (AWS_ENDPOINT_URL_SNS)', () => {
  const state: SnsState = { messages: [], failNext: [], refused: [] };
  let endpoint: Awaited<ReturnType<typeof startSnsEndpoint>>;
  beforeAll(async () => {
    endpoint = await startSnsEndpoint(state);
    process.env.AWS_ENDPOINT_URL_SNS = endpoint.url;
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_SNS;
    await endpoint.close();
  });
  beforeEach(() => {
    state.messages.length = 0;
    state.refused!.length = 0;
    delete state.topics;
  });

  it('publishes an ASCII subject, the readable UTF-8 body with the event JSON, and filterable attributes', async () => {
    const sns = new SNSClient({ region: 'us-east-1' });
    const store = freshStore();
    state.failNext.push({ code: 'Throttling', status: 400, message: 'Rate exceeded' });
    const [event] = await commitEvents(store, 'test', () => [scaled('test')], { at: '2026-11-25T10:00:00.000Z' });
    const flushed = await flushOutbox({ store, sink: snsSink(sns, TOPIC), now: () => new Date(), claimant: 'x' });

    expect(flushed.failed).toEqual([]);
    expect(state.refused).toEqual([]);
    expect(state.messages).toHaveLength(1); // the SDK retried the throttled call once
    const [m] = state.messages;
    expect(m?.subject).toBe('elbscope: test us-east-1a scaled 1 -> 3 nodes');
    expect(m?.attributes).toEqual({
      loadBalancer: 'test',
      kind: 'scaled',
      severity: 'info',
      status: 'event',
      eventId: event?.id,
      az: 'us-east-1a',
      chainHead: `${event?.seq}:${event?.hash}`,
    });
    // MessageStructure json: an e-mail subscriber gets the readable text, then the event's JSON.
    const email = deliveredTo(m!, 'email');
    expect(email).toMatch(/^test us-east-1a scaled 1 → 3 nodes\n/);
    expect(JSON.parse(email.split('--- event (JSON) ---\n')[1] ?? '')).toMatchObject({
      id: event?.id,
      seq: 1,
      kind: 'scaled',
      from: 1,
      to: 3,
    });
    expect((await listEvents(store, 'test'))[0]?.publishedAt).not.toBeNull();
    sns.destroy();
  });

  it('refuses what SNS refuses: the endpoint answers 400 InvalidParameter naming the parameter, and the SDK raises it', async () => {
    const sns = new SNSClient({ region: 'us-east-1', maxAttempts: 1 });
    const publish = (input: Record<string, unknown>) =>
      sns.send(new PublishCommand({ TopicArn: TOPIC, Message: 'm', ...input })).then(
        () => 'accepted',
        (e: any) => `${e.name} ${e.$metadata?.httpStatusCode}: ${e.message}`,
      );
    expect(await publish({ Subject: 'elbscope: a → b' })).toBe(
      'InvalidParameterException 400: Invalid parameter: Subject',
    );
    expect(await publish({ Subject: 'x'.repeat(100) })).toBe(
      'InvalidParameterException 400: Invalid parameter: Subject',
    );
    expect(await publish({ Subject: ' leading space' })).toBe(
      'InvalidParameterException 400: Invalid parameter: Subject',
    );
    expect(await publish({ Subject: 'two\nlines' })).toBe('InvalidParameterException 400: Invalid parameter: Subject');
    expect(await publish({ Subject: 'x'.repeat(99) })).toBe('accepted');
    expect(await publish({ Message: 'é'.repeat(131_072) })).toBe('accepted'); // 262,144 bytes exactly
    expect(await publish({ Message: `${'é'.repeat(131_072)}x` })).toMatch(
      /^InvalidParameterException 400: Invalid parameter: Message Reason: Message too long/,
    );
    expect(await publish({ MessageAttributes: { az: { DataType: 'String', StringValue: '' } } })).toMatch(
      /^InvalidParameterValueException 400: .*non-empty/,
    );
    expect(
      await publish({
        MessageAttributes: Object.fromEntries(
          Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }]),
        ),
      }),
    ).toMatch(/^InvalidParameterException 400: Invalid parameter: MessageAttributes/);
    expect(await publish({ MessageAttributes: { 'AWS.x': { DataType: 'String', StringValue: 'v' } } })).toMatch(
      /^InvalidParameterValueException 400: The message attribute name 'AWS.x' is invalid/,
    );
    expect(await publish({ MessageDeduplicationId: 'abc' })).toMatch(
      /^InvalidParameterException 400: Invalid parameter: MessageDeduplicationId/,
    );
    expect(await publish({ TopicArn: `${TOPIC}.fifo`, MessageDeduplicationId: 'abc' })).toMatch(
      /^InvalidParameterException 400: Invalid parameter: MessageGroupId/,
    );
    expect(await publish({ TopicArn: `${TOPIC}.fifo`, MessageGroupId: 'g' })).toMatch(
      /^InvalidParameterException 400: Invalid parameter: MessageDeduplicationId/,
    );
    expect(await publish({ TopicArn: `${TOPIC}.fifo`, MessageGroupId: 'g', MessageDeduplicationId: 'ü' })).toMatch(
      /^InvalidParameterException 400: Invalid parameter: MessageDeduplicationId/,
    );
    state.topics = new Set([TOPIC]);
    expect(await publish({ TopicArn: `${TOPIC}-gone` })).toBe('NotFoundException 404: Topic does not exist');
    expect(state.messages.map((m) => m.message.length)).toEqual([1, 131_072]);
    sns.destroy();
  });

  it('gives up on a Publish that never answers at its deadline: a transient failure, retried later, nothing lost', async () => {
    const silent = await startSilentServer();
    const saved = process.env.AWS_ENDPOINT_URL_SNS;
    process.env.AWS_ENDPOINT_URL_SNS = silent.url;
    try {
      const client = snsClient(TOPIC, { connectionTimeoutMs: 500, requestTimeoutMs: 300 });
      const store = freshStore();
      await commitEvents(store, 'test', () => [scaled('test')], { at: '2026-11-25T10:00:00.000Z' });
      const r = await flushOutbox({
        store,
        sink: snsSink(client, TOPIC),
        now: () => new Date('2026-11-25T10:02:30Z'),
        claimant: 'x',
      });
      expect(r.published).toEqual([]);
      expect(r.failed).toEqual([
        expect.objectContaining({
          attempts: 1,
          error: expect.stringMatching(/^SNS arn:\S+: ETIMEDOUT: .*exceeded the configured 300 ms requestTimeout/),
        }),
      ]);
      expect((await store.outbox({ op: 'list' })).map((e) => e.attempts)).toEqual([1]);
      client.destroy();
    } finally {
      process.env.AWS_ENDPOINT_URL_SNS = saved;
      await silent.close();
    }
  });

  it('delivers a FIFO duplicate (same deduplication id within 5 minutes) once, as SNS does', async () => {
    const sns = new SNSClient({ region: 'us-east-1' });
    const send = () =>
      sns.send(
        new PublishCommand({
          TopicArn: `${TOPIC}.fifo`,
          Message: 'm',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd1',
        }),
      );
    await send();
    await send();
    expect(state.messages).toHaveLength(1);
    sns.destroy();
  });
});
