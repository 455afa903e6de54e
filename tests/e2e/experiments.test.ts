import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab';
import { runElbscope } from '../helpers/cli';

// The field notes' experiments as a user runs them (the real executable), against
// a lab with one node and compressed time: backends drop idle connections after
// 3 s, and requests count towards extra pre-opened connections for 2 s.
// Real time, not the stepped clock: the experiments run in the CLI's own process
// against a real load balancer's timing (connection ages, waits between requests),
// so the lab must keep real time too. Their assertions are ranges, not timings.
const lab = new Lab({
  name: 'exp',
  region: 'us-east-1',
  nodesPerAz: { 'us-east-1a': 1 },
  backends: [
    { name: 'web', slots: 64 },
    { name: 'secure', slots: 64, tlsDays: 365 },
  ],
  idleTimeoutMs: 3000,
  trafficWindowMs: 2000,
});
let dnsServer: string;
beforeAll(async () => {
  ({ dnsServer } = await lab.start());
});
afterAll(() => lab.stop());

describe('elbscope experiment', () => {
  it("preopen reproduces the shape of the field notes' table: 1 at rest, +5-7 with traffic, up to ~17", async () => {
    const web = lab.backend('web');
    const r = await runElbscope(
      [
        'experiment',
        'preopen',
        '--lb',
        lab.elb.dnsName,
        '--dns-server',
        dnsServer,
        '--port',
        String(lab.listenerPort('http')),
        '--status',
        `http://127.0.0.1:${web.statusPort}/server-status`,
        '--requests',
        '0,1,5,15',
        '--settle',
        '300ms',
        '--reset',
        '15s',
        '--json',
      ],
      {},
      120_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout).rows as { requests: number; reading: number }[];
    const reading = Object.fromEntries(rows.map((x) => [x.requests, x.reading]));
    expect(reading[0]).toBe(1);
    expect(reading[1]).toBeGreaterThanOrEqual(6);
    expect(reading[1]).toBeLessThanOrEqual(8);
    expect(reading[5]).toBeGreaterThan(reading[1] as number);
    expect(reading[15]).toBeGreaterThanOrEqual(reading[5] as number);
    expect(reading[15]).toBeLessThanOrEqual(18);
    expect(r.stderr).toContain('[####] 4/4');
  }, 130_000);

  it('reuse shows the marked request arrived over a connection opened before it', async () => {
    const web = lab.backend('web');
    const r = await runElbscope(
      [
        'experiment',
        'reuse',
        '--lb',
        lab.elb.dnsName,
        '--dns-server',
        dnsServer,
        '--port',
        String(lab.listenerPort('http')),
        '--status',
        `http://127.0.0.1:${web.statusPort}/server-status`,
        '--wait',
        '1,2',
        '--json',
      ],
      {},
      60_000,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout).rows as { waitMs: number; connectionAgeSeconds: number; preopened: boolean }[];
    for (const row of rows) {
      expect(row.preopened, r.stdout).toBe(true);
      expect(row.connectionAgeSeconds).toBeGreaterThanOrEqual(row.waitMs / 1000 - 1);
    }
  }, 70_000);

  it('tls: the request through the load balancer reaches the self-signed backend over TLS', async () => {
    const secure = lab.backend('secure');
    const r = await runElbscope([
      'experiment',
      'tls',
      '--lb',
      lab.elb.dnsName,
      '--dns-server',
      dnsServer,
      '--port',
      String(lab.listenerPort('https')),
      '--backend',
      `127.0.0.1:${secure.trafficPort}`,
      '--json',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.status).toBe(200);
    expect(result.backendLeg).toMatch(/^TLSv1\.[23] \S+/);
    expect(result.backend).toMatchObject({ selfSigned: true, error: null });
    expect(result.backend.protocol).toMatch(/^TLSv1\.[23]$/);
  });

  it('names an unresolvable load balancer in one line (exit 2)', async () => {
    const r = await runElbscope([
      'experiment',
      'tls',
      '--lb',
      'nope-1.us-east-1.elb.amazonaws.com',
      '--dns-server',
      dnsServer,
      '--backend',
      '127.0.0.1:1',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('elbscope: --lb nope-1.us-east-1.elb.amazonaws.com: does not resolve (ENOTFOUND)');
  });
});
