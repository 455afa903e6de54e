import { describe, expect, it } from 'vitest';
import { afterTags, parseApacheHtml } from '../../../shared/backends/apache-html';
import { parseApacheAuto } from '../../../shared/backends/apache-status';
import { parseNginxStatus } from '../../../shared/backends/nginx-status';

// Status pages shaped to make a backtracking parser hang (each took seconds to
// minutes at a few thousand characters before the parsers were made linear),
// at 1 MiB: the fetch cap. A parser that is not linear does not finish within
// the test's time limit; the results are checked as well.
const MiB = 1_048_576;
const APACHE = '<html><head><title>Apache Status</title></head><body><h1>Apache Server Status for x</h1>';

describe('Status-page parsers on hostile input (1 MiB, linear)', () => {
  it('a <pre> followed by a long run of spaces and no </pre>: no scoreboard, no hang', () => {
    const r = parseApacheHtml(`${APACHE}<pre>${' '.repeat(MiB)}`);
    expect(r).toEqual({ ok: true, value: expect.objectContaining({ scoreboard: null, extendedStatus: false }) });
  }, 20_000);

  it('<tr  repeated without a closing >: the table ends there, no hang', () => {
    const r = parseApacheHtml(
      `${APACHE}<table><tr><th>Srv</th><th>M</th><th>Client</th></tr>${'<tr '.repeat(MiB / 4)}`,
    );
    expect(r).toEqual({ ok: true, value: expect.objectContaining({ extendedStatus: true, slots: [] }) });
  }, 20_000);

  it('cells full of < with no >, and entity soup', () => {
    const row = `<tr><td>0-0</td><td>R</td><td>${'<'.repeat(MiB / 2)}</td></tr><tr><td>1-0</td><td>_</td><td>${'&amp;'.repeat(100_000)}</td></tr>`;
    const r = parseApacheHtml(`${APACHE}<table><tr><th>Srv</th><th>M</th><th>Client</th></tr>${row}</table>`);
    expect(r.ok && r.value.slots.map((s) => [s.srv, s.mode, s.client.length])).toEqual([
      ['0-0', 'R', 0],
      ['1-0', '_', 100_000],
    ]);
  }, 20_000);

  it('nginx stub_status followed by a megabyte of newlines', () => {
    const r = parseNginxStatus(
      `Active connections: 3 \nserver accepts handled requests\n 10 10 20 \nReading: 1 Writing: 1 Waiting: 1 ${'\n'.repeat(MiB)}x`,
    );
    expect(r).toEqual({
      ok: true,
      value: { active: 3, accepts: 10, handled: 10, requests: 20, reading: 1, writing: 1, waiting: 1 },
    });
    expect(parseNginxStatus(`${'\n'.repeat(MiB)}   ${' \n'.repeat(MiB / 4)}`)).toMatchObject({ ok: false });
  }, 20_000);

  it('a count nginx cannot hold is an error, not 1e20', () => {
    expect(parseNginxStatus('Active connections: 3\nReading: 99999999999999999999 Writing: 1 Waiting: 1\n')).toEqual({
      ok: false,
      error: expect.stringMatching(/^not a count in nginx stub_status: .*Reading: 99999999999999999999/),
    });
  });

  it('?auto with a megabyte of colon-less junk and keys named like Object properties', () => {
    const r = parseApacheAuto(
      `constructor: 5\n__proto__: x\ntoString: y\n${'junk '.repeat(MiB / 5)}\nScoreboard: RR__\n`,
    );
    expect(
      r.ok && [
        r.value.fields.constructor,
        r.value.fields.toString,
        Object.getPrototypeOf(r.value.fields),
        r.value.counts.R,
      ],
    ).toEqual(['5', 'y', null, 2]);
  }, 20_000);

  it('afterTags keeps tags that only start alike apart (<thead> is not <th>)', () => {
    expect(afterTags('<thead><th class="x">A</th><TH>B<th', 'th')).toEqual(['A</th>', 'B<th']); // the unclosed tag at the end starts nothing
  });
});

describe('A real HTTP fetch of a status page whose clients and modes are named like Object properties', () => {
  it('counts R per client "constructor" and "__proto__" as names, and a mode "constructor" as no state', async () => {
    const { createServer } = await import('node:http');
    const row = (srv: string, mode: string, client: string, req = 'NULL') =>
      `<tr><td><b>${srv}</b></td><td>1</td><td>0/0/0</td><td><b>${mode}</b></td><td>0</td><td>1</td><td>0</td><td>0.0</td><td>0.00</td><td>0.00</td><td>0.00</td><td>${client}</td><td>http/1.1</td><td>x</td><td>${req}</td></tr>`;
    const page = `${APACHE}<dl><dt>Server Version: Apache/2.4.71 (Debian)</dt><dt>Server MPM: prefork</dt></dl><pre>RRRW_</pre>
<table border="0"><tr><th>Srv</th><th>PID</th><th>Acc</th><th>M</th><th>CPU</th><th>SS</th><th>Req</th><th>Dur</th><th>Conn</th><th>Child</th><th>Slot</th><th>Client</th><th>Protocol</th><th>VHost</th><th>Request</th></tr>
${row('0-0', 'R', 'constructor')}${row('1-0', 'R', '__proto__')}${row('2-0', 'R', 'constructor')}${row('3-0', 'constructor', '10.0.0.1', 'GET /server-status HTTP/1.1')}${row('4-0', '_', '10.0.0.2')}</table></body></html>`;
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { probeBackend } = await import('../../../shared/backends/probe');
      const report = await probeBackend(
        `http://127.0.0.1:${(server.address() as { port: number }).port}/server-status`,
      );
      expect(report.error).toBeNull();
      expect(Object.entries(report.readingByClient ?? {}).sort()).toEqual([
        ['__proto__', 1],
        ['constructor', 2],
      ]);
      expect(Object.getPrototypeOf(report.readingByClient)).toBeNull();
      expect([report.reading, report.busy]).toEqual([3, 4]); // R×3 and the W; no NaN from the odd mode
      expect(({} as Record<string, unknown>).constructor).toBe(Object); // nothing leaked into Object.prototype
    } finally {
      server.close();
    }
  });
});
