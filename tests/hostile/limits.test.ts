import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useQuietLab } from '../helpers/lab-elb';
import { freeLoopbackPort } from '../../lab/ports';
import { METRICS_LIMITS } from '../../shared/metrics/openmetrics';
import { startElbscope } from '../helpers/running-cli';

// A flood of idle connections to `watch --metrics-listen` under a descriptor limit
// lower than the flood (the issue's: 1,100 connections under the common
// `ulimit -n 1024`): the listener keeps at most METRICS_LIMITS.maxConnections open
// and drops the rest at once, so the watch keeps its descriptors, keeps observing
// (its cycle lines keep coming), never meets EMFILE, and exits 0 when stopped.
const FLOOD = 1_100;
const ULIMIT = 1_024;
const running = useQuietLab({ name: 'limits', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1 } });
const { lab } = running;

describe('watch --metrics-listen under a flood of idle connections', () => {
  it(`${FLOOD} idle connections under ulimit -n ${ULIMIT}: the watch keeps observing, no EMFILE, exit 0`, async () => {
    const store = mkdtempSync(join(tmpdir(), 'elbscope-limits-'));
    const port = await freeLoopbackPort();
    const args = [
      'watch',
      '--lb',
      lab.dnsName,
      '--dns-server',
      running.dnsServer,
      '--allow-loopback-nodes',
      '--interval',
      '1s',
      '--store',
      store,
      '--metrics-listen',
      `127.0.0.1:${port}`,
    ];
    const watch = startElbscope(args, running.env, { ulimitFiles: ULIMIT });
    const { out, err, until } = watch;
    const cycles = (lines: string[]) => lines.filter((l) => / {2}limits {2}nodes /.test(l)).length;
    const sockets: Socket[] = [];
    try {
      await until((lines) => cycles(lines) >= 1 && lines.some((l) => l.startsWith('metrics: ')));
      // The flood: every connection opened and left idle (no request, never closed by us).
      let open = 0;
      await Promise.all(
        Array.from(
          { length: FLOOD },
          () =>
            new Promise<void>((resolve) => {
              const s = connect(port, '127.0.0.1');
              sockets.push(s);
              s.once('connect', () => {
                open++;
                resolve();
              });
              s.once('close', () => resolve());
              s.on('error', () => undefined);
            }),
        ),
      );
      expect(open).toBeGreaterThan(METRICS_LIMITS.maxConnections); // the flood really reached the listener
      const before = cycles(out);
      await until((lines) => cycles(lines) >= before + 3);
      // The listener kept no more than its cap: the rest were dropped as they were accepted
      // (counted in cycles, not time: they are closed long before five more cycles pass).
      const held = () => sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
      await until((lines) => held() <= METRICS_LIMITS.maxConnections || cycles(lines) >= before + 8);
      expect(held()).toBeLessThanOrEqual(METRICS_LIMITS.maxConnections);
      // A scrape still answers (the flood holds slots, not the process).
      for (const s of sockets) s.destroy();
      const page = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
      expect(page).toContain('elbscope_up{load_balancer="limits"} 1');
    } finally {
      for (const s of sockets) s.destroy();
    }
    const code = await watch.stop();
    const said = [...out, ...err].join('\n');
    expect(said).not.toMatch(/EMFILE|internal error|ALERT/);
    expect(code, said).toBe(0);
  }, 60_000);
});
