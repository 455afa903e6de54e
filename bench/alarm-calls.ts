import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { cloudWatchState, startCloudWatch } from '../lab/cloudwatch/server';
import { createAlarmApi } from '../shared/capacity/alarm-api';
import { createMetricsLookup } from '../shared/capacity/cloudwatch';
import { observeCapacity } from '../shared/capacity/observe';
import { parseConfig } from '../shared/config/load';
import type { Observation } from '../shared/nodes/observation';

/** What one load balancer's capacity signals cost in calls over the run, per mode (bench 5 prices them). */
export interface MeasuredCalls {
  hours: number;
  /** Alarms kept (each $0.10 a month for its one metric). */
  alarms: number;
  describeAlarms: number;
  putMetricAlarm: number;
  /** Metrics requested through GetMetricData (what it is billed by). */
  metricsRequested: number;
  /** Alarm state changes in the run (each makes elbscope read the figures until the rules can resolve). */
  changes: number;
  /** Minutes from the spillover datapoint's minute end to the first cycle that read it. */
  detectedAfterMinutes: number | null;
}

const MINUTE = 60_000;

/**
 * One Classic load balancer watched every minute for `hours` hours through the real SDK to the lab's CloudWatch,
 * on a stepped clock, with one spillover of 5 minutes an hour in (the alarm's puts happen once; the rest recurs
 * daily): every call counted, per mode.
 */
export async function measureCalls(mode: 'alarms' | 'polling', hours = 24): Promise<MeasuredCalls> {
  let now = Date.parse('2026-03-01T00:00:30Z');
  const spillFrom = now + 60 * MINUTE;
  const state = cloudWatchState(
    (q) => {
      if (q.metricName !== 'SpilloverCount') return [];
      const out: [number, number][] = [];
      for (let t = Math.ceil(q.start / MINUTE) * MINUTE; t < q.end; t += MINUTE)
        if (t >= spillFrom - (spillFrom % MINUTE) && t < spillFrom + 5 * MINUTE && t + MINUTE <= now) out.push([t, 40]);
      return out;
    },
    () => now,
  );
  const endpoint = await startCloudWatch(state);
  const client = new CloudWatchClient({
    region: 'us-east-1',
    endpoint: endpoint.url,
    credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
    maxAttempts: 1,
  });
  const lb = { dnsName: 'web-1234567890.us-east-1.elb.amazonaws.com' };
  const config = parseConfig({ loadBalancers: [lb], capacity: { mode, reservationEveryMinutes: 0 } }, 'bench');
  const deps = {
    metricsFor: () => createMetricsLookup(client),
    reservationsFor: null,
    alarmsFor: () => createAlarmApi(client),
    stage: 'bench',
  };
  let detectedAfterMinutes: number | null = null;
  try {
    for (let i = 0; i < hours * 60; i++) {
      const observation: Observation = {
        loadBalancer: lb.dnsName,
        observedAt: new Date(now).toISOString(),
        nodes: [],
        azs: {},
        errors: [],
        kind: 'classic',
      };
      const [out] = await observeCapacity(config, [observation], new Date(now), deps);
      if (detectedAfterMinutes === null && out?.reading?.metrics?.SpilloverCount?.length)
        detectedAfterMinutes = (now - (Math.floor(spillFrom / MINUTE) * MINUTE + MINUTE)) / MINUTE;
      now += MINUTE;
    }
  } finally {
    client.destroy();
    await endpoint.close();
  }
  return {
    hours,
    alarms: state.alarms.all().length,
    describeAlarms: state.alarmCalls.filter((c) => c.action === 'DescribeAlarms').length,
    putMetricAlarm: state.alarmCalls.filter((c) => c.action === 'PutMetricAlarm').length,
    metricsRequested: state.requests.reduce((n, r) => n + (r.MetricDataQueries?.length ?? 0), 0),
    changes: state.alarms.all().reduce((n, a) => n + a.history.length - 1, 0),
    detectedAfterMinutes,
  };
}
