import type { BackendReport } from '../../shared/backends/report';
import type { TlsFinding } from '../../shared/backends/tls-probe';
import { printable } from '../../shared/errors';
import { alignRows } from './nodes-table';

const show = (v: unknown) => (v === null || v === undefined ? '-' : String(v));

/** A backend report as `--json` prints it (the parser's working fields left out). */
export function backendJson(r: BackendReport) {
  return {
    url: r.url,
    server: r.server,
    mpm: r.mpm,
    serverVersion: r.serverVersion,
    reading: r.reading,
    busy: r.busy,
    idle: r.idle,
    slots: r.slots,
    keepalive: r.keepalive,
    readingShare: r.readingShare,
    readingByClient: r.readingByClient,
    readingAges: r.readingAges,
    states: r.states,
    trust: r.trust,
    error: r.error,
  };
}

/** A table of backend reports, then each one's caveats and errors. */
export function formatBackendsTable(reports: BackendReport[]): string {
  const rows = [['URL', 'SERVER', 'MPM', 'R', 'BUSY', 'IDLE', 'SLOTS', 'K', 'R SHARE', 'R BY CLIENT']];
  for (const r of reports) {
    const byClient = r.readingByClient
      ? Object.entries(r.readingByClient)
          .map(([ip, n]) => `${ip}×${n}`)
          .join(' ') || 'none'
      : '-';
    rows.push([
      r.url,
      show(r.server),
      show(r.mpm),
      show(r.reading),
      show(r.busy),
      show(r.idle),
      show(r.slots),
      show(r.keepalive),
      r.readingShare === null ? '-' : `${Math.round(r.readingShare * 100)}%`,
      byClient,
    ]);
  }
  const lines = alignRows(rows);
  for (const r of reports) {
    if (r.error) lines.push(`! ${r.error}`);
    for (const caveat of r.trust) lines.push(`  note (${r.url}): ${caveat}`);
  }
  return lines.map(printable).join('\n');
}

/** A table of TLS findings, then each one's findings and errors. */
export function formatTlsTable(findings: TlsFinding[]): string {
  const rows = [['TARGET', 'PROTOCOL', 'CIPHER', 'SELF-SIGNED', 'VERIFIES', 'VALID TO', 'DAYS', 'SHA-256']];
  for (const f of findings) {
    rows.push([
      f.target,
      show(f.protocol),
      show(f.cipher),
      show(f.selfSigned),
      show(f.authorized),
      show(f.validTo),
      show(f.daysLeft),
      show(f.fingerprint256),
    ]);
  }
  const lines = alignRows(rows);
  for (const f of findings) {
    if (f.error) lines.push(`! ${f.error}`);
    if (f.subject)
      lines.push(
        `  ${f.target}: subject ${f.subject}; issuer ${f.issuer}${f.sans.length ? `; SANs ${f.sans.join(', ')}` : ''}`,
      );
    for (const x of f.findings) lines.push(`  ${f.target}: ${x}`);
  }
  return lines.map(printable).join('\n');
}
