import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSnsEndpoint, type SnsState } from '../../lab/sns/server';
import { snsSink } from '../../shared/alerts/sinks';
import { snsClient } from '../../shared/aws/sns';
import { commitEvents } from '../../shared/ledger/commit';
import { flushOutbox } from '../../shared/ledger/flush';
import { makeEvent } from '../../shared/detect/events';
import { localStore } from '../../shared/store/local';
import { listEvents } from '../../shared/ledger/store';

// What SNS (or something in its place) may answer a Publish with, through the real
// SDK: each is published, retried with backoff (transient) or marked undeliverable
// once (permanent) — never dropped, never retried for ever every cycle.
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:elbscope-alerts';
const cases: [string, { code: string; status: number; message: string }, 'undeliverable' | 'retried'][] = [
  [
    'InvalidParameter (400)',
    { code: 'InvalidParameter', status: 400, message: 'Invalid parameter: Subject' },
    'undeliverable',
  ],
  [
    'ParameterValueInvalid (400)',
    { code: 'ParameterValueInvalid', status: 400, message: 'bad attribute' },
    'undeliverable',
  ],
  ['AuthorizationError (403)', { code: 'AuthorizationError', status: 403, message: 'not authorized' }, 'undeliverable'],
  ['NotFound (404)', { code: 'NotFound', status: 404, message: 'Topic does not exist' }, 'undeliverable'],
  ['KMSAccessDenied (400)', { code: 'KMSAccessDenied', status: 400, message: 'key' }, 'undeliverable'],
  ['KMSDisabled (400)', { code: 'KMSDisabled', status: 400, message: 'key' }, 'undeliverable'],
  ['KMSNotFound (400)', { code: 'KMSNotFound', status: 400, message: 'key' }, 'undeliverable'],
  ['InvalidSecurity (403)', { code: 'InvalidSecurity', status: 403, message: 'https only' }, 'undeliverable'],
  ['KMSThrottling (400)', { code: 'KMSThrottling', status: 400, message: 'slow' }, 'retried'],
  ['Throttled (429)', { code: 'Throttled', status: 429, message: 'Rate exceeded' }, 'retried'],
  ['InternalError (500)', { code: 'InternalError', status: 500, message: 'oops' }, 'retried'],
  ['an unknown 400', { code: 'SomethingNew', status: 400, message: '?' }, 'retried'],
  ['an unknown 503', { code: 'ServiceUnavailable', status: 503, message: '?' }, 'retried'],
];

const sns: SnsState = { messages: [], failNext: [], refused: [] };
let endpoint: Awaited<ReturnType<typeof startSnsEndpoint>>;
beforeAll(async () => {
  endpoint = await startSnsEndpoint(sns);
  process.env.AWS_ENDPOINT_URL_SNS = endpoint.url;
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_SNS;
  await endpoint.close();
});

describe(`Hostile SNS answers (${cases.length} cases)`, () => {
  it.each(cases)(
    '%s: %s',
    async (_label, failure, outcome) => {
      sns.failNext = Array.from({ length: 5 }, () => failure); // on every SDK attempt
      const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-hostile-sns-')));
      await commitEvents(
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
            to: 2,
            at: '2026-11-25T10:00:00.000Z',
            summary: 'web scaled',
            details: {},
          }),
        ],
        { at: '2026-11-25T10:00:00.000Z' },
      );
      const client = snsClient(TOPIC, { connectionTimeoutMs: 1000, requestTimeoutMs: 1000 });
      const deps = { store, sink: snsSink(client, TOPIC), now: () => new Date('2026-11-25T10:00:30Z'), claimant: 't' };
      const first = await flushOutbox(deps);
      const second = await flushOutbox(deps); // the next cycle, at once
      client.destroy();
      sns.failNext = [];
      const [stored] = await listEvents(store, 'web');
      if (outcome === 'undeliverable') {
        expect([first.undeliverable.length, second.undeliverable.length, second.failed.length]).toEqual([1, 0, 0]);
        expect(stored?.deliveryError?.error).toContain(failure.message);
      } else {
        expect([first.failed.length, second.waiting.length, stored?.deliveryError]).toEqual([1, 1, null]); // backing off, still queued
      }
      expect(stored?.publishedAt).toBeNull();
    },
    20_000,
  );
});
