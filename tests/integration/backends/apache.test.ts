import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeBackend } from '../../../shared/backends/probe';
import type { BackendReport } from '../../../shared/backends/report';
import { CAVEATS } from '../../../shared/backends/report';
import { openIdleConnections, requireBinary, startApache, type RunningServer } from '../../helpers/servers';

// Real Apache 2.4 from its own config; idle TCP connections that send nothing
// stand in for an ELB's pre-opened ones, from two "node" addresses.
const apache = requireBinary(['apache2', 'httpd']);

/** Probe until `reading` reaches `want` (prefork forks workers at its own pace). */
async function probeUntil(url: string, want: number, timeoutMs: number): Promise<BackendReport> {
  const deadline = Date.now() + timeoutMs;
  let report = await probeBackend(url, { acceptFilterNone: true });
  while (report.reading !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    report = await probeBackend(url, { acceptFilterNone: true });
  }
  return report;
}

describe.skipIf(!apache).each(['prefork', 'event'] as const)('Apache 2.4 %s with AcceptFilter none', (mpm) => {
  let server: RunningServer;
  let sockets: Socket[] = [];
  beforeAll(async () => {
    server = await startApache(apache as string, { mpm, acceptFilter: 'none' });
    sockets = [
      ...(await openIdleConnections(server.port, 5, '127.0.0.2')),
      ...(await openIdleConnections(server.port, 2, '127.0.0.3')),
    ];
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await server?.stop();
  });

  it('counts the idle connections as R, per client IP, without its own request', async () => {
    const report = await probeUntil(`http://127.0.0.1:${server.port}/server-status?auto`, 7, 15_000);

    expect(report.error).toBeNull();
    expect(report).toMatchObject({
      server: 'apache',
      mpm,
      reading: 7,
      readingByClient: { '127.0.0.2': 5, '127.0.0.3': 2 },
      slots: 16,
    });
    expect(report.readingShare).toBe(0.438); // 7 of 16 slots, to 3 places
    // R slots are the only busy ones: the scraper's own W is not load.
    expect(report.busy).toBe(7);
    expect(report.states?.W).toBe(0);
    expect(report.readingAges).toHaveLength(7);
    expect(report.trust).not.toContain(CAVEATS.deferredAccept);
    if (mpm === 'event') expect(report.trust).toContain(CAVEATS.eventMpm);
  });

  it('gives the same report from the HTML URL', async () => {
    const report = await probeUntil(`http://127.0.0.1:${server.port}/server-status`, 7, 5_000);
    expect(report).toMatchObject({
      server: 'apache',
      reading: 7,
      readingByClient: { '127.0.0.2': 5, '127.0.0.3': 2 },
      error: null,
    });
  });

  it('sees the count drop when the load balancer closes connections', async () => {
    for (const s of sockets.splice(0, 3)) s.destroy();
    const report = await probeUntil(`http://127.0.0.1:${server.port}/server-status?auto`, 4, 10_000);
    expect(report.reading).toBe(4);
    expect(report.readingByClient).toEqual({ '127.0.0.2': 2, '127.0.0.3': 2 });
  });
});

describe.skipIf(!apache)('Apache 2.4 without ExtendedStatus', () => {
  let server: RunningServer;
  let sockets: Socket[] = [];
  beforeAll(async () => {
    server = await startApache(apache as string, { mpm: 'event', extendedStatus: false });
    sockets = await openIdleConnections(server.port, 2, '127.0.0.2');
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await server?.stop();
  });

  it('still counts R, and says per-client counts are unknown', async () => {
    const report = await probeUntil(`http://127.0.0.1:${server.port}/server-status?auto`, 2, 10_000);
    expect(report).toMatchObject({ reading: 2, readingByClient: null, error: null });
    expect(report.trust).toContain(CAVEATS.noExtendedStatus);
  });
});

describe.skipIf(!apache)('Apache 2.4 with Linux deferred accept (AcceptFilter http data)', () => {
  let server: RunningServer;
  let sockets: Socket[] = [];
  beforeAll(async () => {
    server = await startApache(apache as string, { mpm: 'event', acceptFilter: 'data' });
    // The start-up check's connection (connect, then close) is handed to Apache when
    // its FIN arrives and shows as R while a worker reads it; on a busy machine it can
    // still be there. Let it go before opening the connections the test is about.
    const settled = await probeUntil(`http://127.0.0.1:${server.port}/server-status?auto`, 0, 10_000);
    expect(settled.reading).toBe(0);
    sockets = await openIdleConnections(server.port, 2, '127.0.0.2');
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await server?.stop();
  });

  it('reports 0 R at first with the deferred-accept caveat, then the real count once the kernel hands them over', async () => {
    const url = `http://127.0.0.1:${server.port}/server-status?auto`;
    const early = await probeBackend(url);
    expect(early).toMatchObject({ reading: 0, error: null });
    expect(early.trust).toContain(CAVEATS.deferredAccept);

    // TCP_DEFER_ACCEPT: Apache asks for 30 s; the kernel then passes them on.
    const deadline = Date.now() + 60_000;
    let late = early;
    while (late.reading !== 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      late = await probeBackend(url);
    }
    expect(late).toMatchObject({ reading: 2, readingByClient: { '127.0.0.2': 2 } });
  }, 90_000);
});
