import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { snsSink } from '../../../shared/alerts/sinks';
import { commitEvents, flushOutbox, type RecordDeps } from '../../../shared/cycle/record';
import { makeEvent } from '../../../shared/detect/events';
import { LocalStore } from '../../../shared/store/local';
import { startSnsEndpoint, type SnsState } from '../../../lab/sns/server';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:elbscope-alerts';
const scaled = (lb: string) =>
  makeEvent({ kind: 'scaled', status: 'event', severity: 'info', loadBalancer: lb, az: 'us-east-1a', backend: null, from: 1, to: 3, at: '2026-11-25T10:02:00.000Z', summary: `${lb} us-east-1a scaled 1 → 3 nodes`, details: { direction: 'up' } });

function localStore() {
  return new LocalStore(mkdtempSync(join(tmpdir(), 'elbscope-outbox-')));
}

describe('Outbox with SNS mocked (aws-sdk-client-mock)', () => {
  const snsMock = mockClient(SNSClient);
  const sns = new SNSClient({ region: 'us-east-1', maxAttempts: 1 });
  beforeEach(() => snsMock.reset());
  afterAll(() => snsMock.restore()); // the mock patches every SNSClient; the next block uses a real one

  it('retries a failed publish on the next cycle: exactly one publish per event', async () => {
    snsMock.on(PublishCommand).rejectsOnce(new Error('Service Unavailable')).resolves({ MessageId: 'm-1' });
    const store = localStore();
    const deps: RecordDeps = { store, sink: snsSink(sns, TOPIC), now: () => new Date('2026-11-25T10:02:30Z'), claimant: 'test' };
    const [event] = await commitEvents(store, 'test', () => [scaled('test')]);

    expect(await flushOutbox(deps)).toEqual({ published: [], failed: [{ id: event?.id, error: 'Error: Service Unavailable' }] });
    expect(await flushOutbox(deps)).toEqual({ published: [event?.id], failed: [] });
    expect(await flushOutbox(deps)).toEqual({ published: [], failed: [] });

    const calls = snsMock.commandCalls(PublishCommand);
    expect(calls).toHaveLength(2); // one failure, one success, nothing after
    expect(calls[1]?.args[0].input).toMatchObject({ TopicArn: TOPIC, Subject: 'elbscope: test us-east-1a scaled 1 → 3 nodes' });
    expect((await store.listEvents('test'))[0]?.publishedAt).toBe('2026-11-25T10:02:30.000Z');
  });

  it('publishes on the next cycle, once, after a crash between storing and publishing', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-2' });
    const store = localStore();
    const cycleAt = '2026-11-25T10:02:00.000Z';
    // Decides as recordCycle does: a cycle already recorded decides nothing.
    const decide = (state: { lastCycleAt: string | null }) => {
      if (state.lastCycleAt !== null && state.lastCycleAt >= cycleAt) return [];
      state.lastCycleAt = cycleAt;
      return [scaled('test')];
    };
    // The invocation that "crashed": the event is committed and stored, never published.
    const [event] = await commitEvents(store, 'test', decide);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
    // Lambda retries the same scheduled event: nothing new is decided, the stored event is published once.
    expect(await commitEvents(store, 'test', decide)).toEqual([]);
    const deps: RecordDeps = { store, sink: snsSink(sns, TOPIC), now: () => new Date(), claimant: 'next' };
    await flushOutbox(deps);
    await flushOutbox(deps);
    const ids = snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input.MessageAttributes?.eventId?.StringValue);
    expect(ids).toEqual([event?.id]);
  });

  it('gives FIFO topics a deduplication id and an ordered group', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-3' });
    const store = localStore();
    const [event] = await commitEvents(store, 'test', () => [scaled('test')]);
    await flushOutbox({ store, sink: snsSink(sns, `${TOPIC}.fifo`), now: () => new Date(), claimant: 'x' });
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input).toMatchObject({ MessageDeduplicationId: event?.id, MessageGroupId: 'test' });
  });
});

describe('SNS through the real SDK to a local endpoint (AWS_ENDPOINT_URL_SNS)', () => {
  const state: SnsState = { messages: [], failNext: [] };
  let endpoint: Awaited<ReturnType<typeof startSnsEndpoint>>;
  beforeAll(async () => {
    endpoint = await startSnsEndpoint(state);
    process.env.AWS_ENDPOINT_URL_SNS = endpoint.url;
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_SNS;
    await endpoint.close();
  });

  it('publishes subject, readable body with the event JSON, and filterable attributes', async () => {
    const sns = new SNSClient({ region: 'us-east-1' });
    const store = localStore();
    state.failNext.push({ code: 'Throttling', status: 400, message: 'Rate exceeded' });
    const [event] = await commitEvents(store, 'test', () => [scaled('test')]);
    const flushed = await flushOutbox({ store, sink: snsSink(sns, TOPIC), now: () => new Date(), claimant: 'x' });

    expect(flushed.failed).toEqual([]);
    expect(state.messages).toHaveLength(1); // the SDK retried the throttled call once
    const [m] = state.messages;
    expect(m?.subject).toBe('elbscope: test us-east-1a scaled 1 → 3 nodes');
    expect(m?.subject?.length).toBeLessThanOrEqual(100);
    expect(m?.attributes).toEqual({ loadBalancer: 'test', kind: 'scaled', severity: 'info', status: 'event', eventId: event?.id, az: 'us-east-1a' });
    expect(m?.message).toMatch(/^test us-east-1a scaled 1 → 3 nodes\n/);
    expect(JSON.parse(m?.message.split('--- event (JSON) ---\n')[1] ?? '')).toMatchObject({ id: event?.id, seq: 1, kind: 'scaled', from: 1, to: 3 });
    expect((await store.listEvents('test'))[0]?.publishedAt).not.toBeNull();
    sns.destroy();
  });
});
