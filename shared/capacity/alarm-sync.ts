import type { AlarmApi, DescribedAlarm } from './alarm-api';
import { sameAlarm } from './alarm-api';
import { alarmPrefix, desiredAlarms, isAlarmOf, managedMarker, type AlarmTarget, type DesiredAlarm } from './alarms';

/** One load balancer whose alarms are kept this cycle. */
export interface AlarmMember {
  target: AlarmTarget;
  /** LCUs of its confirmed reservation: null none; undefined not known this cycle (its LCU alarm is left as it is). */
  reservedUnits: number | null | undefined;
}

/** One region and account: the load balancers watched there (none: only stale alarms to delete). */
export interface AlarmGroup {
  region: string;
  roleArn?: string | undefined;
  members: AlarmMember[];
}

/** A load balancer's alarms as read this cycle. */
export interface AlarmStates {
  /** Per signal: its state and when it last changed (ISO); `unknown`: put this cycle, not evaluated yet. */
  alarms: Record<string, { state: DescribedAlarm['state'] | 'unknown'; since: string | null }>;
  /**
   * Whether its figures are to be read this cycle: an alarm not OK, one that changed within `activeMinutes` (so the
   * rules see the minutes that resolve it), or one not evaluated yet.
   */
  active: boolean;
}

/** What the sync did in a group (tests, logs, bench 5's call counts). */
export interface AlarmSyncReport {
  region: string;
  roleArn?: string | undefined;
  listed: number;
  put: string[];
  deleted: string[];
}

/**
 * Keep each group's alarms as desired and read their states: one DescribeAlarms listing per region and account (the
 * stage's prefix, every page), PutMetricAlarm only for an alarm missing or different, DeleteAlarms for a managed
 * alarm whose load balancer (or signal) is no longer watched, when `prune` (the cycle sees the whole watch list).
 * Per load balancer key: its states, or the Error that stopped its group (its figures are then read, as when
 * polling: an unknown alarm state is never "quiet").
 */
export async function syncAlarmGroups(
  groups: AlarmGroup[],
  apiFor: (region: string, roleArn?: string) => AlarmApi,
  options: {
    stage: string;
    surgeQueueShare: number;
    activeMinutes: number;
    now: Date;
    prune: boolean;
    /** Watched load balancers not kept this cycle (kind not known yet): their alarms are left as they are. */
    protectedKeys?: readonly string[];
  },
): Promise<{ states: Map<string, AlarmStates | Error>; reports: AlarmSyncReport[] }> {
  const states = new Map<string, AlarmStates | Error>();
  const reports: AlarmSyncReport[] = [];
  const prefix = alarmPrefix(options.stage);
  await Promise.all(
    groups.map(async (group) => {
      const api = apiFor(group.region, group.roleArn);
      const report: AlarmSyncReport = { region: group.region, roleArn: group.roleArn, listed: 0, put: [], deleted: [] };
      reports.push(report);
      let existing: DescribedAlarm[];
      try {
        existing = await api.list(prefix);
      } catch (err) {
        for (const m of group.members) states.set(m.target.key, err as Error);
        return;
      }
      report.listed = existing.length;
      const byName = new Map(existing.map((a) => [a.name, a]));
      const keep = new Set<string>();
      const wanted: { member: AlarmMember; alarms: DesiredAlarm[] }[] = group.members.map((member) => {
        const alarms = desiredAlarms(member.target, { ...options, reservedUnits: member.reservedUnits });
        // Reservation not read this cycle: its LCU alarm (if any) stays as it is.
        if (member.reservedUnits === undefined) {
          const lcu = desiredAlarms(member.target, { ...options, reservedUnits: 1 }).find(
            (a) => a.signal === 'lcu-above-reservation',
          );
          if (lcu && byName.has(lcu.name)) keep.add(lcu.name);
        }
        return { member, alarms };
      });
      for (const { alarms } of wanted) for (const a of alarms) keep.add(a.name);

      const failures = new Map<string, Error>();
      // A refusal of the account's writes (throttled, denied) stops this cycle's puts there, and the quota reached
      // stops its creations: tried again for each of hundreds of alarms, it is a storm of calls into a throttle (3
      // PutMetricAlarm a second) that outlasts the cycle. Every member left unput is named with it, and read.
      let stopAll: Error | null = null;
      let stopNew: Error | null = null;
      for (const { member, alarms } of wanted) {
        for (const a of alarms) {
          const got = byName.get(a.name);
          if (got && sameAlarm(a, got)) continue;
          const stopped = stopAll ?? (got ? null : stopNew);
          if (stopped) {
            if (!failures.has(member.target.key)) failures.set(member.target.key, stopped);
            continue;
          }
          try {
            await api.put(a);
            report.put.push(a.name);
          } catch (err) {
            // The first failure is named; the rest of its alarms are tried again next cycle too.
            if (!failures.has(member.target.key)) failures.set(member.target.key, err as Error);
            const code = (err as { code?: unknown }).code;
            if (code === 'LimitExceeded') stopNew = err as Error;
            else if (typeof code === 'string' && !PER_ALARM_REFUSALS.has(code)) stopAll = err as Error;
          }
        }
      }
      if (options.prune) {
        const stale = existing
          .filter((a) => !keep.has(a.name) && a.description.startsWith(managedMarker(options.stage)))
          .filter((a) => !(options.protectedKeys ?? []).some((k) => isAlarmOf(options.stage, k, a.name)))
          .map((a) => a.name);
        if (stale.length > 0) {
          try {
            await api.delete(stale);
            report.deleted.push(...stale);
          } catch (err) {
            // Tried again next cycle; said once per member of the group (the watch list's own are unaffected).
            for (const m of group.members) if (!failures.has(m.target.key)) failures.set(m.target.key, err as Error);
          }
        }
      }

      const activeSince = options.now.getTime() - options.activeMinutes * 60_000;
      for (const { member, alarms } of wanted) {
        const failure = failures.get(member.target.key);
        if (failure) {
          states.set(member.target.key, failure);
          continue;
        }
        const out: AlarmStates = { alarms: {}, active: false };
        for (const a of alarms) {
          const got = byName.get(a.name);
          const state = got ? got.state : 'unknown';
          out.alarms[a.signal] = { state, since: got ? new Date(got.stateUpdatedAt).toISOString() : null };
          // An alarm put again keeps its state (PutMetricAlarm on an existing alarm leaves it), but its line may
          // have moved: read the figures once.
          if (state !== 'OK' || report.put.includes(a.name) || (got && recentChange(got, activeSince)))
            out.active = true;
        }
        states.set(member.target.key, out);
      }
    }),
  );
  return { states, reports };
}

/**
 * A change to OK recent enough that the rules may still need minutes to resolve what it ended. The first evaluation of
 * a new alarm (INSUFFICIENT_DATA to OK within a minute of being put: CloudWatch evaluates each minute) ended nothing:
 * reading 20 minutes of figures after every creation would cost more than the alarm itself.
 */
function recentChange(a: DescribedAlarm, since: number): boolean {
  if (a.stateUpdatedAt < since) return false;
  return !(a.state === 'OK' && a.configuredAt !== null && a.stateUpdatedAt - a.configuredAt <= FIRST_EVALUATION_MS);
}

/** PutMetricAlarm's refusals of one alarm (its parameters): the others are still put. */
const PER_ALARM_REFUSALS = new Set(['InvalidParameterValue', 'InvalidParameterCombination', 'MissingParameter']);

/** CloudWatch evaluates a one-minute alarm at the next minute: its first state comes within a minute of the put. */
const FIRST_EVALUATION_MS = 60_000;
