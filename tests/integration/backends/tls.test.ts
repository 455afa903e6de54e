import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { probeTls } from '../../../shared/backends/tls-probe';
import { probeBackend } from '../../../shared/backends/probe';
import { expiredCert, selfSignedCert, type TestCert } from '../../helpers/certs';
import { freePort, requireBinary, startApache, type RunningServer } from '../../helpers/servers';

// Real TLS: Apache mod_ssl serving certificates that openssl made for this run.
const apache = requireBinary(['apache2', 'httpd']);

describe.skipIf(!apache)('Function: probeTls against Apache mod_ssl', () => {
  let cert: TestCert;
  let old: TestCert;
  let tls: RunningServer;
  let expired: RunningServer;
  let plain: RunningServer;
  beforeAll(async () => {
    cert = selfSignedCert('backend.test');
    old = expiredCert('old.test');
    [tls, expired, plain] = await Promise.all([
      startApache(apache as string, { mpm: 'event', tls: cert }),
      startApache(apache as string, { mpm: 'event', tls: old }),
      startApache(apache as string, { mpm: 'event' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([tls?.stop(), expired?.stop(), plain?.stop()]);
  });

  it('describes a self-signed certificate: fingerprint as openssl prints it, protocol, cipher, SANs', async () => {
    const f = await probeTls(`127.0.0.1:${tls.port}`, { servername: 'backend.test' });
    expect(f.error).toBeNull();
    expect(f.fingerprint256).toBe(cert.fingerprint256);
    expect(f).toMatchObject({ selfSigned: true, authorized: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(f.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(f.cipher).toMatch(/^(TLS_|ECDHE)/);
    expect(f.subject).toContain('CN=backend.test');
    expect(f.issuer).toBe(f.subject);
    expect(f.sans).toEqual(['DNS:backend.test', 'IP Address:127.0.0.1']);
    expect(f.daysLeft).toBeGreaterThanOrEqual(363);
    expect(f.findings).toEqual(['self-signed certificate (an ELB accepts it; the backend leg is still encrypted)']);
  });

  it('does not turn verification off for anything else in the process', async () => {
    await probeTls(`127.0.0.1:${tls.port}`);
    await expect(request(`https://127.0.0.1:${tls.port}/`)).rejects.toMatchObject({
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
  });

  it('checks a pinned fingerprint', async () => {
    const ok = await probeTls(`127.0.0.1:${tls.port}`, { pinSha256: cert.fingerprint256.toLowerCase() });
    expect(ok.findings.some((x) => x.includes('pinned'))).toBe(false);
    const changed = await probeTls(`127.0.0.1:${tls.port}`, { pinSha256: old.fingerprint256 });
    expect(changed.findings).toContain(
      `fingerprint ${cert.fingerprint256} does not match the pinned ${old.fingerprint256}`,
    );
  });

  it('flags an expired certificate as a finding, not a crash', async () => {
    const f = await probeTls(`127.0.0.1:${expired.port}`);
    expect(f).toMatchObject({ error: null, validTo: '2020-02-01T00:00:00.000Z', fingerprint256: old.fingerprint256 });
    expect(f.daysLeft).toBeLessThan(0);
    expect(f.findings).toContain('certificate expired on 2020-02-01T00:00:00.000Z');
  });

  it('reads an https status page with a self-signed certificate only when told not to verify it', async () => {
    const url = `https://127.0.0.1:${tls.port}/server-status`;
    const refused = await probeBackend(url);
    expect(refused.error).toBe(
      `${url}: TLS certificate not trusted (DEPTH_ZERO_SELF_SIGNED_CERT); set "statusTlsVerify": false for this backend to read it anyway`,
    );
    const read = await probeBackend(url, { limits: { timeoutMs: 5000, maxBytes: 1_048_576, verifyTls: false } });
    expect(read).toMatchObject({ server: 'apache', error: null });
  });

  it('names plain HTTP on the port', async () => {
    const f = await probeTls(`127.0.0.1:${plain.port}`);
    expect(f.error).toBe(`127.0.0.1:${plain.port}: not TLS: the port answered in plain text (HTTP on a TLS port?)`);
    expect(f.fingerprint256).toBeNull();
  });

  it('names a refused connection and a malformed target', async () => {
    const port = await freePort();
    expect((await probeTls(`127.0.0.1:${port}`)).error).toBe(`127.0.0.1:${port}: connection refused`);
    expect((await probeTls('no port here:x')).error).toBe('no port here:x: not HOST:PORT');
  });
});
