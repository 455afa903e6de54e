import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { fetchPage } from '../shared/backends/http';
import { parseApacheAuto } from '../shared/backends/apache-status';
import { findBinary, freePort, openIdleConnections, startApache, waitForPort } from '../tests/helpers/servers';
import { ms, timeMedian, type BenchResult } from './lib';

/**
 * Benchmark 2: scrape-and-parse of one real Apache status page (`?auto`) by
 * elbscope against Debian's prometheus-apache-exporter scraping the same Apache
 * (its /metrics request makes it scrape, parse and render).
 */
export async function scrapeVsExporter(): Promise<BenchResult | null> {
  const apache = findBinary(['apache2', 'httpd']);
  const exporter = findBinary(['prometheus-apache-exporter']);
  if (!apache || !exporter) return null;
  const server = await startApache(apache, { mpm: 'event' });
  const sockets: Socket[] = await openIdleConnections(server.port, 4);
  const port = await freePort();
  const auto = `http://127.0.0.1:${server.port}/server-status?auto`;
  const child = spawn(exporter, [`--scrape_uri=${auto}`, `--telemetry.address=127.0.0.1:${port}`], { stdio: 'ignore' });
  try {
    await waitForPort(port);
    const ours = await timeMedian(
      async () => {
        const page = await fetchPage(auto);
        if (!parseApacheAuto(page.body).ok) throw new Error('parse failed');
      },
      200,
      20,
    );
    const theirs = await timeMedian(
      async () => {
        const r = await fetch(`http://127.0.0.1:${port}/metrics`);
        const text = await r.text();
        if (!text.includes('apache_up 1')) throw new Error('exporter did not scrape Apache');
      },
      200,
      20,
    );
    return {
      title: '2. Scrape-and-parse of one Apache status page vs prometheus-apache-exporter (same real Apache)',
      rows: [
        ['elbscope: GET ?auto + parse (median of 200)', ms(ours)],
        ['exporter: GET /metrics, which scrapes ?auto, parses, renders (median of 200)', ms(theirs)],
        ['ratio elbscope / exporter', `${(ours / theirs).toFixed(2)}×`],
      ],
      checks: [
        { target: `per-scrape latency at most the exporter's (${(ours / theirs).toFixed(2)}×)`, ok: ours <= theirs },
      ],
      notes: [
        "the exporter's figure includes one extra loopback hop (us → exporter → Apache), which is how Prometheus sees it",
      ],
    };
  } finally {
    child.kill();
    for (const s of sockets) s.destroy();
    await server.stop();
  }
}
