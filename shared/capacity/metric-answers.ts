/**
 * GetMetricData answers, checked before they become data. The rules are the
 * model's (@aws-sdk/client-cloudwatch MetricDataResult, GetMetricDataOutput) and
 * their documented meaning:
 *  [G] Amazon CloudWatch API Reference, GetMetricData:
 *      https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
 *  [R] MetricDataResult (same reference); [S] MetricStat.
 *  [E] the ELB metrics' pages (Classic, ALB, NLB "CloudWatch metrics"): every metric
 *      elbscope reads is a count, a byte count or LCUs, never negative.
 * The SDK checks none of this (a Values entry "abc" or a Timestamps object reach
 * the caller as they were sent), so every member is checked for its type too.
 * Anything wrong makes the whole call's answer broken: a partial read is never data.
 */

/** One query of a call, as asked. */
export interface AskedQuery {
  id: string;
  metric: string;
  stat: string;
  periodSeconds: number;
  /** How an error names it, e.g. `SpilloverCount of web`. */
  label: string;
}

/**
 * A query's outcome: its datapoints `[epoch ms, value]` (oldest first; [] = reported none), or CloudWatch's refusal of
 * it.
 */
export type QueryOutcome = { points: [number, number][] } | { refused: string };

/**
 * Pages of one call read at most. [G] a page holds up to MaxDatapoints (default
 * 100,800) datapoints; elbscope's 500 queries × the window's minutes fit in one, so
 * 20 is far more than any real answer, and an endless NextToken stops here.
 */
export const MAX_METRIC_PAGES = 20;

/** [R] StatusCode: "Complete | InternalError | PartialData | Forbidden". */
const STATUS_CODES = new Set(['Complete', 'PartialData', 'InternalError', 'Forbidden']);

/**
 * [E] Whole counts (requests, connections, flows, resets, bytes): a Sum of them is a
 * whole number. LCUs are fractional, an Average is fractional: not held to it.
 */
const WHOLE_COUNT = /(Count|Bytes)$|^HTTPCode_/;

/** The answer is not what CloudWatch documents; the message names what was wrong. */
export class BrokenMetricAnswerError extends Error {
  override name = 'BrokenAnswer';
}

const broken = (message: string) => new BrokenMetricAnswerError(message);

/** Text from the answer, safe to put in an error line: no markup, no control characters, short. */
function quoted(value: unknown, max = 40): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const safe = text.slice(0, max).replace(/[^\w .:/+@=-]/g, '?');
  return `"${safe}${text.length > max ? '…' : ''}"`;
}

/**
 * The pages of one GetMetricData call, read in order: `page` checks one and
 * keeps its datapoints (throws BrokenMetricAnswerError at the first thing wrong),
 * `finish` checks that every query was answered in full and gives each one's outcome.
 */
export class MetricAnswerReader {
  readonly #asked: Map<string, AskedQuery>;
  readonly #got = new Map<string, { status: string; points: Map<number, number>; refused?: string }>();
  readonly #start: number;
  readonly #end: number;

  constructor(asked: readonly AskedQuery[], window: { start: Date; end: Date }) {
    this.#asked = new Map(asked.map((q) => [q.id, q]));
    // [G] StartTime "is inclusive"; "Start time less than 15 days ago - Round down to the nearest whole minute".
    this.#start = Math.floor(window.start.getTime() / 60_000) * 60_000;
    // [G] EndTime "is exclusive; results include data points up to the specified time stamp".
    this.#end = window.end.getTime();
  }

  /** Check one page and keep its datapoints; its NextToken (undefined: the last page). */
  page(answer: { MetricDataResults?: unknown; NextToken?: unknown }): string | undefined {
    const results = answer.MetricDataResults;
    if (!Array.isArray(results)) throw broken("the answer has no MetricDataResults list: not that API's response");
    if (answer.NextToken !== undefined && typeof answer.NextToken !== 'string')
      throw broken(`a NextToken that is not a string: ${quoted(answer.NextToken)}`);
    const token = answer.NextToken === '' ? undefined : answer.NextToken;
    const onThisPage = new Set<string>();
    for (const result of results as unknown[]) {
      const r = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
      // [R] Id: "The short name you specified to represent this metric": another is no answer to this call.
      const q = typeof r.Id === 'string' ? this.#asked.get(r.Id) : undefined;
      if (!q) throw broken(`a result under an Id not asked: ${quoted(r.Id)}`);
      const name = `${q.label} (${q.id})`;
      // One result per query Id on a page: two could not be told apart (a count would be doubled).
      if (onThisPage.has(q.id)) throw broken(`${name}: two results under one Id on one page`);
      onThisPage.add(q.id);
      if (typeof r.StatusCode !== 'string' || !STATUS_CODES.has(r.StatusCode))
        throw broken(`${name}: a StatusCode that is not one: ${quoted(r.StatusCode)}`);
      // [R] "PartialData means that an incomplete set of data points were returned. You can use the NextToken
      // value that was returned and repeat your request": without one, the rest can never be read.
      if (r.StatusCode === 'PartialData' && token === undefined) {
        throw broken(`${name}: PartialData without a NextToken (the rest of its datapoints cannot be asked for)`);
      }
      const got = this.#got.get(q.id) ?? { status: r.StatusCode, points: new Map<number, number>() };
      this.#got.set(q.id, got);
      got.status = r.StatusCode;
      if (r.StatusCode === 'Forbidden' || r.StatusCode === 'InternalError') {
        const message = Array.isArray(r.Messages)
          ? (r.Messages[0] as { Value?: unknown } | undefined)?.Value
          : undefined;
        got.refused = `${r.StatusCode}${typeof message === 'string' && message !== '' ? ` ${quoted(message, 200)}` : ''}`;
        continue;
      }
      this.#points(q, name, r.Timestamps, r.Values, got.points);
    }
    return token;
  }

  /** After the last page: every query answered in full, or BrokenMetricAnswerError. */
  finish(): Map<string, QueryOutcome> {
    const out = new Map<string, QueryOutcome>();
    for (const q of this.#asked.values()) {
      const got = this.#got.get(q.id);
      // A query with no result at all is missing, never "no datapoints" (which reads as 0).
      if (!got) throw broken(`${q.label} (${q.id}): no result for it in the answer`);
      if (got.status === 'PartialData') throw broken(`${q.label} (${q.id}): still PartialData when the pages ended`);
      out.set(
        q.id,
        got.refused !== undefined ? { refused: got.refused } : { points: [...got.points].sort((a, b) => a[0] - b[0]) },
      );
    }
    return out;
  }

  #points(q: AskedQuery, name: string, timestamps: unknown, values: unknown, kept: Map<number, number>): void {
    const times = timestamps ?? [];
    const vals = values ?? [];
    if (!Array.isArray(times) || !Array.isArray(vals)) throw broken(`${name}: Timestamps and Values must be lists`);
    // [R] "The number of timestamps always matches the number of values and the value for Timestamps[x] is Values[x]."
    if (times.length !== vals.length) throw broken(`${name}: ${times.length} Timestamps but ${vals.length} Values`);
    // [S] Period: "The granularity, in seconds, of the returned data points": one per period at most.
    const periodMs = q.periodSeconds * 1000;
    const periods = Math.ceil((this.#end - this.#start) / periodMs);
    if (times.length > periods)
      throw broken(`${name}: ${times.length} datapoints, more than the ${periods} periods of the window asked`);
    const onThisPage = new Set<number>();
    for (let i = 0; i < times.length; i++) {
      const time = times[i] as unknown;
      const value = vals[i] as unknown;
      const t = time instanceof Date ? time.getTime() : NaN;
      if (!Number.isFinite(t)) throw broken(`${name}: a timestamp that is not one: ${quoted(time)}`);
      const at = new Date(t).toISOString();
      if (t < this.#start || t >= this.#end) {
        throw broken(
          `${name}: a datapoint at ${at}, outside the window asked [${new Date(this.#start).toISOString()}, ${new Date(this.#end).toISOString()})`,
        );
      }
      if ((t - this.#start) % periodMs !== 0)
        throw broken(`${name}: a datapoint at ${at}, not on a ${q.periodSeconds} s period boundary`);
      if (onThisPage.has(t)) throw broken(`${name}: two datapoints at ${at}`);
      onThisPage.add(t);
      checkValue(q, name, at, value);
      const before = kept.get(t);
      // The same datapoint on two pages is kept once; two different values for one period cannot both be true.
      if (before !== undefined && before !== value)
        throw broken(`${name}: two values at ${at} (${before} and ${value as number})`);
      kept.set(t, value as number);
    }
  }
}

/**
 * [E] A datapoint of an ELB metric: a finite number, not negative, exact (below 2^53); a Sum of a whole count is whole.
 */
function checkValue(q: AskedQuery, name: string, at: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw broken(
      `${name}: a value that is not a finite number at ${at}: ${quoted(typeof value === 'number' ? String(value) : value)}`,
    );
  }
  if (value < 0) throw broken(`${name}: a negative value at ${at}: ${value} (ELB metrics are counts, bytes or LCUs)`);
  // No ELB metric reaches 2^53 in a period; beyond it a double is not an exact count.
  if (value > Number.MAX_SAFE_INTEGER)
    throw broken(`${name}: a value beyond any count at ${at}: ${value} (above 2^53, not exact)`);
  if (q.stat === 'Sum' && WHOLE_COUNT.test(q.metric) && !Number.isInteger(value))
    throw broken(`${name}: a Sum of a count that is not a whole number at ${at}: ${value}`);
  // "The maximum size of the surge queue is 1,024 requests" (Classic ELB CloudWatch metrics, SurgeQueueLength).
  if (q.metric === 'SurgeQueueLength' && value > SURGE_QUEUE_LIMIT)
    throw broken(`${name}: ${value} queued at ${at}, beyond the surge queue's ${SURGE_QUEUE_LIMIT}`);
}

/** A Classic ELB's surge queue holds at most this many requests (AWS). */
const SURGE_QUEUE_LIMIT = 1024;
