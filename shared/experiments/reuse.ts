import { fetchPage } from '../backends/http';
import { parseApacheHtml } from '../backends/apache-html';
import { getVia } from './http-client';

export interface ReuseRow {
  waitMs: number;
  /** How long the connection that carried the marked request had been open (null: not found). */
  connectionAgeSeconds: number | null;
  /** Whether the connection was open before the request was sent: it was pre-opened. */
  preopened: boolean | null;
  error: string | null;
}

export interface ReuseOptions {
  ip: string;
  port: number;
  host: string;
  /** Apache ExtendedStatus HTML page (`/server-status`, not `?auto`). */
  statusUrl: string;
  waitsMs: number[];
  sleep: (ms: number) => Promise<void>;
  unique: () => string;
}

/**
 * The field notes' second experiment: prime the load balancer, wait W, send a
 * request with a unique path, and find (in ExtendedStatus) the worker slot that
 * served it. Its age before the request (the `SS` of an `R` slot is how long the
 * connection has been open) shows the request arrived over a connection opened
 * about W earlier.
 */
export async function reuseExperiment(o: ReuseOptions): Promise<ReuseRow[]> {
  const rows: ReuseRow[] = [];
  const htmlUrl = o.statusUrl.replace(/\?auto$/, '');
  for (const waitMs of o.waitsMs) {
    try {
      await getVia(o.ip, o.port, o.host, '/elbscope-reuse/prime');
      await o.sleep(waitMs);
      const before = parseApacheHtml((await fetchPage(htmlUrl)).body);
      if (!before.ok) throw new Error(before.error);
      if (!before.value.extendedStatus) throw new Error('ExtendedStatus is Off: slots cannot be followed');
      const ages = new Map(before.value.slots.filter((s) => s.mode === 'R').map((s) => [s.srv, s.secondsSince]));
      const sentAt = Date.now();
      const path = `/elbscope-reuse/${o.unique()}`;
      await getVia(o.ip, o.port, o.host, path);
      const after = parseApacheHtml((await fetchPage(htmlUrl)).body);
      if (!after.ok) throw new Error(after.error);
      const slot = after.value.slots.find((s) => s.request.includes(path));
      if (!slot) {
        rows.push({
          waitMs,
          connectionAgeSeconds: null,
          preopened: null,
          error: `no slot shows ${path} (did the request reach this backend?)`,
        });
        continue;
      }
      const age = ages.get(slot.srv);
      rows.push({
        waitMs,
        connectionAgeSeconds: age === undefined || age === null ? null : age + Math.round((Date.now() - sentAt) / 1000),
        preopened: age !== undefined,
        error: null,
      });
    } catch (err) {
      rows.push({ waitMs, connectionAgeSeconds: null, preopened: null, error: (err as Error).message });
    }
  }
  return rows;
}
