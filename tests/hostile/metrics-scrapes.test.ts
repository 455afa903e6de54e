import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadBalancerSnapshot } from '../../shared/cycle/snapshot';
import type { BackendTls } from '../../shared/cycle/tls-round';
import { negotiateFormat, OpenMetrics, serveMetrics } from '../../shared/metrics/openmetrics';
import { nodeSnapshot } from '../helpers/snapshots';
import { requireBinary } from '../helpers/servers';

// Hostile scrapes of `--metrics-listen` and hostile names on its page.
const promtool = requireBinary(['promtool']);

const HOSTILE_NAMES = [
  'q"uote',
  'back\\slash',
  'new\nline',
  'cr\rret',
  'lone\ud800surrogate',
  'tab\tand,comma=x',
  '😀',
  '',
];

function snapshot(backends: string[]): LoadBalancerSnapshot {
  const s = nodeSnapshot('web-1.us-east-1.elb.amazonaws.com', ['10.0.0.1']);
  return {
    ...s,
    name: 'web',
    backends: backends.map((name, i) => ({
      name,
      report: { reading: i, busy: i, idle: 1, slots: 16, error: null } as never,
      readingByNode: null,
    })),
  };
}

function tlsResult(backend: string, daysLeft: number | null): BackendTls {
  return {
    loadBalancer: 'web-1.us-east-1.elb.amazonaws.com',
    backend,
    finding: {
      daysLeft,
      validTo: daysLeft === null ? null : new Date(Date.UTC(2027, 0, 1 + daysLeft)).toISOString(),
      error: daysLeft === null ? 'handshake refused' : null,
      findings: [],
    } as never,
  };
}

/** Sample lines of a page: `name{labels}` → how many times it appears. */
function seriesCounts(page: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of page.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const key = line.slice(0, line.lastIndexOf(' '));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('hostile label values on the page', () => {
  const metrics = new OpenMetrics();
  metrics.cycle([snapshot(HOSTILE_NAMES)], 1234);
  metrics.tls(
    HOSTILE_NAMES.map((n, i) => tlsResult(n, i)),
    () => 'web',
  );

  it('the text page passes promtool, each series once, no raw newline inside a sample', async () => {
    const { body } = await metrics.page('text');
    for (const [key, n] of seriesCounts(body)) expect(n, key).toBe(1);
    for (const line of body.split('\n')) if (line !== '') expect(line).toMatch(/^(# (HELP|TYPE) |elbscope_)/);
    expect(Buffer.from(body, 'utf8').toString('utf8').isWellFormed()).toBe(true);
    if (promtool) {
      const r = spawnSync(promtool, ['check', 'metrics'], { input: Buffer.from(body, 'utf8'), timeout: 30_000 });
      expect({ status: r.status, out: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, out: '' });
    }
  });

  it('the OpenMetrics page: each series once, every line a comment or a sample, ends with # EOF', async () => {
    const { body } = await metrics.page('openmetrics');
    expect(body.endsWith('\n# EOF\n')).toBe(true);
    for (const [key, n] of seriesCounts(body)) expect(n, key).toBe(1);
    for (const line of body.split('\n').slice(0, -2)) expect(line).toMatch(/^(# (HELP|TYPE|UNIT) |elbscope_)/);
  });

  it('a backend whose handshake now fails, or that is gone, leaves no certificate series from an earlier round', async () => {
    const m = new OpenMetrics();
    m.tls([tlsResult('b1', 30), tlsResult('b2', 40)], () => 'web');
    expect((await m.page('text')).body).toMatch(
      /^elbscope_certificate_expiry_timestamp_seconds\{load_balancer="web",backend="b2"\} 1802217600$/m,
    );
    m.tls([tlsResult('b1', null)], () => 'web');
    const { body } = await m.page('text');
    expect(body).not.toMatch(/elbscope_certificate_expiry_timestamp_seconds\{/);
  });

  it('counters only go up across cycles (a series that vanishes from a cycle keeps its count)', async () => {
    const m = new OpenMetrics();
    const failing = snapshot(['b1']);
    failing.backends[0]!.report = { ...failing.backends[0]!.report, error: 'HTTP 500' };
    m.cycle([failing], 1);
    m.cycle([snapshot([])], 1);
    const { body } = await m.page('text');
    expect(body).toMatch(/^elbscope_observation_failures_total\{source="backend"\} 1$/m);
  });
});

describe('hostile Accept headers', () => {
  it.each([
    ['', 'text'],
    [';;;,,,;q=', 'text'],
    ['garbage', 'text'],
    ['*/*', 'text'],
    ['text/plain;version=0.0.4', 'text'],
    ['application/openmetrics-text;version=1.0.0', 'openmetrics'],
    ['application/openmetrics-text;version=0.0.1', 'openmetrics'],
    ['application/openmetrics-text;version="1.0.0"', 'openmetrics'],
    ['APPLICATION/OPENMETRICS-TEXT;VERSION=1.0.0', 'openmetrics'],
    ['application/openmetrics-text;q=0', 'text'],
    ['application/openmetrics-text;q=0.0', 'text'],
    ['application/openmetrics-text;q=0.5, text/plain;q=1', 'text'],
    ['text/plain;q=0.5, application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text;q=abc', 'text'],
    ['application/openmetrics-text;q=NaN, text/plain;q=0.1', 'text'],
    ['application/openmetrics-text;version=9.9.9, */*', 'text'],
  ])('%j gives %s', (accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });

  it('64 KB and 100,000 entries: an answer, the same as a short header gives', () => {
    expect(negotiateFormat(`${'x'.repeat(65_536)}, application/openmetrics-text`)).toBe('openmetrics');
    expect(negotiateFormat(`${'text/html;q=0.1,'.repeat(100_000)}application/openmetrics-text;q=0.2`)).toBe(
      'openmetrics',
    );
    expect(negotiateFormat(`text/plain;${'a=b;'.repeat(100_000)}q=1`)).toBe('text');
  });
});

describe('hostile requests to the listener', () => {
  const metrics = new OpenMetrics();
  let server: Awaited<ReturnType<typeof serveMetrics>>;
  beforeAll(async () => {
    metrics.cycle([snapshot(['b1'])], 10);
    server = await serveMetrics(metrics, '127.0.0.1', 0);
  });
  afterAll(() => server.close());

  const send = (method: string, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const url = new URL(path, server.url);
      const req = request(url, { method, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('HEAD /metrics answers as GET does, without a body', async () => {
    const get = await send('GET', '/metrics');
    const head = await send('HEAD', '/metrics');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
  });

  it('another method on /metrics is 405 naming the allowed ones; an unknown path 404', async () => {
    const post = await send('POST', '/metrics');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await send('GET', '/metrics/../admin')).status).toBe(404);
    expect((await send('GET', '/')).status).toBe(404);
    expect((await send('GET', '/metrics?x=1')).status).toBe(200);
  });

  it('50 concurrent scrapes, alternating formats, each gets its own whole page', async () => {
    const pages = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        send('GET', '/metrics', i % 2 ? { accept: 'application/openmetrics-text' } : {}),
      ),
    );
    pages.forEach((p, i) => {
      expect(p.status).toBe(200);
      expect(p.body.endsWith('# EOF\n')).toBe(i % 2 === 1);
      expect(p.body).toContain('elbscope_backend_worker_slots{load_balancer="web",backend="b1"} 16');
    });
  });
});
