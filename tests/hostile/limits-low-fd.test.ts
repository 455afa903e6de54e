import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useQuietLab } from '../helpers/lab-elb';
import { freeLoopbackPort } from '../../lab/ports';
import { metricsConnectionCap, softOpenFilesLimit } from '../../shared/metrics/openmetrics';
import { startElbscope } from '../helpers/running-cli';

// Under a small descriptor limit (`ulimit -n 64`), idle connections within the listener's
// fixed cap of 64 would still take the descriptors the watch records with (EMFILE on the
// store, DNS sockets failing). The cap follows the soft limit (an eighth of it), so ~60
// idle connections leave the watch recording every cycle.
const ULIMIT = 64;
const IDLE = 60;
const running = useQuietLab({ name: 'lowfd', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1 } });
const { lab } = running;

describe('the metrics listener cap follows the descriptor limit', () => {
  it('min(64, max(4, soft/8)); 64 when unknown; read from /proc/self/limits', () => {
    expect([null, 16, 64, 200, 1024, 1_048_576].map(metricsConnectionCap)).toEqual([64, 4, 8, 25, 64, 64]);
    const limits =
      'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            64                   4096                 files     \n';
    expect(softOpenFilesLimit(() => limits)).toBe(64);
    expect(
      softOpenFilesLimit(() => 'Max open files            unlimited            unlimited            files\n'),
    ).toBeNull();
    expect(
      softOpenFilesLimit(() => {
        throw new Error('no /proc');
      }),
    ).toBeNull();
  });

  it(`${IDLE} idle connections under ulimit -n ${ULIMIT}: cycles keep being recorded, no EMFILE`, async () => {
    const store = mkdtempSync(join(tmpdir(), 'elbscope-lowfd-'));
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
    const cycles = (lines: string[]) => lines.filter((l) => / {2}lowfd {2}nodes /.test(l)).length;
    const sockets: Socket[] = [];
    try {
      await until((lines) => cycles(lines) >= 1 && lines.some((l) => l.startsWith('metrics: ')));
      await Promise.all(
        Array.from(
          { length: IDLE },
          () =>
            new Promise<void>((resolve) => {
              const s = connect(port, '127.0.0.1');
              sockets.push(s);
              s.once('connect', () => resolve());
              s.once('close', () => resolve());
              s.on('error', () => undefined);
            }),
        ),
      );
      const before = cycles(out);
      await until((lines) => cycles(lines) >= before + 4);
    } finally {
      for (const s of sockets) s.destroy();
    }
    const code = await watch.stop();
    const said = [...out, ...err].join('\n');
    expect(said).not.toMatch(/EMFILE|not recorded|internal error/);
    expect(code, said).toBe(0);
  }, 60_000);
});
