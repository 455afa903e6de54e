import { createServer, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { closeHttp } from '../ports';
import type { AddressInfo } from 'node:net';
import { readBody } from '../http-body';
import { LabAlarms, describedAlarm } from './alarms';
import {
  checkDeleteAlarms,
  checkDescribeAlarms,
  checkPutMetricAlarm,
  checkTagResource,
  type AlarmRefusal,
  type DescribeAlarmsRequest,
} from './alarm-contract';
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
  /** The alarms (PutMetricAlarm, DescribeAlarms, DeleteAlarms, TagResource), per account and region. */
  alarms: LabAlarms;
  /** Every alarm call: its action, request, the account and region it was signed for, and the refusal if any. */
  alarmCalls: { action: string; request: unknown; account: string; region: string; refusal?: AlarmRefusal }[];
  /** Failures to answer alarm calls with, one per call, before serving normally (an outage of the alarm API). */
  alarmFailNext: { code: string; status: number; message: string }[];
  /** Failures for one alarm action only (`PutMetricAlarm`: AccessDenied on writes while reads work), one per call. */
  alarmFailNextOf: Map<string, { code: string; status: number; message: string }[]>;
  /**
   * Changes to the right DescribeAlarms answer, one per page served normally (hostile-answer tests): each gets the
   * lab's answer (its own copy) and a NextToken the lab would take for `offset` of the same listing, and returns
   * what to send instead: an object (sent as JSON) or a string (as is); undefined sends the copy as changed.
   */
  alarmMangleNext: ((answer: Record<string, unknown>, tokenAt: (offset: number) => string) => unknown)[];
}

export interface RunningCloudWatch {
  /** `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_CLOUDWATCH`. */
  url: string;
  close(): Promise<void>;
}

/** A state serving `source`; its alarms are evaluated on `now` (the lab's clock). */
export function cloudWatchState(source: MetricSource, now: () => number = Date.now): CloudWatchState {
  return {
    alarms: new LabAlarms(source, now),
    alarmCalls: [],
    alarmFailNext: [],
    alarmFailNextOf: new Map(),
    alarmMangleNext: [],
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

/** The alarm calls served, by the X-Amz-Target operation name. */
const ALARM_ACTIONS = new Set(['PutMetricAlarm', 'DescribeAlarms', 'DeleteAlarms', 'TagResource']);
/** The account a request is for: an assumed role's key names it (lab/sts: `ASIA<account>`); else the lab's own. */
const LAB_ACCOUNT = '123456789012';

/**
 * A local CloudWatch endpoint in the protocol @aws-sdk/client-cloudwatch speaks: AWS JSON 1.0
 * (`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`, errors named by `x-amzn-query-error`, the SDK's
 * awsQueryCompatible mode). It serves GetMetricData (lab/cloudwatch/contract.ts) answering from `source`, and
 * PutMetricAlarm, DescribeAlarms, DeleteAlarms and TagResource (lab/cloudwatch/alarm-contract.ts) over alarms it
 * evaluates on the state's clock (lab/cloudwatch/alarms.ts), each account (by signing key) and region apart.
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
    const action = target.startsWith('GraniteServiceVersion20100801.') ? target.slice(30) : '';
    if (ALARM_ACTIONS.has(action)) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return refuse({ code: 'SerializationException', status: 400, message: 'The request body is not JSON.' });
      }
      const authorization = String(req.headers.authorization ?? '');
      const key = /Credential=([^/]+)\//.exec(authorization)?.[1] ?? '';
      const account = /^ASIA(\d{12})$/.exec(key)?.[1] ?? LAB_ACCOUNT;
      const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization)?.[1] ?? 'us-east-1';
      const call: CloudWatchState['alarmCalls'][number] = { action, request: body, account, region };
      state.alarmCalls.push(call);
      const failure = state.alarmFailNext.shift() ?? state.alarmFailNextOf.get(action)?.shift();
      if (failure) return refuse(failure);
      const answer = serveAlarmCall(state, action, body as Record<string, unknown>, account, region);
      if ('refusal' in answer) {
        call.refusal = answer.refusal;
        return refuse(answer.refusal);
      }
      const mangle = action === 'DescribeAlarms' ? state.alarmMangleNext.shift() : undefined;
      if (!mangle) return reply(200, answer.body);
      const tokenAt = (offset: number) => pageToken(body as DescribeAlarmsRequest, offset);
      const copy = structuredClone(answer.body) as Record<string, unknown>;
      return reply(200, mangle(copy, tokenAt) ?? copy);
    }
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

/** NextToken of a DescribeAlarms page: the offset, bound to the filters it was made for. */
function pageToken(req: DescribeAlarmsRequest, offset: number): string {
  const { NextToken: _t, MaxRecords: _m, ...filters } = req;
  return Buffer.from(JSON.stringify({ offset, filters })).toString('base64url');
}

function offsetOf(req: DescribeAlarmsRequest): number | null {
  if (req.NextToken === undefined) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(req.NextToken, 'base64url').toString()) as { offset: unknown };
    return typeof offset === 'number' && pageToken(req, offset) === req.NextToken ? offset : null;
  } catch {
    return null;
  }
}

/** One alarm call, checked and served: the answer's body, or the refusal. */
function serveAlarmCall(
  state: CloudWatchState,
  action: string,
  req: Record<string, unknown>,
  account: string,
  region: string,
): { body: unknown } | { refusal: AlarmRefusal } {
  switch (action) {
    case 'PutMetricAlarm': {
      const refusal = checkPutMetricAlarm(req) ?? state.alarms.put(account, region, req);
      return refusal ? { refusal } : { body: {} };
    }
    case 'DescribeAlarms': {
      const r = req as DescribeAlarmsRequest;
      const refusal = checkDescribeAlarms(r);
      if (refusal) return { refusal };
      // [D] NextToken: "The token returned by a previous call to indicate that there is more data available"; one not
      // handed out for these filters is InvalidNextToken (400).
      const offset = offsetOf(r);
      if (offset === null)
        return { refusal: { code: 'InvalidNextToken', status: 400, message: 'The NextToken is not valid.' } };
      const { page, next } = state.alarms.describe(account, region, r, offset);
      return {
        body: {
          MetricAlarms: page.map(describedAlarm),
          CompositeAlarms: [],
          ...(next !== null ? { NextToken: pageToken(r, next) } : {}),
        },
      };
    }
    case 'DeleteAlarms': {
      const refusal = checkDeleteAlarms(req);
      if (refusal) return { refusal };
      const notFound = state.alarms.delete(account, region, req.AlarmNames as string[]);
      // [X] "the alarms you specify with correct names are still deleted"; the names not found are ResourceNotFound
      // (404), the stricter reading of "If you specify any incorrect alarm names".
      return notFound.length > 0
        ? {
            refusal: {
              code: 'ResourceNotFound',
              status: 404,
              message: `${notFound.length} of the alarms named were not found: ${notFound.slice(0, 3).join(', ')}`,
            },
          }
        : { body: {} };
    }
    default: {
      const refusal = checkTagResource(req);
      if (refusal) return { refusal };
      const alarm = state.alarms.byArn(req.ResourceARN as string);
      if (!alarm || alarm.account !== account || alarm.region !== region)
        return {
          refusal: {
            code: 'ResourceNotFoundException',
            status: 404,
            message: `No resource ${String(req.ResourceARN)} in this account and region.`,
          },
        };
      const merged = new Map(alarm.tags);
      for (const t of req.Tags as { Key: string; Value: string }[]) merged.set(t.Key, t.Value);
      // [T] at most 50 tags on a resource, those it had included.
      if (merged.size > 50)
        return {
          refusal: { code: 'InvalidParameterValue', status: 400, message: 'A resource holds at most 50 tags.' },
        };
      alarm.tags = merged;
      return { body: {} };
    }
  }
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
