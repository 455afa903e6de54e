import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { cloudWatchState, startCloudWatch, type RunningCloudWatch } from '../../lab/cloudwatch/server';
import type { GetMetricDataAnswer } from '../../lab/cloudwatch/contract';
import { createMetricsLookup, metricsOf, type MetricTarget } from '../../shared/capacity/cloudwatch';
import { MAX_METRIC_PAGES } from '../../shared/capacity/metric-answers';
import { MAX_ANSWER_BYTES } from '../../shared/aws/bounded-body';
import { requestHandlerWith, type Deadlines } from '../../shared/aws/deadlines';

// GetMetricData answers shaped the way broken proxies, partial outages and edge
// cases shape them, through the real SDK to the lab's CloudWatch: every target of
// the call gets one named error line, never points (a missing or doubled count
// would resolve a running spillover or raise a false one).
const START = Date.parse('2026-11-27T09:48:00Z');
const WINDOW = { start: new Date(START), end: new Date(START + 10 * 60_000) }; // 10 one-minute periods
const T = START / 1000; // epoch seconds, as the JSON protocol carries them
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

const targets: MetricTarget[] = [
  { key: 'classic', kind: 'classic', name: 'web' },
  {
    key: 'alb',
    kind: 'application',
    name: 'shop',
    arn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188',
  },
];
/** What the lab's CloudWatch holds: `[epoch ms, value]` per metric name; other metrics have no datapoints. */
const data: Record<string, [number, number][]> = {
  SpilloverCount: [
    [START + 60_000, 3],
    [START + 120_000, 4],
  ],
  SurgeQueueLength: [[START + 60_000, 700]],
  RequestCount: [[START, 1000]],
  ConsumedLCUs: [[START, 0.37]],
  PeakLCUs: [[START, 0.0125]], // LCUs are fractional, a Sum or a Maximum of them too
};

type Answer = GetMetricDataAnswer;
type Result = Answer['MetricDataResults'][number];
/** The Classic ELB's SpilloverCount result (its label is its metric's name; only Classic has it). */
const spill = (a: Answer): Result => a.MetricDataResults.find((r) => r.Label === 'SpilloverCount') as Result;
const mangle = (f: (a: Answer, r: Result) => unknown) => (a: Answer) => {
  const out = f(a, spill(a));
  return out === undefined ? a : out;
};
const pages = (...fs: ((a: Answer, r: Result) => unknown)[]) => fs.map(mangle);

/** A streamed answer of `n` datapoints under Id m0, 1,000 at a time: never whole in memory. */
function* hugeAnswer(n: number): Generator<string> {
  const block = (f: (i: number) => number) =>
    function* () {
      for (let i = 0; i < n; i += 1000)
        yield (i ? ',' : '') + Array.from({ length: Math.min(1000, n - i) }, (_, j) => f(i + j)).join(',');
    };
  yield '{"MetricDataResults":[{"Id":"m0","Label":"SpilloverCount","StatusCode":"Complete","Timestamps":[';
  yield* block((i) => T + i * 60)();
  yield '],"Values":[';
  yield* block((i) => 10_000 + (i % 1000))();
  yield ']}],"Messages":[]}';
}
const HUGE = 1_800_000;

type Setup = { rawNext?: typeof state.rawNext; mangleNext?: typeof state.mangleNext; deadlines?: Deadlines };
const SHORT: Deadlines = { connectionTimeoutMs: 1_000, requestTimeoutMs: 300 };
const cases: [string, Setup, RegExp][] = [
  // Which query a result answers
  [
    'a result under an Id not asked',
    { mangleNext: pages((_a, r) => void (r.Id = 'm999')) },
    /a result under an Id not asked: "m999"/,
  ],
  [
    'a result whose Id is markup and a newline',
    { mangleNext: pages((_a, r) => void (r.Id = '<script>x</script>\nnext')) },
    /a result under an Id not asked: "\?script\?x\?\/script\?\?next"/,
  ],
  [
    'a result with no Id',
    { mangleNext: pages((_a, r) => void delete (r as Partial<Result>).Id) },
    /a result under an Id not asked: "undefined"/,
  ],
  [
    'two results under one Id (a count doubled)',
    { mangleNext: pages((a, r) => void a.MetricDataResults.push(structuredClone(r))) },
    /SpilloverCount of web \(m\d+\): two results under one Id on one page/,
  ],
  [
    'a query with no result entry',
    { mangleNext: pages((a, r) => void a.MetricDataResults.splice(a.MetricDataResults.indexOf(r), 1)) },
    /SpilloverCount of web \(m\d+\): no result for it in the answer/,
  ],
  [
    'no results at all',
    { mangleNext: pages((a) => void (a.MetricDataResults = [])) },
    /no result for it in the answer/,
  ],
  ['no MetricDataResults', { mangleNext: pages(() => ({ Messages: [] })) }, /the answer has no MetricDataResults list/],
  // StatusCode and pages
  [
    'an unknown StatusCode',
    { mangleNext: pages((_a, r) => void ((r as { StatusCode: string }).StatusCode = 'Done')) },
    /SpilloverCount of web \(m\d+\): a StatusCode that is not one: "Done"/,
  ],
  [
    'no StatusCode',
    { mangleNext: pages((_a, r) => void delete (r as Partial<Result>).StatusCode) },
    /a StatusCode that is not one: "undefined"/,
  ],
  [
    'PartialData without a NextToken',
    { mangleNext: pages((_a, r) => void (r.StatusCode = 'PartialData')) },
    /SpilloverCount of web \(m\d+\): PartialData without a NextToken/,
  ],
  [
    'PartialData, then a last page without it',
    {
      mangleNext: pages(
        (a, r) => void ((r.StatusCode = 'PartialData'), (a.NextToken = 'p2')),
        (a, r) => void a.MetricDataResults.splice(a.MetricDataResults.indexOf(r), 1),
      ),
    },
    /SpilloverCount of web \(m\d+\): still PartialData when the pages ended/,
  ],
  [
    'a NextToken for ever',
    { mangleNext: Array.from({ length: MAX_METRIC_PAGES + 2 }, (_, i) => mangle((a) => void (a.NextToken = `t${i}`))) },
    new RegExp(`still paging after ${MAX_METRIC_PAGES} pages \\(MAX_METRIC_PAGES\\)`),
  ],
  [
    'the same NextToken again',
    { mangleNext: Array.from({ length: 3 }, () => mangle((a) => void (a.NextToken = 'again'))) },
    /NextToken repeated after 2 pages; stopped/,
  ],
  [
    'a second page that contradicts the first',
    {
      mangleNext: pages(
        (a) => void (a.NextToken = 'p2'),
        (_a, r) => void (r.Values[0] = 99),
      ),
    },
    /SpilloverCount of web \(m\d+\): two values at 2026-11-27T09:49:00.000Z \(3 and 99\)/,
  ],
  // Timestamps and Values
  [
    'Timestamps and Values of different lengths',
    { mangleNext: pages((_a, r) => void r.Values.pop()) },
    /SpilloverCount of web \(m\d+\): 2 Timestamps but 1 Values/,
  ],
  [
    'Values with no Timestamps',
    { mangleNext: pages((_a, r) => void delete (r as Partial<Result>).Timestamps) },
    /0 Timestamps but 2 Values/,
  ],
  [
    'Timestamps that are not a list',
    { mangleNext: pages((_a, r) => void ((r as unknown as { Timestamps: unknown }).Timestamps = { a: 1 })) },
    /Timestamps and Values must be lists/,
  ],
  [
    'more datapoints than the window has periods',
    {
      mangleNext: pages(
        (_a, r) =>
          void ((r.Timestamps = Array.from({ length: 11 }, (_, i) => T + i * 60)),
          (r.Values = r.Timestamps.map(() => 1))),
      ),
    },
    /11 datapoints, more than the 10 periods of the window asked/,
  ],
  [
    'two datapoints in one minute',
    { mangleNext: pages((_a, r) => void (r.Timestamps[1] = r.Timestamps[0] as number)) },
    /two datapoints at 2026-11-27T09:49:00.000Z/,
  ],
  [
    'a datapoint before the window',
    { mangleNext: pages((_a, r) => void (r.Timestamps[0] = T - 60)) },
    /a datapoint at 2026-11-27T09:47:00.000Z, outside the window asked/,
  ],
  [
    "a datapoint at the window's (exclusive) end",
    { mangleNext: pages((_a, r) => void (r.Timestamps[1] = T + 600)) },
    /a datapoint at 2026-11-27T09:58:00.000Z, outside the window asked/,
  ],
  [
    'a datapoint in the future',
    { mangleNext: pages((_a, r) => void (r.Timestamps[1] = T + 86_400)) },
    /outside the window asked/,
  ],
  [
    'a datapoint off the minute',
    { mangleNext: pages((_a, r) => void (r.Timestamps[0] = T + 90)) },
    /a datapoint at 2026-11-27T09:49:30.000Z, not on a 60 s period boundary/,
  ],
  [
    'a timestamp that is no time (1e20 seconds)',
    { mangleNext: pages((_a, r) => void (r.Timestamps[0] = 1e20)) },
    /a timestamp that is not one/,
  ],
  // Values
  [
    'a surge queue beyond its 1,024',
    {
      mangleNext: [
        (a: Answer) => (
          ((a.MetricDataResults.find((r) => r.Label === 'SurgeQueueLength') as Result).Values[0] = 5000), a
        ),
      ],
    },
    /SurgeQueueLength of web \(m\d+\): 5000 queued at 2026-11-27T09:49:00.000Z, beyond the surge queue's 1024/,
  ],
  [
    'a negative count',
    { mangleNext: pages((_a, r) => void (r.Values[0] = -3)) },
    /SpilloverCount of web \(m\d+\): a negative value at 2026-11-27T09:49:00.000Z: -3/,
  ],
  [
    'NaN (as the JSON protocol writes it)',
    { mangleNext: pages((_a, r) => void ((r.Values as unknown[])[0] = 'NaN')) },
    /a value that is not a finite number at 2026-11-27T09:49:00.000Z: "NaN"/,
  ],
  [
    'Infinity (as the JSON protocol writes it)',
    { mangleNext: pages((_a, r) => void ((r.Values as unknown[])[0] = 'Infinity')) },
    /a value that is not a finite number at .*: "Infinity"/,
  ],
  [
    'a number beyond a double (1e400)',
    { mangleNext: pages((a) => JSON.stringify(a).replace(/"Values":\[3,/, '"Values":[1e400,')) },
    /a value that is not a finite number at .*: "Infinity"/,
  ],
  [
    '1e20 requests dropped',
    { mangleNext: pages((_a, r) => void (r.Values[0] = 1e20)) },
    /a value beyond any count at 2026-11-27T09:49:00.000Z: 100000000000000000000/,
  ],
  [
    'a fraction of a dropped request',
    { mangleNext: pages((_a, r) => void (r.Values[0] = 2.5)) },
    /a Sum of a count that is not a whole number at .*: 2.5/,
  ],
  [
    'a value that is text',
    { mangleNext: pages((_a, r) => void ((r.Values as unknown[])[0] = '<b>3</b>')) },
    /a value that is not a finite number at .*: "\?b\?3\?\/b\?"/,
  ],
  // Bytes and time
  [
    `1.8 million datapoints (more than MAX_ANSWER_BYTES)`,
    { rawNext: [{ status: 200, stream: () => hugeAnswer(HUGE) }] },
    /AnswerTooLarge: the answer is larger than MAX_ANSWER_BYTES \(8 MiB\); stopped reading at \d+ bytes/,
  ],
  [
    'a Content-Length beyond MAX_ANSWER_BYTES',
    { rawNext: [{ status: 200, body: '{}', headers: { 'content-length': String(64 * 1024 * 1024) } }] },
    /AnswerTooLarge: the answer announces 67108864 bytes \(Content-Length\), more than MAX_ANSWER_BYTES \(8 MiB\); not read/,
  ],
  [
    'accepted, never answered',
    { rawNext: [{ hang: 'before-headers' }], deadlines: SHORT },
    /ETIMEDOUT: .*exceeded the configured 300 ms requestTimeout/,
  ],
  [
    'headers, then a body that never ends',
    { rawNext: [{ hang: 'mid-body' }], deadlines: SHORT },
    /ETIMEDOUT: the answer's body was still arriving after the 300 ms requestTimeout; stopped/,
  ],
];

const state = cloudWatchState((q) =>
  (data[q.metricName] ?? []).filter(
    () => q.dimensions.LoadBalancerName === 'web' || q.dimensions.LoadBalancer === 'app/shop/50dc6c495c0c9188',
  ),
);
let endpoint: RunningCloudWatch;
beforeAll(async () => {
  endpoint = await startCloudWatch(state);
});
afterAll(async () => {
  await endpoint.close();
});
beforeEach(() => {
  state.rawNext = [];
  state.mangleNext = [];
  state.requests = [];
  state.streamedBytes = 0;
});

/** The lookup through the real SDK client, its production request handler, one attempt. */
async function read(deadlines?: Deadlines) {
  const client = new CloudWatchClient({
    region: 'us-east-1',
    endpoint: endpoint.url,
    maxAttempts: 1,
    requestHandler: requestHandlerWith(deadlines),
  });
  try {
    return await createMetricsLookup(client)(targets, WINDOW);
  } finally {
    client.destroy();
  }
}

describe(`Hostile GetMetricData answers (${cases.length} cases): every target of the call an Error, named, one line`, () => {
  it.each(cases)(
    '%s',
    async (_label, setup, reason) => {
      state.rawNext = setup.rawNext ?? [];
      state.mangleNext = setup.mangleNext ?? [];
      const found = await read(setup.deadlines);
      for (const t of targets) {
        const got = found.get(t.key);
        expect(got, `${t.key}: ${JSON.stringify(got)}`).toBeInstanceOf(Error);
        const message = (got as Error).message;
        expect(message).toMatch(/^CloudWatch GetMetricData: /);
        expect(message).toMatch(reason);
        expect(message.length).toBeLessThanOrEqual(500);
        expect(message).not.toMatch(/[\n<>]/);
      }
      expect(state.refused).toEqual([]);
    },
    20_000,
  );

  it('the huge answer is let go at the bound: read no further than it, and the lab stops sending', async () => {
    let whole = 0;
    for (const chunk of hugeAnswer(HUGE)) whole += chunk.length;
    state.rawNext = [{ status: 200, stream: () => hugeAnswer(HUGE) }];
    const found = await read();
    const readBytes = Number(/stopped reading at (\d+) bytes/.exec((found.get('classic') as Error).message)?.[1]);
    expect(readBytes).toBeGreaterThan(MAX_ANSWER_BYTES);
    expect(readBytes).toBeLessThanOrEqual(MAX_ANSWER_BYTES + 64 * 1024); // one socket read past it, no more
    expect(state.streamedBytes).toBeLessThan(whole); // the connection was dropped, not drained
  }, 20_000);
});

describe('Well-formed GetMetricData answers are read', () => {
  const expected = (kind: MetricTarget['kind']) =>
    Object.fromEntries(
      metricsOf(kind).map((m) => [m.name, (data[m.name] ?? []).map(([t, v]) => [new Date(t).toISOString(), v])]),
    );

  it('every metric, fractional LCUs too; a metric reported with no datapoints is an empty list (the only read as 0)', async () => {
    const found = await read();
    expect(found.get('classic')).toEqual(expected('classic'));
    expect(found.get('alb')).toEqual(expected('application'));
    expect(Object.values(found.get('classic') as object).some((points) => (points as unknown[]).length === 0)).toBe(
      true,
    );
  });

  it('over pages: PartialData with a NextToken, the rest (and a repeat of what was sent) on the next page', async () => {
    state.mangleNext = pages(
      (a, r) => void ((r.StatusCode = 'PartialData'), r.Timestamps.splice(1), r.Values.splice(1), (a.NextToken = 'p2')),
      (_a, r) => void (r.Timestamps.splice(0, 1), r.Values.splice(0, 1)), // the others repeated as they were
    );
    const found = await read();
    expect(state.requests.map((r) => r.NextToken)).toEqual([undefined, 'p2']);
    expect((found.get('classic') as Record<string, unknown>).SpilloverCount).toEqual([
      [iso(T + 60), 3],
      [iso(T + 120), 4],
    ]);
    expect(found.get('classic')).toEqual(expected('classic'));
    expect(found.get('alb')).toEqual(expected('application'));
  });

  it('a query CloudWatch refused (Forbidden) fails its own target, named; the other target is read', async () => {
    state.mangleNext = pages(
      (_a, r) =>
        void Object.assign(r, {
          StatusCode: 'Forbidden',
          Timestamps: [],
          Values: [],
          Messages: [{ Code: 'Forbidden', Value: '<b>denied</b>\nby policy' }],
        }),
    );
    const found = await read();
    expect((found.get('classic') as Error).message).toMatch(
      /^CloudWatch GetMetricData: SpilloverCount of web \(m\d+\): Forbidden "\?b\?denied\?\/b\?\?by policy"$/,
    );
    expect(found.get('alb')).toEqual(expected('application'));
  });
});
