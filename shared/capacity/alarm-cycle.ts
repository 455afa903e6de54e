import type { Config } from '../config/schema';
import { loadBalancerKey } from '../config/identity';
import type { CapacityDeps, CapacityObservation } from './observe';
import type { AlarmTarget } from './alarms';
import { syncAlarmGroups, type AlarmGroup, type AlarmMember, type AlarmSyncReport } from './alarm-sync';

/** A cycle's alarm work, fed by observeCapacity as it goes through the load balancers. */
export interface AlarmCycle {
  /** A load balancer of known kind, in its region and account. */
  watch(index: number, target: AlarmTarget, region: string, roleArn: string | undefined): void;
  /** Its reservation as read this cycle (units; null none); undefined: not known. */
  reserved(index: number, units: number | null | undefined): void;
  /**
   * After the reservations: keep the alarms, read their states into each reading (`alarms`), name failures in its
   * errors; the indexes whose figures are to be read now (every one on a chart read).
   */
  settle(reservations: Promise<void>[], results: CapacityObservation[], chartRead: boolean): Promise<Set<number>>;
  /** What each region and account's sync did (after settle). */
  reports: AlarmSyncReport[];
}

/** Minutes past the rules' trailing window and confirmation an alarm's change keeps the figures read. */
const RESOLVE_MARGIN_MINUTES = 2;

/**
 * The capacity observation's alarm step: the desired alarms of every watched load balancer kept in
 * CloudWatch (one DescribeAlarms listing per region and account a cycle), their states read, and which load
 * balancers' figures to fetch. Alarms of load balancers no longer watched are deleted when the cycle sees the whole
 * watch list (not a fan-out worker's batch); the regions and accounts discovery looks in are listed even when no
 * load balancer is left there.
 */
export function syncAndReadAlarms(
  config: Config,
  deps: Pick<CapacityDeps, 'alarmsFor' | 'stage'>,
  at: Date,
): AlarmCycle {
  const members = new Map<number, { member: AlarmMember; group: string }>();
  const groups = new Map<string, AlarmGroup>();
  const groupOf = (region: string, roleArn: string | undefined) => {
    const key = `${region}|${roleArn ?? ''}`;
    if (!groups.has(key)) groups.set(key, { region, ...(roleArn ? { roleArn } : {}), members: [] });
    return key;
  };
  for (const region of config.discovery?.regions ?? [])
    for (const roleArn of config.discovery?.accounts.length
      ? config.discovery.accounts.map((a) => a.roleArn)
      : [undefined])
      groupOf(region, roleArn);
  const cycle: AlarmCycle = {
    reports: [],
    watch(index, target, region, roleArn) {
      members.set(index, {
        member: { target, reservedUnits: target.kind === 'classic' ? null : undefined },
        group: groupOf(region, roleArn),
      });
    },
    reserved(index, units) {
      const m = members.get(index);
      if (m && m.member.target.kind !== 'classic') m.member.reservedUnits = units;
    },
    async settle(reservations, results, chartRead) {
      await Promise.all(reservations);
      for (const { member, group } of members.values()) groups.get(group)?.members.push(member);
      const watched = new Set([...members.values()].map((m) => m.member.target.key));
      const { states, reports } = await syncAlarmGroups(
        [...groups.values()],
        deps.alarmsFor as NonNullable<CapacityDeps['alarmsFor']>,
        {
          stage: deps.stage ?? config.capacity.alarms.stage,
          surgeQueueShare: config.capacity.surgeQueueShare,
          activeMinutes: config.capacity.cloudwatch.trailingMinutes + config.detect.confirm.n + RESOLVE_MARGIN_MINUTES,
          now: at,
          prune: !config.fanout.enabled,
          protectedKeys: config.loadBalancers.map(loadBalancerKey).filter((k) => !watched.has(k)),
        },
      );
      cycle.reports = reports;
      const read = new Set<number>();
      for (const [index, { member }] of members) {
        const result = results[index] as CapacityObservation;
        const state = states.get(member.target.key);
        if (state instanceof Error || state === undefined) {
          result.errors.push({
            source: 'cloudwatch',
            message: (state ?? new Error('CloudWatch alarms: not read')).message,
          });
          read.add(index); // an unknown alarm state is never "quiet": the figures are read, as when polling
          continue;
        }
        if (result.reading) result.reading.alarms = state.alarms;
        if (state.active || chartRead) read.add(index);
      }
      return read;
    },
  };
  return cycle;
}
