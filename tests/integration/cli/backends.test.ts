import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runElbscope } from '../../helpers/cli';
import { selfSignedCert, type TestCert } from '../../helpers/certs';
import { freePort, openIdleConnections, requireBinary, startApache, type RunningServer } from '../../helpers/servers';

const apache = requireBinary(['apache2', 'httpd']);

describe.skipIf(!apache)('Commands: elbscope backends / tls', () => {
  let plain: RunningServer;
  let tls: RunningServer;
  let cert: TestCert;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    cert = selfSignedCert('cli.test');
    [plain, tls] = await Promise.all([
      startApache(apache as string, { mpm: 'event' }),
      startApache(apache as string, { mpm: 'prefork', tls: cert }),
    ]);
    sockets.push(...(await openIdleConnections(plain.port, 2, '127.0.0.5')));
    await new Promise((r) => setTimeout(r, 300));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([plain?.stop(), tls?.stop()]);
  });

  it('backends --json gives the documented fields per backend', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/server-status`;
    const r = await runElbscope(['backends', `http://127.0.0.1:${plain.port}/server-status?auto`, closed, '--json']);
    expect(r.code).toBe(1); // one backend could not be read
    const { backends } = JSON.parse(r.stdout);
    expect(backends).toHaveLength(2);
    for (const key of [
      'url',
      'server',
      'mpm',
      'reading',
      'busy',
      'idle',
      'slots',
      'keepalive',
      'readingByClient',
      'trust',
      'error',
    ]) {
      expect(backends[0]).toHaveProperty(key);
    }
    expect(backends[0]).toMatchObject({
      server: 'apache',
      mpm: 'event',
      reading: 2,
      readingByClient: { '127.0.0.5': 2 },
      slots: 16,
      error: null,
    });
    expect(backends[1]).toMatchObject({
      url: closed,
      server: null,
      reading: null,
      error: `${closed}: connection refused`,
    });
  });

  it('backends prints a table with the caveats', async () => {
    const r = await runElbscope(['backends', `http://127.0.0.1:${plain.port}/server-status`, '--accept-filter-none']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/URL +SERVER +MPM +R +BUSY/);
    expect(r.stdout).toMatch(/apache +event +2 +2 /);
    expect(r.stdout).toContain('127.0.0.5×2');
    expect(r.stdout).not.toContain('deferred accept');
  });

  it('tls --json gives the documented fields and the fingerprint openssl computes', async () => {
    const r = await runElbscope(['tls', `127.0.0.1:${tls.port}`, '--servername', 'cli.test', '--json']);
    expect(r.code).toBe(0);
    const { targets } = JSON.parse(r.stdout);
    for (const key of [
      'target',
      'protocol',
      'cipher',
      'subject',
      'issuer',
      'selfSigned',
      'authorized',
      'validTo',
      'daysLeft',
      'fingerprint256',
      'error',
    ]) {
      expect(targets[0]).toHaveProperty(key);
    }
    expect(targets[0]).toMatchObject({
      selfSigned: true,
      authorized: false,
      fingerprint256: cert.fingerprint256,
      error: null,
    });
  });

  it('tls exits 1 naming a plain-HTTP port, and 2 for a malformed target', async () => {
    const r = await runElbscope(['tls', `127.0.0.1:${plain.port}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `! 127.0.0.1:${plain.port}: not TLS: the port answered in plain text (HTTP on a TLS port?)`,
    );
    const bad = await runElbscope(['tls', 'a b']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/"a b" is not HOST:PORT/);
  });
});
