import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeBackend } from '../../../shared/backends/probe';
import { CAVEATS } from '../../../shared/backends/report';
import { openIdleConnections, requireBinary, startNginx, type RunningServer } from '../../helpers/servers';

const nginx = requireBinary(['nginx']);

describe.skipIf(!nginx)('nginx stub_status', () => {
  let server: RunningServer;
  let sockets: Socket[] = [];
  beforeAll(async () => {
    server = await startNginx(nginx as string);
    sockets = await openIdleConnections(server.port, 4);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await server?.stop();
  });

  it('shows idle pre-opened connections as Waiting, and says it cannot separate them', async () => {
    let report = await probeBackend(`http://127.0.0.1:${server.port}/nginx_status`);
    for (let i = 0; i < 20 && report.idle !== 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      report = await probeBackend(`http://127.0.0.1:${server.port}/nginx_status`);
    }
    expect(report).toMatchObject({
      server: 'nginx',
      reading: 0,
      idle: 4,
      busy: 0,
      slots: null,
      readingByClient: null,
      error: null,
    });
    expect(report.trust).toEqual([CAVEATS.nginxWaiting]);
  });

  it('names a page that is not a status page', async () => {
    const report = await probeBackend(`http://127.0.0.1:${server.port}/`);
    expect(report.error).toMatch(/not an Apache or nginx status page/);
  });
});
