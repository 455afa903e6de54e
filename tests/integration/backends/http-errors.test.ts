import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeBackend } from '../../../shared/backends/probe';
import { freePort } from '../../helpers/servers';

// A misbehaving "status page" server on loopback: every way a scrape can go wrong.
let server: Server;
let base: string;
const apache404 =
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN">\n<html><head>\n<title>404 Not Found</title>\n</head><body><h1>Not Found</h1></body></html>\n';

beforeAll(async () => {
  server = createServer((req, res) => {
    switch (req.url) {
      case '/missing':
        res.writeHead(404, { 'content-type': 'text/html' }).end(apache404);
        return;
      case '/moved':
        res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
        return;
      case '/slow':
        setTimeout(() => res.end('Scoreboard: R\n'), 3_000);
        return;
      case '/huge':
        res
          .writeHead(200, { 'content-type': 'text/plain', 'content-length': '2000013' })
          .end(`Scoreboard: ${'R'.repeat(2_000_000)}\n`);
        return;
      case '/huge-chunked':
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 0; i < 300; i++) res.write('x'.repeat(10_000));
        res.end();
        return;
      case '/cut':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5000' });
        res.write('127.0.0.1\nServerVersion: Apache/2.4.71\nScoreboard: RR');
        setTimeout(() => res.destroy(), 50);
        return;
      case '/server-status':
        // A real prefork page: its slots show this scraper's earlier ?auto request (K) and the current one (W).
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(readFileSync(new URL('../../fixtures/status/apache-2.4-prefork.html', import.meta.url), 'utf8'));
        return;
      case '/no-scoreboard':
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(
            '<html><head><title>Apache Status</title></head><body><h1>Apache Server Status for x</h1></body></html>',
          );
        return;
      case '/no-scoreboard?auto':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('x\nServerMPM: prefork\nScoreboard: RRW_\n');
        return;
      case '/json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      default:
        res.writeHead(500).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

describe('Function: probeBackend on bad pages', () => {
  it.each([
    ['/missing', (u: string) => `${u}: HTTP 404 (404 Not Found)`],
    ['/moved', (u: string) => `${u}: HTTP 302 redirect to http://127.0.0.1:1/elsewhere, not followed`],
    ['/slow', (u: string) => `${u}: no answer within 500 ms`],
    ['/huge', (u: string) => `${u}: body of 2000013 bytes exceeds the 1048576-byte cap`],
    ['/huge-chunked', (u: string) => `${u}: body exceeds the 1048576-byte cap`],
    ['/cut', (u: string) => `${u}: truncated body after 53 bytes (connection closed by the server)`],
    [
      '/json',
      (u: string) =>
        `${u}: not an Apache or nginx status page (no Scoreboard line: truncated, or not Apache mod_status ?auto output)`,
    ],
  ])('%s gives one clear line and no numbers', async (path, expected) => {
    const url = `${base}${path}`;
    const report = await probeBackend(url, { limits: { timeoutMs: 500, maxBytes: 1_048_576 } });
    expect(report.error).toBe(expected(url));
    expect(report.reading).toBeNull();
    expect(report.server).toBeNull();
  });

  it("does not count status-page requests (its own W, an earlier scrape's K) as load", async () => {
    const report = await probeBackend(`${base}/server-status`, { acceptFilterNone: true });
    expect(report).toMatchObject({
      server: 'apache',
      mpm: 'prefork',
      reading: 3,
      busy: 3,
      keepalive: 0,
      readingByClient: { '127.0.0.2': 3 },
      error: null,
    });
    expect(report.states).toMatchObject({ R: 3, W: 0, K: 0 });
  });

  it('falls back to ?auto when the HTML page has no scoreboard', async () => {
    const report = await probeBackend(`${base}/no-scoreboard`, { acceptFilterNone: true });
    expect(report).toMatchObject({
      server: 'apache',
      mpm: 'prefork',
      reading: 2,
      busy: 2,
      error: null,
      readingByClient: null,
    });
  });

  it('names a refused connection and a URL that is not http(s)', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/server-status`;
    expect((await probeBackend(closed)).error).toBe(`${closed}: connection refused`);
    expect((await probeBackend('ftp://x/y')).error).toBe('ftp://x/y: not an http(s) URL');
  });
});
