import { probeBackend } from '../backends/probe';
import { getVia } from './http-client';

/** One row of the field notes' table: N sequential requests → R on the backend. */
export interface PreopenRow {
  requests: number;
  reading: number | null;
  error: string | null;
}

export interface PreopenOptions {
  /** The load balancer node to send requests to (the first address its name resolves to). */
  ip: string;
  port: number;
  host: string;
  statusUrl: string;
  requests: number[];
  settleMs: number;
  /** Before each N, wait up to this long for R to fall back to its value at rest. */
  resetMs: number;
  sleep: (ms: number) => Promise<void>;
  progress?: (done: number, total: number, row: PreopenRow | null) => void;
}

/**
 * The field notes' experiment: for each N, send N sequential requests through the
 * load balancer, wait, and read how many "..reading.." connections the backend
 * shows. Between rows it waits for R to return to its value at rest, so each row
 * starts from the same place.
 */
export async function preopenExperiment(o: PreopenOptions): Promise<PreopenRow[]> {
  const read = async (): Promise<{ reading: number | null; error: string | null }> => {
    const r = await probeBackend(o.statusUrl, { acceptFilterNone: true });
    return { reading: r.reading, error: r.error };
  };
  const atRest = (await read()).reading;
  const rows: PreopenRow[] = [];
  o.progress?.(0, o.requests.length, null);
  for (const n of o.requests) {
    const deadline = Date.now() + o.resetMs;
    for (
      let r = await read();
      atRest !== null && r.reading !== null && r.reading > atRest && Date.now() < deadline;
      r = await read()
    ) {
      await o.sleep(Math.min(1000, o.resetMs / 10));
    }
    let error: string | null = null;
    for (let i = 0; i < n && !error; i++) {
      try {
        const res = await getVia(o.ip, o.port, o.host, `/elbscope-preopen/${n}/${i}`);
        if (res.status >= 500) error = `request ${i + 1} of ${n}: HTTP ${res.status}`;
      } catch (err) {
        error = `request ${i + 1} of ${n}: ${(err as Error).message}`;
      }
    }
    await o.sleep(o.settleMs);
    const measured = await read();
    const row = { requests: n, reading: measured.reading, error: error ?? measured.error };
    rows.push(row);
    o.progress?.(rows.length, o.requests.length, row);
  }
  return rows;
}
