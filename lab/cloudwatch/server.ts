import { createServer, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { closeHttp } from '../ports';
import type { AddressInfo } from 'node:net';
import { readBody } from '../http-body';
import {
  checkGetMetricData,
  type CloudWatchRefusal,
  type GetMetricDataAnswer,
  type GetMetricDataRequest,
} from './contract';

/** What a metric query asks the lab for: one metric's statistic per period over `[start, end)` (epoch ms). */
export interface MetricQuery {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  stat: string;
  period: number;
  start: number;
  end: number;
}

/** Datapoints `[period start (epoch ms), value]`; periods with no data are left out, as CloudWatch does. */
export type MetricSource = (query: MetricQuery) => [number, number][];

/**
 * An answer to send instead of the right one (hostile-endpoint tests):
 * - `body`: sent as is, with `headers` (a Content-Length that lies, …);
 * - `stream`: written chunk by chunk as the client reads it, never whole in memory (an answer of millions of
 * datapoints);
 *   it stops when the client lets go;
 * - `hang`: the request is accepted and never answered (`before-headers`), or answered with headers and a first
 *   byte of the body, then nothing (`mid-body`).
 */
type RawCloudWatchAnswer =
  | { status: number; body: string; headers?: Record<string, string> }
  | { status: number; stream: () => Iterable<string> }
  | { hang: 'before-headers' | 'mid-body' };

/** The endpoint's state: where its numbers come from, failures to serve first, and what it was asked. */
export interface CloudWatchState {
  source: MetricSource;
  /** Failures to answer with, one per request, before serving normally (a CloudWatch outage). */
  failNext: { code: string; status: number; message: string }[];
  /** Raw answers to send instead, one per request, before anything else (see RawCloudWatchAnswer). */
  rawNext: RawCloudWatchAnswer[];
  /**
   * Changes to the right answer, one per request served normally: each gets the answer the lab would send
   * (its own copy) and returns what to send instead: an object (sent as JSON), or a string (sent as is, e.g.
   * a number JSON cannot write from JavaScript, `1e400`).
   */
  mangleNext: ((answer: GetMetricDataAnswer, request: GetMetricDataRequest) => unknown)[];
  /** Bytes written by `stream` answers, for tests that the client stopped reading. */
  streamedBytes: number;
  requests: GetMetricDataRequest[];
  /** The access key that signed each request (an assumed role's key, or the caller's own). */
  signedBy: string[];
  refused: { request: GetMetricDataRequest; refusal: CloudWatchRefusal }[];
  /** Every datapoint served, per `namespace/metric/dimension value`, for tests to compare with. */
  served: Map<string, Map<number, number>>;
}

export interface RunningCloudWatch {
  /** `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_CLOUDWATCH`. */
  url: string;
  close(): Promise<void>;
}

/** A state serving `source`. */
export function cloudWatchState(source: MetricSource): CloudWatchState {
  return {
    source,
    failNext: [],
    rawNext: [],
    mangleNext: [],
    streamedBytes: 0,
    requests: [],
    signedBy: [],
    refused: [],
    served: new Map(),
  };
}

/**
 * A local CloudWatch endpoint for GetMetricData in the AWS JSON 1.0 protocol the
 * SDK speaks (`X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`), held to
 * the documented contract (lab/cloudwatch/contract.ts), answering from `source`.
 */
export async function startCloudWatch(state: CloudWatchState, host = '127.0.0.1'): Promise<RunningCloudWatch> {
  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    const reply = (status: number, body: unknown, error?: { code: string }) => {
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        ...(error ? { 'x-amzn-query-error': `${error.code};Sender` } : {}),
      });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const refuse = (r: { code: string; status: number; message: string }) =>
      reply(r.status, { __type: `com.amazonaws.monitoring#${r.code}`, message: r.message }, r);
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target !== 'GraniteServiceVersion20100801.GetMetricData')
      return refuse({
        code: 'InvalidAction',
        status: 400,
        message: `The action ${target || '(none)'} is not valid for this endpoint.`,
      });
    let request: GetMetricDataRequest;
    try {
      request = JSON.parse(text) as GetMetricDataRequest;
    } catch {
      return refuse({ code: 'SerializationException', status: 400, message: 'The request body is not JSON.' });
    }
    state.requests.push(request);
    state.signedBy.push(/Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '');
    const raw = state.rawNext.shift();
    if (raw) return sendRaw(res, raw, state);
    const failure = state.failNext.shift();
    if (failure) return refuse(failure);
    const refusal = checkGetMetricData(request);
    if (refusal) {
      state.refused.push({ request, refusal });
      return refuse(refusal);
    }
    const start = (request.StartTime as number) * 1000;
    const end = (request.EndTime as number) * 1000;
    const results = (request.MetricDataQueries ?? [])
      .filter((q) => q.ReturnData !== false && q.MetricStat)
      .map((q) => {
        const stat = q.MetricStat as NonNullable<typeof q.MetricStat>;
        const metric = stat.Metric as NonNullable<typeof stat.Metric>;
        const dimensions = Object.fromEntries(
          (metric.Dimensions ?? []).map((d) => [d.Name as string, d.Value as string]),
        );
        let points = state
          .source({
            namespace: metric.Namespace as string,
            metricName: metric.MetricName as string,
            dimensions,
            stat: stat.Stat as string,
            period: stat.Period as number,
            start,
            end,
          })
          .filter(([t]) => t >= start && t < end);
        points =
          request.ScanBy === 'TimestampAscending'
            ? points.sort((a, b) => a[0] - b[0])
            : points.sort((a, b) => b[0] - a[0]);
        const key = `${metric.Namespace}/${metric.MetricName}/${Object.values(dimensions).join(',')}`;
        const served = state.served.get(key) ?? new Map<number, number>();
        for (const [t, v] of points) served.set(t, v);
        state.served.set(key, served);
        return {
          Id: q.Id,
          Label: metric.MetricName,
          Timestamps: points.map(([t]) => t / 1000),
          Values: points.map(([, v]) => v),
          StatusCode: 'Complete',
        };
      });
    const answer: GetMetricDataAnswer = {
      MetricDataResults: results as GetMetricDataAnswer['MetricDataResults'],
      Messages: [],
    };
    const mangle = state.mangleNext.shift();
    reply(200, mangle ? mangle(structuredClone(answer), request) : answer);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host}:${port}`, close: () => closeHttp(server) };
}

/** Send a raw answer: as is, streamed as the client reads, or never (a hang). */
async function sendRaw(res: ServerResponse, raw: RawCloudWatchAnswer, state: CloudWatchState): Promise<void> {
  const head = { 'content-type': 'application/x-amz-json-1.0' };
  if ('hang' in raw) {
    if (raw.hang === 'mid-body') {
      res.writeHead(200, head);
      res.write('{');
    }
    return; // closeHttp drops the connection when the endpoint closes
  }
  if ('body' in raw) {
    res.writeHead(raw.status, { ...head, ...raw.headers });
    res.end(raw.body);
    return;
  }
  res.writeHead(raw.status, head);
  const closed = once(res, 'close').catch(() => undefined);
  try {
    for (const chunk of raw.stream()) {
      if (res.destroyed || res.writableEnded) return;
      state.streamedBytes += Buffer.byteLength(chunk);
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), closed]);
    }
    if (!res.destroyed) res.end();
  } catch {
    // The client let go mid-answer: what a refused answer looks like from here.
  }
}
