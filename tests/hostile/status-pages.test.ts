import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeBackend } from '../../shared/backends/probe';

// Hostile status pages from a real HTTP server on loopback, through the probe
// elbscope runs every cycle: every one gives a report or one named error, in
// bounded time, with no number that is not a count (no NaN, no 1e20, no negative),
// and nothing leaked into Object.prototype.
const APACHE =
  '<html><head><title>Apache Status</title></head><body><h1>Apache Server Status for x</h1><dl><dt>Server Version: Apache/2.4.71</dt><dt>Server MPM: prefork</dt></dl>';
const AUTO = 'x.example\nServerVersion: Apache/2.4.71\nServerMPM: event\nBusyWorkers: 1\nIdleWorkers: 3\n';
const NGINX = 'Active connections: 2 \nserver accepts handled requests\n 5 5 9 \n';
const prefixes: Record<string, string> = {
  'Apache HTML': APACHE,
  'Apache ?auto': AUTO,
  'nginx stub_status': NGINX,
  'plain text': 'hello\n',
  JSON: '{"status":"ok"}',
  nothing: '',
};
const tails: Record<string, string> = {
  'a run of 200k spaces': ' '.repeat(200_000),
  'a run of 200k newlines': '\n'.repeat(200_000),
  '<pre> and 200k spaces, unclosed': `<pre>${' '.repeat(200_000)}`,
  '<tr  repeated 50k times': '<tr '.repeat(50_000),
  '< repeated 200k times': '<'.repeat(200_000),
  '&amp; repeated 50k times': '&amp;'.repeat(50_000),
  'NUL bytes': '\u0000'.repeat(10_000),
  'a 100k-slot scoreboard': `Scoreboard: ${'R_'.repeat(50_000)}\n`,
  'a count of 40 digits': `Reading: ${'9'.repeat(40)} Writing: 1 Waiting: 1\nBusyWorkers: ${'9'.repeat(40)}\nScoreboard: R_\n`,
  'negative counts': 'Reading: -5 Writing: -1 Waiting: -2\nBusyWorkers: -3\nScoreboard: R_\n',
  'keys named like Object properties': '__proto__: 1\nconstructor: 2\ntoString: 3\nhasOwnProperty: 4\nScoreboard: R\n',
  'a per-slot table with odd clients and modes':
    '<pre>RR_</pre><table><tr><th>Srv</th><th>M</th><th>Client</th></tr><tr><td>0-0</td><td>R</td><td>__proto__</td></tr><tr><td>1-0</td><td>constructor</td><td>constructor</td></tr></table>',
  'unicode and lone surrogates': '\ud800\udfff\u202e\ufeffR\u0085\u2028',
  'a cut-off table':
    '<pre>R_</pre><table><tr><th>Srv</th><th>M</th><th>Client</th></tr><tr><td>0-0</td><td>R</td><td>10.0.',
  'deeply nested tags': `${'<td>'.repeat(20_000)}R${'</td>'.repeat(20_000)}`,
  'an unterminated Scoreboard line': 'Scoreboard: RRRR',
};
const bodies = new Map<string, string>();
for (const [p, head] of Object.entries(prefixes))
  for (const [t, tail] of Object.entries(tails)) bodies.set(`${p} + ${t}`, head + tail);

let server: Server;
let base: string;
const paths = [...bodies.keys()];
beforeAll(async () => {
  server = createServer((req, res) => {
    const i = Number(new URL(req.url ?? '/', 'http://x').pathname.split('/')[1]);
    const body = bodies.get(paths[i] as string) ?? '';
    res.writeHead(200, { 'content-type': body.startsWith('<') ? 'text/html' : 'text/plain' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const count = (v: unknown) => v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);

describe(`Hostile status pages (${paths.length} cases): a report or one named error, counts that are counts`, () => {
  it.each(paths.map((p, i) => [p, i] as const))(
    '%s',
    async (_label, i) => {
      const report = await probeBackend(`${base}/${i}/server-status`);
      if (report.error !== null) {
        expect(report.error).not.toMatch(/\n/);
        expect(report.reading).toBeNull();
      }
      for (const v of [report.reading, report.busy, report.idle, report.slots, report.keepalive])
        expect(count(v), JSON.stringify(v)).toBe(true);
      if (report.readingShare !== null) expect(report.readingShare >= 0 && report.readingShare <= 1).toBe(true);
      for (const v of Object.values(report.readingByClient ?? {})) expect(count(v)).toBe(true);
      for (const v of Object.values(report.states ?? {})) expect(count(v)).toBe(true);
      expect(({} as Record<string, unknown>).provisioned).toBeUndefined();
      expect(typeof ({} as Record<string, unknown>).constructor).toBe('function');
    },
    20_000,
  );
});
