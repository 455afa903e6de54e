import type { ChainHeads } from '../../shared/cycle/record';
import type { LoadBalancerSnapshot } from '../../shared/cycle/snapshot';
import { printable } from '../../shared/errors';

/**
 * Hex digits of a hash a cycle's line shows: the fewest `verify --anchor` takes (16, 64 bits), so a line's anchor
 * still proves its trail, and one a forger cannot match by grinding hashes. `--json` and the functions' log lines
 * keep the full 64.
 */
const SHORT_HASH_DIGITS = 16;

/** A chain head as a cycle's line shows it: `#seq` and the hash's first SHORT_HASH_DIGITS hex digits. */
function shortAnchor(head: { seq: number; hash: string }): string {
  return `#${head.seq} ${head.hash.slice(0, SHORT_HASH_DIGITS)}`;
}

/**
 * One line per load balancer: nodes per AZ, R per backend, and its audit chain's
 * head and its observations' once committed (short hashes: each an anchor
 * `verify --anchor` takes). Each line is printable: a name or an error text
 * carrying a newline, a control or a bidi character shows it escaped, never forges
 * a line.
 */
export function formatCycleLine(
  snapshots: LoadBalancerSnapshot[],
  at: string,
  heads?: ReadonlyMap<string, ChainHeads>,
): string {
  return snapshots
    .map((s) => {
      const head = heads?.get(s.name);
      const azs =
        Object.entries(s.observation.azs)
          .map(([az, c]) => `${az} ${c.provisioned}/${c.advertised}`)
          .join('  ') || (s.observation.nodes.length ? `${s.observation.nodes.length} nodes (AZ unknown)` : 'no nodes');
      const r = s.backends.map((b) => `${b.name} R=${b.report.error ? 'ERR' : (b.report.reading ?? '-')}`).join('  ');
      const chain = head && head.seq > 0 ? `  |  chain ${shortAnchor(head)}` : '';
      const observations = head?.observations ? `  observations ${shortAnchor(head.observations)}` : '';
      const errs = s.observation.errors.length
        ? `  ! ${s.observation.errors.map((e) => `${e.source}: ${e.message}`).join('; ')}`
        : '';
      return printable(`${at}  ${s.name}  nodes ${azs}${r ? `  |  ${r}` : ''}${chain}${observations}${errs}`);
    })
    .join('\n');
}
