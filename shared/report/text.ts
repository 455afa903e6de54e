import { observationsLine, prewarmsLine, receiptsLine, type ReportData } from './build';
import { sealsLine } from '../ledger/seal-audit';

// Sentences every format of a report shares.

/** The "alert sent" cell: when it was published, why it could not be, or that it is still queued. */
export function sentCell(e: ReportData['events'][number]): string | null {
  return e.deliveryError !== null ? `UNDELIVERABLE: ${e.deliveryError}` : e.published;
}

/** A line saying how many alerts were never delivered (empty when none). */
export function undeliveredLine(r: ReportData): string {
  return r.undelivered === 0
    ? ''
    : `Alerts: ${r.undelivered} of this window's events could not be delivered (a sink refused them; \`elbscope events --undelivered\`, \`elbscope redeliver --id ID\`).`;
}

/** What the audit-chain check found, and (when intact) the head it verified up to. */
export function chainLine(r: ReportData): string {
  const seals = r.chain.seals;
  if (!r.chain.firstBreak && seals?.unchecked)
    return `NOT CHECKED: ${seals.unchecked} sealed records cannot be checked (${seals.unavailable}); the hashes and links hold, but without the key they prove nothing`;
  return r.chain.intact
    ? `intact: ${r.chain.records} records, every hash and link recomputed${r.chain.head ? `, head #${r.chain.head.seq} ${r.chain.head.hash}` : ''}${r.chain.observations ? `; observations ${observationsLine(r.chain.observations)}` : ''}${r.chain.prewarms && r.chain.prewarms.vouched + r.chain.prewarms.unvouched > 0 ? `; pre-warm targets ${prewarmsLine(r.chain.prewarms)}` : ''}${r.chain.receipts && r.chain.receipts.closed + r.chain.receipts.waiting > 0 ? `; ${receiptsLine(r.chain.receipts)}` : ''}${seals && seals.sealed + seals.beforeKeys > 0 ? `; ${sealsLine(seals)}` : ''}`
    : `BROKEN at record #${r.chain.firstBreak?.seq} (${r.chain.firstBreak?.location}): ${r.chain.firstBreak?.reason}`;
}

/** The AZs and backends the window's time series name, sorted: the columns of the node and R tables and charts. */
export function seriesNames(r: ReportData): { azs: string[]; backends: string[] } {
  return {
    azs: [...new Set(r.nodesPerAz.flatMap((s) => Object.keys(s.azs)))].sort(),
    backends: [...new Set(r.reading.flatMap((s) => Object.keys(s.backends)))].sort(),
  };
}

/** Who the report is about: kind, name, region, account and ARN, as far as recorded. */
export function identityLine(r: ReportData): string {
  const id = r.identity;
  if (!id) return `${r.loadBalancer} (no cycle recorded yet: account, region and kind unknown)`;
  const kind =
    id.kind === 'application'
      ? 'Application Load Balancer'
      : id.kind === 'network'
        ? 'Network Load Balancer'
        : id.kind === 'classic'
          ? 'Classic Load Balancer'
          : 'kind not yet known';
  return `${id.name} (${kind}), region ${id.region ?? 'unknown'}, account ${id.account ?? "the monitor's own"}${id.arn ? `, ${id.arn}` : ''}`;
}
