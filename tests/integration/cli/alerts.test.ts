import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snsSink } from '../../../shared/alerts/sinks';
import { snsClient } from '../../../shared/aws/sns';
import { commitEvents } from '../../../shared/ledger/commit';
import { flushOutbox } from '../../../shared/ledger/flush';
import { makeEvent } from '../../../shared/detect/events';
import { localStore } from '../../../shared/store/local';
import { startSnsEndpoint, type SnsState } from '../../../lab/sns/server';
import { runElbscope } from '../../helpers/cli';
import { listEvents } from '../../../shared/ledger/store';

// alert-test, events --undelivered and redeliver as a user runs them, against a
// local SNS endpoint that holds Publish to its documented contract and knows one topic.
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:elbscope-alerts';
const GONE = 'arn:aws:sns:us-east-1:123456789012:deleted-topic';
const sns: SnsState = { messages: [], failNext: [], refused: [], topics: new Set([TOPIC]) };
const dir = mkdtempSync(join(tmpdir(), 'elbscope-alerts-'));
let endpoint: Awaited<ReturnType<typeof startSnsEndpoint>>;
let env: Record<string, string>;
let refusedId: string;

beforeAll(async () => {
  endpoint = await startSnsEndpoint(sns);
  env = { AWS_ENDPOINT_URL_SNS: endpoint.url };
  // A cycle that decided one event while the configured topic had been deleted.
  const store = localStore(dir);
  const [event] = await commitEvents(
    store,
    'web',
    () => [
      makeEvent({
        kind: 'scaled',
        status: 'event',
        severity: 'info',
        loadBalancer: 'web',
        az: 'us-east-1a',
        backend: null,
        from: 1,
        to: 3,
        at: '2026-11-25T10:02:00.000Z',
        summary: 'web us-east-1a scaled 1 → 3 nodes',
        details: {},
      }),
    ],
    { at: '2026-11-25T10:00:00.000Z' },
  );
  refusedId = event!.id;
  process.env.AWS_ENDPOINT_URL_SNS = endpoint.url;
  const client = snsClient(GONE);
  const flushed = await flushOutbox({
    store,
    sink: snsSink(client, GONE),
    now: () => new Date('2026-11-25T10:02:30Z'),
    claimant: 'test',
  });
  client.destroy();
  delete process.env.AWS_ENDPOINT_URL_SNS;
  expect(flushed.undeliverable).toHaveLength(1);
});
afterAll(() => endpoint.close());

describe('Commands: alert-test, events --undelivered, redeliver', () => {
  it('events --undelivered lists the refused alert with its reason; --json has deliveryError beside published', async () => {
    const text = await runElbscope(['events', '--store', dir, '--undelivered']);
    expect(text.code).toBe(0);
    expect(text.stdout.trim()).toBe(
      `2026-11-25T10:02:00.000Z  #1  web us-east-1a scaled 1 → 3 nodes  [undeliverable since 2026-11-25T10:02:30.000Z: SNS ${GONE}: NotFoundException: Topic does not exist; id ${refusedId}]`,
    );
    const json = JSON.parse((await runElbscope(['events', '--store', dir, '--json'])).stdout);
    expect(json).toEqual([
      expect.objectContaining({
        id: refusedId,
        published: null,
        deliveryError: {
          at: '2026-11-25T10:02:30.000Z',
          error: `SNS ${GONE}: NotFoundException: Topic does not exist`,
        },
      }),
    ]);
  });

  it('alert-test says which sink accepted the test alert (exit 0), and names a refusal (exit 1)', async () => {
    const ok = await runElbscope(['alert-test', '--sns-topic', TOPIC, '--store', dir], env);
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ALERT \S+ elbscope: alert test from elbscope alert-test on \S+ at \d{4}-/);
    expect(lines.slice(1)).toEqual([
      'console: accepted',
      expect.stringMatching(new RegExp(`^SNS ${TOPIC}: accepted \\(message id [0-9a-f-]{36}\\)$`)),
      `local store ${dir}: 1 undeliverable alert(s) (elbscope events --undelivered; elbscope redeliver --id ID), 0 waiting for a retry`,
    ]);
    expect(sns.messages.at(-1)?.attributes).toMatchObject({ kind: 'alert-test', loadBalancer: 'elbscope' });

    const refused = await runElbscope(['alert-test', '--sns-topic', GONE], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      `SNS ${GONE}: REFUSED: SNS ${GONE}: NotFoundException: Topic does not exist (a retry will not help`,
    );

    const local = await runElbscope(['alert-test'], env);
    expect(local.code).toBe(0);
    expect(local.stderr.trim()).toBe(
      'elbscope: alert-test: no SNS topic (--sns-topic, or alerts.snsTopicArn in --config): testing the local sinks only',
    );
    const bad = await runElbscope(['alert-test', '--sns-topic', 'arn:aws:sqs:us-east-1:123456789012:q'], env);
    expect([bad.code, bad.stderr.trim()]).toEqual([
      2,
      'elbscope: --sns-topic arn:aws:sqs:us-east-1:123456789012:q: not an SNS topic ARN',
    ]);
  });

  it('redeliver publishes the alert once the cause is fixed, exactly once', async () => {
    const before = sns.messages.length;
    const r = await runElbscope(['redeliver', '--id', refusedId, '--store', dir, '--sns-topic', TOPIC], env);
    expect([r.code, r.stdout.trim().split('\n').at(-1)]).toEqual([0, `${refusedId}: delivered`]);
    expect(sns.messages.slice(before).map((m) => [m.subject, m.attributes.eventId])).toEqual([
      ['elbscope: web us-east-1a scaled 1 -> 3 nodes', refusedId],
    ]);
    expect((await runElbscope(['events', '--store', dir, '--undelivered'])).stdout.trim()).toBe(
      `no undeliverable alerts in local store ${dir}`,
    );

    const again = await runElbscope(['redeliver', '--id', refusedId, '--store', dir, '--sns-topic', TOPIC], env);
    expect([again.code, again.stderr.trim()]).toEqual([
      2,
      expect.stringMatching(new RegExp(`^elbscope: --id ${refusedId}: published at \\S+; nothing to redeliver$`)),
    ]);
    const unknown = await runElbscope(['redeliver', '--id', 'nope', '--store', dir], env);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      2,
      `elbscope: --id nope: no such event in local store ${dir}`,
    ]);
    expect(sns.messages.length - before).toBe(1);
  });

  it('redeliver without a topic queues the alert for the monitor that owns the store', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'elbscope-alerts-'));
    const store = localStore(storeDir);
    const [event] = await commitEvents(
      store,
      'api',
      () => [
        makeEvent({
          kind: 'az-added',
          status: 'event',
          severity: 'info',
          loadBalancer: 'api',
          az: 'us-east-1b',
          backend: null,
          from: 0,
          to: 1,
          at: '2026-11-25T10:03:00.000Z',
          summary: 'api us-east-1b added with 1 node',
          details: {},
        }),
      ],
      { at: '2026-11-25T10:00:00.000Z' },
    );
    await store.outbox({
      op: 'undeliverable',
      record: event!,
      at: new Date('2026-11-25T10:03:30Z'),
      error: 'SNS x: AuthorizationErrorException: denied',
    });
    const r = await runElbscope(['redeliver', '--id', event!.id, '--store', storeDir]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(
      `${event!.id} queued again in local store ${storeDir}: the next cycle of the monitor using this store publishes it (give --sns-topic to publish it now)`,
    );
    expect((await store.outbox({ op: 'list' })).map((e) => e.record.id)).toEqual([event!.id]);
    expect((await listEvents(store, 'api'))[0]?.deliveryError).toBeNull();
  });
});
