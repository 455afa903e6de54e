import { writeFile } from 'node:fs/promises';
import { summaryOf } from './catalog';
import { Command, InvalidArgumentError, Option } from 'commander';
import { randomUUID } from 'node:crypto';
import { buildReport } from '../../shared/report/build';
import { renderReport, type ReportFormat } from '../../shared/report/render';
import { htmlToPdf, PdfError } from '../../shared/report/pdf';
import { verifyChain } from '../../shared/ledger/chain';
import {
  auditLoadBalancer,
  checkObservations,
  observationsLine,
  prewarmsLine,
  receiptsLine,
  type LoadBalancerAudit,
} from '../../shared/report/build';
import { byEventTime, StoreRecordCorruptError, type StoredObservation, listEvents } from '../../shared/ledger/store';
import { sealsLine } from '../../shared/ledger/seal-audit';
import { printable, systemFailure, UsageError } from '../../shared/errors';
import { parseLoadBalancerArn, parseLoadBalancerDnsName } from '../../shared/nodes/lb-name';
import type { LoadBalancerState } from '../../shared/ledger/state';
import { DISCOVERY_LEDGER } from '../../shared/ledger/keys';
import { EXIT, lineIo, type CliIo } from '../io';
import { openStore } from '../store';
import { intArg, nonEmptyArg } from './args';

/** An ISO date or date-time whose date exists (`2026-02-30` is refused, not read as 2 March). */
function isoArg(value: string): string {
  const t = Date.parse(value);
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!day || Number.isNaN(t))
    throw new InvalidArgumentError(`"${value}" is not an ISO date-time such as 2026-11-25T10:00:00Z`);
  const [y, m, d] = day.slice(1).map(Number) as [number, number, number];
  const check = new Date(Date.UTC(y, m - 1, d));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d)
    throw new InvalidArgumentError(`"${value}" is not a date (${day[0]} does not exist)`);
  return new Date(t).toISOString();
}

/** The `--store` / `--table` / `--region` options every store-reading command takes. */
export const storeOptions = (c: Command) =>
  c
    .option('--store <dir>', 'local store directory (default: .elbscope)')
    .option('--table <name>', 'read the DynamoDB table of a deployed stack instead')
    .option('--region <region>', 'region of --table')
    .option(
      '--seal-key <key>',
      "the audit's seal key: a key file (default ~/.config/elbscope/seal.key) or a KMS key ARN or alias (a --table's stack key)",
    );

/** What follows `name.` in a qualified key: a region, then perhaps the account and `app`/`net`. */
const REGION_KEY = /^[a-z]{2}(-[a-z]+)+-\d(\.|$)/;

/**
 * Resolve `--lb` against the store's keys: a key itself, a load balancer name whose
 * one key is `name.region…` (same-named ones in several regions must be told
 * apart: they are listed), or a load balancer DNS name.
 */
async function knownLoadBalancer(store: ReturnType<typeof openStore>, lb: string): Promise<string> {
  const known = await store.listLoadBalancers();
  const key = matchLoadBalancer(known, lb);
  if (key === null)
    throw new UsageError(
      `--lb ${lb}: no such load balancer in ${store.description} (known: ${known.join(', ') || 'none'})`,
    );
  return key;
}

/** The key `lb` names among `known`, null when none; same-named ones in several regions are an error listing them. */
function matchLoadBalancer(known: string[], lb: string): string | null {
  if (known.includes(lb)) return lb;
  const keysOf = (name: string, region: string | null) =>
    known.filter(
      (k) =>
        k.startsWith(`${name}.`) &&
        REGION_KEY.test(k.slice(name.length + 1)) &&
        (region === null || k.slice(name.length + 1).startsWith(region)),
    );
  const byName = keysOf(lb, null);
  if (byName.length > 1)
    throw new UsageError(
      `--lb ${lb}: more than one load balancer has that name (${byName.join(', ')}); give one of those keys`,
    );
  if (byName.length === 1) return byName[0] as string;
  // A DNS name or an ALB/NLB ARN names the load balancer and its region: its key is one of those.
  const parsed = parseLoadBalancerDnsName(lb) ?? parseLoadBalancerArn(lb);
  if (parsed?.name) {
    const byDns = known.includes(parsed.name) ? [parsed.name] : keysOf(parsed.name, parsed.region);
    if (byDns.length === 1) return byDns[0] as string;
  }
  return null;
}

/** `elbscope events`: the stored events. */
export function eventsCommand(io: CliIo, setExit: (code: number) => void): Command {
  return storeOptions(new Command('events').description(summaryOf('events')))
    .option('--lb <name>', 'only this load balancer')
    .option('--undelivered', 'only alerts a sink refused for good (see `elbscope redeliver`)')
    .option('--json', 'print JSON')
    .action(
      async (flags: {
        store?: string;
        table?: string;
        region?: string;
        lb?: string;
        undelivered?: boolean;
        json?: boolean;
      }) => {
        const store = openStore(flags, { env: io.env });
        // Discovery's own events are asked for by `--lb discovery` (or its record's name): it is no load balancer.
        const lb = flags.lb
          ? flags.lb === 'discovery' || flags.lb === DISCOVERY_LEDGER
            ? DISCOVERY_LEDGER
            : await knownLoadBalancer(store, flags.lb)
          : undefined;
        const events = (await listEvents(store, lb))
          .filter((e) => !flags.undelivered || e.deliveryError !== null)
          .sort(byEventTime);
        if (flags.json) {
          io.out(
            JSON.stringify(
              events.map(({ record: r, publishedAt, deliveryError }) => ({
                id: r.id,
                kind: r.kind,
                status: r.status,
                loadBalancer: r.loadBalancer,
                az: r.az,
                backend: r.backend,
                from: r.from,
                to: r.to,
                at: r.at,
                summary: r.summary,
                published: publishedAt,
                deliveryError,
              })),
              null,
              2,
            ),
          );
        } else if (events.length === 0) {
          io.out(
            printable(
              flags.undelivered
                ? `no undeliverable alerts in ${store.description}`
                : `no events in ${store.description}`,
            ),
          );
        } else {
          for (const { record: r, publishedAt, deliveryError } of events) {
            const delivery = deliveryError
              ? `  [undeliverable since ${deliveryError.at}: ${deliveryError.error}; id ${r.id}]`
              : publishedAt
                ? ''
                : '  [not yet published]';
            io.out(
              printable(`${r.at}  #${r.seq}  ${r.summary}${r.status === 'resolved' ? ' (resolved)' : ''}${delivery}`),
            );
          }
        }
        setExit(EXIT.ok);
      },
    );
}

/**
 * `--anchor`: an audit-chain hash as an alert or a log line carries it (`#25 ab…`, `25:ab…` or the hash), 16 to 64 hex
 * digits.
 */
function anchorArg(value: string): string {
  const hash = value
    .replace(/^#?\d+[: ]/, '')
    .trim()
    .toLowerCase();
  if (!/^[0-9a-f]{16,64}$/.test(hash))
    throw new InvalidArgumentError(
      `"${value}" is not an audit anchor: the hash an alert's "audit anchor" line or a cycle's "chain" shows (16 to 64 hex digits)`,
    );
  return hash;
}

/**
 * An observations' anchor (a cycle line's `observations #seq hash`): the stored
 * observation with that hash, and the chain recomputed up to it (the records before
 * it that expired are counted as expired, as in a plain verify). Null: not here.
 */
function observationAnchor(
  lb: string,
  stored: StoredObservation[],
  anchor: string,
  now: Date,
): { line: string; broken: boolean } | null {
  const at = stored.find(
    (o) =>
      typeof o.hash === 'string' &&
      o.hash.startsWith(anchor) &&
      typeof o.seq === 'number' &&
      typeof o.expiresAt === 'string',
  );
  if (!at) return null;
  const seq = at.seq as number;
  const upTo = stored.filter((o) => typeof o.seq !== 'number' || o.seq <= seq);
  const check = checkObservations(lb, upTo, { seq, hash: at.hash as string, expiresAt: at.expiresAt as string }, now);
  if (check.firstBreak)
    return {
      broken: true,
      line: `elbscope: ${lb}: the observations up to anchor #${seq} are broken at #${check.firstBreak.seq}, ${check.firstBreak.location}: ${check.firstBreak.reason}`,
    };
  return {
    broken: false,
    line: `${lb}: observation anchor #${seq} ${at.hash as string} found; the ${check.verified} observations up to it recompute to it${check.expired > 0 ? ` (${check.expired} before them expired)` : ''}: not rewritten`,
  };
}

/**
 * `elbscope verify [--anchor HASH]`: recompute every audit chain; exit 1 naming the
 * first broken record. With an anchor taken from outside the store (an alert, a
 * log line), also prove the trail up to that record is the one the anchor was
 * taken from: every hash is recomputed from the first record to it, so any rewrite
 * before it (even of the whole chain) shows; an anchor no chain holds is exit 1.
 */
export function verifyCommand(
  rawIo: CliIo,
  setExit: (code: number) => void,
  now: () => Date = () => new Date(),
): Command {
  // Every line names a load balancer read from the store: each escaped whole (a name's newline never makes two lines).
  const io = lineIo(rawIo);
  return storeOptions(new Command('verify').description(summaryOf('verify')))
    .option(
      '--anchor <hash>',
      "an audit anchor from an alert or a cycle's log line: prove the trail up to it was not rewritten",
      anchorArg,
    )
    .action(async (flags: { store?: string; table?: string; region?: string; sealKey?: string; anchor?: string }) => {
      const store = openStore(flags, { env: io.env });
      let broken = 0;
      let anchored = false;
      const lbs = await store.listLoadBalancers();
      const outbox = await store.outbox({ op: 'list' });
      // Discovery's own record (no load balancer) has a trail too: verified after them, its lines named `discovery`.
      const discovery = await store.getState(DISCOVERY_LEDGER, 'read').catch(() => 'unreadable');
      for (const key of discovery ? [...lbs, DISCOVERY_LEDGER] : lbs) {
        const lb = key === DISCOVERY_LEDGER ? 'discovery' : key;
        let audit: LoadBalancerAudit;
        try {
          audit = await auditLoadBalancer(store, key, now(), outbox);
        } catch (err) {
          if (!(err instanceof StoreRecordCorruptError)) throw err;
          broken++;
          io.err(
            `elbscope: ${lb}: audit chain broken at ${err.location}: stored record does not parse (${err.reason})`,
          );
          continue;
        }
        const {
          events,
          state,
          chain: chainBreak,
          receiptCheck: receipts,
          outbox: queued,
          observations: storedObservations,
          observationCheck: observations,
          prewarmCheck: prewarms,
          sealCheck: seals,
        } = audit;
        // Seals the key cannot check now prove nothing: no line then says "intact".
        const intact = seals?.unchecked ? 'hashes and links hold (seals not checked)' : 'intact';
        if (state?.recovered) {
          // Not a break of the trail, but a record someone must look at: the state the rules ran on was lost or edited.
          broken++;
          io.err(
            `elbscope: ${lb}: stored state at ${state.recovered.location} ${state.recovered.reason}; ${state.recovered.movedTo ? `moved aside to ${state.recovered.movedTo} and rebuilt` : 'left in place (verify changes nothing; the next cycle moves it aside and rebuilds it)'} (the next cycle announces it)`,
          );
        }
        if (flags.anchor) {
          const at = events.findIndex((e) => e.record.hash.startsWith(flags.anchor as string));
          if (at >= 0) {
            anchored = true;
            const upTo = events.slice(0, at + 1);
            const anchor = events[at]!.record;
            const before = verifyChain(lb, upTo, { seq: anchor.seq, hash: anchor.hash });
            if (before)
              io.err(
                `elbscope: ${lb}: the trail up to anchor #${anchor.seq} is broken at record #${before.seq}, ${before.location}: ${before.reason}`,
              );
            else
              io.out(
                `${lb}: anchor #${anchor.seq} ${anchor.hash} found; the ${upTo.length} records up to it recompute to it from the first: not rewritten`,
              );
            if (before) broken++;
          }
        }
        if (chainBreak) {
          broken++;
          io.err(
            `elbscope: ${lb}: audit chain broken at record #${chainBreak.seq}${chainBreak.id ? ` (${chainBreak.id})` : ''}, ${chainBreak.location}: ${chainBreak.reason}`,
          );
        } else io.out(`${lb}: ${intact}, ${events.length} records`);
        // Each event delivered (a sealed receipt), refused for good, or on its way: a removed or edited receipt shows.
        if (receipts.firstBreak) {
          broken++;
          io.err(`elbscope: ${lb}: ${receipts.firstBreak.reason} (${receipts.firstBreak.location})`);
        } else if (events.length > 0) io.out(`${lb}: ${receiptsLine(receipts)}`);
        if (queued) {
          broken++;
          io.err(`elbscope: ${lb}: ${queued.reason}`);
        }
        // The stored observations (what the report's charts and tables show) have their own chain, and anchors of their
        // own.
        if (flags.anchor && Array.isArray(storedObservations)) {
          const found = observationAnchor(lb, storedObservations, flags.anchor, now());
          if (found) {
            anchored = true;
            if (found.broken) broken++;
            (found.broken ? io.err : io.out)(found.line);
          }
        }
        if (observations.firstBreak) {
          broken++;
          io.err(
            `elbscope: ${lb}: observations broken at #${observations.firstBreak.seq}, ${observations.firstBreak.location}: ${observations.firstBreak.reason}`,
          );
        } else if (observations.verified + observations.unchained + observations.expired + observations.uncommitted > 0)
          io.out(`${lb}: observations ${intact}: ${observationsLine(observations)}`);
        if (prewarms.firstBreak) {
          broken++;
          io.err(`elbscope: ${lb}: ${prewarms.firstBreak.reason}`);
        } else if (prewarms.vouched + prewarms.unvouched > 0)
          io.out(`${lb}: pre-warm targets ${intact}: ${prewarmsLine(prewarms)}`);
        // The keyed seals: a record whose seal is wrong or missing (after keys) is named; unchecked ones are never
        // passed.
        if (seals?.firstBreak) {
          broken++;
          io.err(`elbscope: ${lb}: ${seals.firstBreak.reason} (${seals.firstBreak.location})`);
        }
        if (seals?.unchecked) {
          broken++;
          io.err(
            `elbscope: ${lb}: cannot check seals: ${seals.unavailable}; ${seals.unchecked} sealed records not checked`,
          );
        } else if (seals && !seals.firstBreak && seals.sealed + seals.beforeKeys > 0)
          io.out(`${lb}: ${sealsLine(seals)}`);
      }
      if (lbs.length === 0) io.out(`no load balancers in ${store.description}`);
      if (flags.anchor && !anchored)
        io.err(
          `elbscope: anchor ${flags.anchor} is in no audit or observations chain of ${store.description}: the trail it was taken from was rewritten or cut, or the anchor is from another store`,
        );
      setExit(broken > 0 || (flags.anchor !== undefined && !anchored) ? EXIT.notObserved : EXIT.ok);
    });
}

/**
 * What is known of a load balancer's kind for a pre-warm target: evidence that it is an NLB or a Classic ELB, or that
 * it is not.
 */
interface PrewarmKind {
  /** Why it is an NLB (first evidence found), or null. */
  nlb: string | null;
  /** Why it is a Classic ELB, or null. */
  classic: string | null;
  /** Evidence rules an NLB out (a Classic/ALB DNS name, an ALB ARN, an observed Classic or ALB). */
  notNlb: boolean;
  /** Evidence rules a Classic ELB out (an ARN, an NLB-shaped name, an observed ALB or NLB). */
  notClassic: boolean;
}

/** A qualified key's `name.region[.account].app|net` tail (see qualifiedKey): the configured ARN's type. */
const KEY_TYPE = /^[^.]+\.[a-z]{2}(?:-[a-z]+)+-\d(?:\.\d{12})?\.(app|net)$/;

/**
 * The kind of the load balancer `lb` names, from every piece of evidence there is
 * without a network call: `--lb` as given (an ARN, a DNS name's shape: only an NLB's
 * is its own), the key it resolved to (a qualified key ends in the ARN's `app`/`net`),
 * and its stored state (the kind the last cycle observed, the configured ARN, the
 * cycles' NLB flag). Conflicting evidence is not settled here: the caller refuses on any.
 */
function prewarmKindOf(given: string, key: string, state: LoadBalancerState | null): PrewarmKind {
  const out: PrewarmKind = { nlb: null, classic: null, notNlb: false, notClassic: false };
  const arnType = (arn: string | null | undefined) => (arn ? (parseLoadBalancerArn(arn)?.type ?? null) : null);
  const saw = (type: 'app' | 'net' | null, why: string) => {
    if (type === 'net') out.nlb ??= why;
    if (type === 'app') out.notNlb = true;
    if (type !== null) out.notClassic = true;
  };
  saw(arnType(given), `--lb ${given} is an NLB's ARN, loadbalancer/net/…`);
  const shape = parseLoadBalancerDnsName(given)?.shape;
  if (shape === 'network') saw('net', `--lb ${given} has an NLB's DNS name shape, NAME-HEX.elb.REGION.amazonaws.com`);
  if (shape === 'classic-or-application') out.notNlb = true;
  saw((KEY_TYPE.exec(key)?.[1] as 'app' | 'net' | undefined) ?? null, `its key ${key} carries its ARN's type, net`);
  if (state) {
    const arn = typeof state.meta.identity?.arn === 'string' ? state.meta.identity.arn : null;
    saw(arnType(arn), `its configured ARN ${arn ?? ''} is an NLB's`);
    const { kind, samples } = state.memory;
    if (kind === 'network') saw('net', 'the last cycle observed an NLB');
    if (kind === 'application') saw('app', 'the last cycle observed an ALB');
    if (kind === 'classic') {
      out.classic ??= 'the last cycle observed a Classic ELB';
      out.notNlb = true;
    }
    if (samples.some((s) => s?.kind === 'network' || s?.nlb === true)) saw('net', 'a recent cycle observed an NLB');
  }
  return out;
}

/** `elbscope prewarm`: record a pre-warm target; the cycles report when it completes or is overdue. */
export function prewarmCommand(io: CliIo, setExit: (code: number) => void, now: () => Date): Command {
  return storeOptions(new Command('prewarm').description(summaryOf('prewarm')))
    .requiredOption('--lb <name>', 'load balancer name')
    .option(
      '--nodes-per-az <n>',
      'nodes every AZ must reach (Classic, ALB; an NLB has one node per AZ: use --lcu)',
      intArg(1, 1000),
    )
    .option(
      '--lcu <n>',
      'ALB/NLB: LCUs the capacity reservation must hold, provisioned in every AZ',
      intArg(1, 100_000),
    )
    .option('--total <n>', 'nodes the whole load balancer must reach', intArg(1, 10_000))
    .option('--deadline <iso>', 'when it must be complete', isoArg)
    .option('--case <id>', 'AWS support case id')
    .action(
      async (flags: {
        store?: string;
        table?: string;
        region?: string;
        lb: string;
        nodesPerAz?: number;
        lcu?: number;
        total?: number;
        deadline?: string;
        case?: string;
      }) => {
        if (flags.nodesPerAz === undefined && flags.lcu === undefined)
          throw new UsageError(
            'prewarm: give --nodes-per-az N (nodes, as the field notes count them), --lcu N (an ALB/NLB LCU reservation), or both',
          );
        const store = openStore(flags, { write: true, env: io.env });
        // A stored load balancer's key (a bare name finds `name.region`); one not seen yet is taken as given.
        const known = matchLoadBalancer(await store.listLoadBalancers(), flags.lb);
        // One not seen yet is filed under the key its cycles will use by default: its name (an ARN's own, not the ARN).
        const lb = known ?? parseLoadBalancerArn(flags.lb)?.name ?? flags.lb;
        const kind = prewarmKindOf(
          flags.lb,
          lb,
          known === null ? null : ((await store.getState(known))?.state ?? null),
        );
        const nodeFlags = [
          flags.nodesPerAz !== undefined ? '--nodes-per-az' : '',
          flags.total !== undefined ? '--total' : '',
        ]
          .filter(Boolean)
          .join(' and ');
        // An NLB has one node per AZ (AWS creates "a Network Load Balancer node" per enabled AZ, one ENI, one address):
        // a node target above that is never reached. Its capacity is its LCU reservation.
        if (kind.nlb && nodeFlags) {
          throw new UsageError(
            `prewarm: ${lb} is a Network Load Balancer (${kind.nlb}): it has one node per AZ, so ${nodeFlags} can never be reached; ` +
              'pre-warm an NLB by its LCU reservation: --lcu N',
          );
        }
        // A Classic ELB has no LCU reservation (DescribeCapacityReservation is elbv2's): an LCU target is never
        // reached.
        if (kind.classic && flags.lcu !== undefined) {
          throw new UsageError(
            `prewarm: ${lb} is a Classic ELB (${kind.classic}): it has no LCU reservation, so --lcu can never be reached; give --nodes-per-az N`,
          );
        }
        const unknown = [
          nodeFlags && !kind.notNlb
            ? `if it is an NLB (one node per AZ) ${nodeFlags} can never be reached: use --lcu`
            : '',
          flags.lcu !== undefined && !kind.notClassic
            ? 'if it is a Classic ELB (no LCU reservation) --lcu can never be reached'
            : '',
        ]
          .filter(Boolean)
          .join('; ');
        const requestedAt = now().toISOString();
        if (flags.deadline && flags.deadline <= requestedAt)
          throw new UsageError(`--deadline ${flags.deadline} is not in the future`);
        const target = {
          id: `pw-${requestedAt.replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomUUID().slice(0, 6)}`,
          loadBalancer: lb,
          nodesPerAz: flags.nodesPerAz ?? 0,
          total: flags.total ?? null,
          deadline: flags.deadline ?? null,
          caseId: flags.case ?? null,
          requestedAt,
          ...(flags.lcu ? { lcu: flags.lcu } : {}),
        };
        await store.prewarms({ op: 'put', target });
        const what = [
          flags.nodesPerAz ? `${flags.nodesPerAz} nodes per AZ` : '',
          flags.lcu ? `${flags.lcu} LCUs reserved and provisioned in every AZ` : '',
        ]
          .filter(Boolean)
          .join(', ');
        const note = unknown ? ` (its kind is not known yet; ${unknown})` : '';
        io.out(
          printable(
            `pre-warm target ${target.id} recorded for ${lb}: ${what}${flags.total ? `, ${flags.total} in all` : ''}${flags.deadline ? ` by ${flags.deadline}` : ''}${flags.case ? ` (case ${flags.case})` : ''}${note}`,
          ),
        );
        setExit(EXIT.ok);
      },
    );
}

/** `elbscope report`: a support-case report for one load balancer. */
export function reportCommand(io: CliIo, setExit: (code: number) => void, now: () => Date): Command {
  return storeOptions(new Command('report').description(summaryOf('report')))
    .requiredOption('--lb <name>', 'load balancer name')
    .option('--from <iso>', 'window start', isoArg)
    .option('--to <iso>', 'window end', isoArg)
    .addOption(
      new Option('--format <format>', 'output format (pdf: the HTML page printed by headless Chromium; needs --out)')
        .choices(['md', 'csv', 'json', 'html', 'pdf'])
        .default('md'),
    )
    .option('--out <file>', 'write to a file instead of standard output', nonEmptyArg('--out'))
    .action(
      async (flags: {
        store?: string;
        table?: string;
        region?: string;
        lb: string;
        from?: string;
        to?: string;
        format: ReportFormat | 'pdf';
        out?: string;
      }) => {
        if (flags.from && flags.to && flags.from > flags.to)
          throw new UsageError(`--from ${flags.from} is after --to ${flags.to}`);
        if (flags.format === 'pdf' && flags.out === undefined)
          throw new UsageError('--format pdf writes a file: give --out FILE.pdf');
        const store = openStore(flags, { env: io.env });
        const lb = await knownLoadBalancer(store, flags.lb);
        const report = await buildReport(store, lb, { from: flags.from, to: flags.to }, now());
        if (flags.format === 'pdf') {
          await htmlToPdf(renderReport(report, 'html'), flags.out as string).catch((err: unknown) => {
            throw err instanceof PdfError ? new UsageError(err.message) : err;
          });
          io.out(printable(`report written to ${flags.out}`));
          setExit(EXIT.ok);
          return;
        }
        const text = renderReport(report, flags.format);
        if (flags.out !== undefined) {
          await writeFile(flags.out, text).catch((err: NodeJS.ErrnoException) => {
            // A full disk or denied access is the environment's (exit 1); a missing directory is usage (exit 2).
            throw (
              systemFailure(`--out ${flags.out}: cannot write`, err, flags.out) ??
              new UsageError(
                `--out ${flags.out}: cannot write (${err.code ?? err.message}${err.code === 'ENOENT' ? ': no such directory' : ''})`,
              )
            );
          });
          io.out(printable(`report written to ${flags.out}`));
        } else io.out(text.trimEnd());
        setExit(EXIT.ok);
      },
    );
}
