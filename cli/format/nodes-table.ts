import { printable } from '../../shared/errors';
import type { Observation, ObservedNode } from '../../shared/nodes/observation';

/** A plain-text table of one observation's nodes, grouped by Availability Zone. */
export function formatNodesTable(observation: Observation): string {
  const lines: string[] = [`${observation.loadBalancer}  (observed ${observation.observedAt})`];
  // How the configured name leads to the load balancer's own, whose `all.` was asked.
  if (observation.cnames) lines.push(`  CNAME -> ${observation.cnames.join(' -> ')}`);
  if (observation.aliasOf) lines.push(`  alias of ${observation.aliasOf} (from the ELB API)`);
  const groups = new Map<string, ObservedNode[]>();
  for (const node of observation.nodes) {
    const key = node.az ?? '(AZ unknown)';
    groups.set(key, [...(groups.get(key) ?? []), node]);
  }
  if (observation.nodes.length === 0) lines.push('  no nodes observed');
  for (const [az, nodes] of groups) {
    const count = observation.azs[az];
    const counts = count ? `  provisioned ${count.provisioned}, advertised ${count.advertised}` : '';
    lines.push(`  ${az}${counts}`);
    const rows = nodes.map((n) => [
      n.ip,
      n.hostname ?? '-',
      n.eniId ?? '-',
      n.sources.join(',') || '-',
      n.state,
      n.findings.join('; '),
    ]);
    lines.push(...alignRows(rows).map((r) => `    ${r}`));
  }
  for (const error of observation.errors) lines.push(`  ! ${error.source}: ${error.message}`);
  // Host names from PTR answers, messages from AWS: each line printable (no forged line, no control or bidi character).
  return lines.map(printable).join('\n');
}

/**
 * Pad columns to equal width (last column left ragged); each cell printable (a name's newline or bidi character
 * escaped).
 */
export function alignRows(cells: string[][]): string[] {
  const rows = cells.map((row) => row.map(printable));
  const widths: number[] = [];
  for (const row of rows) for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}
