import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { countScoreboard, parseApacheAuto, SCOREBOARD_STATES } from '../../../shared/backends/apache-status';
import { parseApacheHtml } from '../../../shared/backends/apache-html';
import { parseNginxStatus } from '../../../shared/backends/nginx-status';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/status/${name}`, import.meta.url), 'utf8');

describe('Function: parseApacheAuto', () => {
  it.each([
    ['apache-2.4-prefork.auto.txt', 'prefork', { R: 3, W: 1, _: 1 }],
    ['apache-2.4-worker.auto.txt', 'worker', { R: 3, W: 1 }],
    ['apache-2.4-event.auto.txt', 'event', { R: 3, W: 1, _: 4, '.': 8 }],
    ['apache-2.4-prefork-ssl.auto.txt', 'prefork', { R: 2, W: 1 }],
  ])('reads %s (real Apache 2.4)', (file, mpm, counts) => {
    const parsed = parseApacheAuto(fixture(file));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.host).toBe('127.0.0.1');
    expect(parsed.value.mpm).toBe(mpm);
    expect(parsed.value.serverVersion).toMatch(/^Apache\/2\.4\.\d+ \(Debian\)/);
    expect(parsed.value.counts).toMatchObject(counts);
    expect(parsed.value.scoreboard).toHaveLength(16);
  });

  it('keeps the scoreboard of a mod_ssl page although a TLS cache block follows it', () => {
    const parsed = parseApacheAuto(fixture('apache-2.4-prefork-ssl.auto.txt'));
    expect(parsed.ok && parsed.value.scoreboard).toBe('RRW.............');
    expect(parsed.ok && parsed.value.fields.CacheType).toBe('SHMCB');
  });

  it('reads a 2.2-style page: no host line, no MPM, 256 slots', () => {
    const parsed = parseApacheAuto(fixture('apache-2.2-prefork.auto.txt'));
    expect(parsed).toMatchObject({ ok: true, value: { host: null, mpm: null, serverVersion: null, busyWorkers: 12 } });
    expect(parsed.ok && parsed.value.counts.R).toBe(11);
    expect(parsed.ok && parsed.value.scoreboard.length).toBe(256);
  });

  it('counts every state, and unknown characters apart', () => {
    const { counts, unknown } = countScoreboard('_SRWKDCLGI.RX?');
    for (const s of SCOREBOARD_STATES) expect(counts[s]).toBe(s === 'R' ? 2 : 1);
    expect(unknown).toBe(2);
  });

  it('does not crash on empty or unit-suffixed values', () => {
    const parsed = parseApacheAuto(
      'host\nTotal kBytes: 3.9M\nBusyWorkers:\nIdleWorkers: lots\nno colon here\nScoreboard: R_\n',
    );
    expect(parsed).toMatchObject({
      ok: true,
      value: { busyWorkers: null, idleWorkers: null, fields: { 'Total kBytes': '3.9M' } },
    });
  });

  it.each([
    ['', 'empty status page'],
    [fixture('apache-2.4-404.html'), 'got an HTML page, not mod_status ?auto text'],
    [
      fixture('apache-2.4-event-truncated.auto.txt'),
      'no Scoreboard line: truncated, or not Apache mod_status ?auto output',
    ],
    [fixture('apache-2.4-worker-cut-scoreboard.auto.txt'), 'truncated: the Scoreboard line is not terminated'],
    [fixture('nginx.stub_status.txt'), 'no Scoreboard line: truncated, or not Apache mod_status ?auto output'],
  ])('names what is wrong with a bad page (%#)', (text, error) => {
    expect(parseApacheAuto(text)).toEqual({ ok: false, error });
  });

  it('never throws, and counts add up to the scoreboard length (fuzz)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (text) => {
        const parsed = parseApacheAuto(text);
        if (parsed.ok) {
          const total = Object.values(parsed.value.counts).reduce((a, b) => a + b, 0) + parsed.value.unknownStates;
          expect(total).toBe([...parsed.value.scoreboard].length);
        }
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('Scoreboard: ', 'R', '_', '\n', ':', 'BusyWorkers: ', '3.9M', 'x'), { maxLength: 60 }),
        (parts) => void parseApacheAuto(parts.join('')),
      ),
    );
  });
});

describe('Function: parseApacheHtml', () => {
  it.each(['prefork', 'worker', 'event'])('reads client IP, mode and age of each slot (%s)', (mpm) => {
    const parsed = parseApacheHtml(fixture(`apache-2.4-${mpm}.html`));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.mpm).toBe(mpm);
    expect(parsed.value.extendedStatus).toBe(true);
    expect(parsed.value.scoreboard).toMatch(/^[_SRWKDCLGI.]{16}$/);
    const reading = parsed.value.slots.filter((s) => s.mode === 'R');
    expect(reading.map((s) => s.client)).toEqual(['127.0.0.2', '127.0.0.2', '127.0.0.2']);
    expect(reading.every((s) => s.secondsSince !== null && s.secondsSince >= 0)).toBe(true);
    expect(parsed.value.slots.find((s) => s.mode === 'W')?.request).toBe('GET /server-status HTTP/1.1');
  });

  it('says when ExtendedStatus is off (no slot table)', () => {
    const html = fixture('apache-2.4-prefork.html').replace(/<table border="0"><tr><th>Srv[\s\S]*?<\/table>/, '');
    expect(parseApacheHtml(html)).toMatchObject({ ok: true, value: { extendedStatus: false, slots: [] } });
  });

  // The page is lowercased once and searched by index: a letter whose lowercase is two (İ) must not shift what is read.
  it('reads the same page with an İ in its server name', () => {
    const plain = parseApacheHtml(fixture('apache-2.4-event.html'));
    const dotted = parseApacheHtml(fixture('apache-2.4-event.html').replace('Server Version:', 'Server Version: İ'));
    expect(dotted.ok && plain.ok).toBe(true);
    if (!dotted.ok || !plain.ok) return;
    expect(dotted.value.scoreboard).toBe(plain.value.scoreboard);
    expect(dotted.value.slots).toEqual(plain.value.slots);
    expect(dotted.value.slots.length).toBeGreaterThan(0);
  });

  it('rejects an error page and plain text', () => {
    expect(parseApacheHtml(fixture('apache-2.4-404.html'))).toEqual({
      ok: false,
      error: 'not an Apache server-status HTML page',
    });
    expect(parseApacheHtml(fixture('apache-2.4-event.auto.txt')).ok).toBe(false);
  });

  it('never throws (fuzz)', () => {
    const html = fixture('apache-2.4-event.html');
    fc.assert(
      fc.property(
        fc.nat(html.length),
        fc.string({ maxLength: 50 }),
        (cut, noise) => void parseApacheHtml(html.slice(0, cut) + noise),
      ),
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 1000 }),
        (s) => void parseApacheHtml(`<html><h1>Apache Server Status</h1><table><tr><th>Srv</th><th>Client</th>${s}`),
      ),
    );
  });
});

describe('Function: parseNginxStatus', () => {
  it('reads real stub_status output', () => {
    expect(parseNginxStatus(fixture('nginx.stub_status.txt'))).toEqual({
      ok: true,
      value: { active: 4, accepts: 5, handled: 5, requests: 1, reading: 0, writing: 1, waiting: 3 },
    });
  });

  it('rejects Apache output and HTML', () => {
    expect(parseNginxStatus(fixture('apache-2.4-event.auto.txt')).ok).toBe(false);
    expect(parseNginxStatus(fixture('apache-2.4-404.html'))).toEqual({
      ok: false,
      error: 'got an HTML page, not nginx stub_status text',
    });
  });

  it('never throws (fuzz)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 500 }), (s) => void parseNginxStatus(s)));
  });
});
