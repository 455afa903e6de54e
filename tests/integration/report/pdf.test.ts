import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitEvents } from '../../../shared/ledger/commit';
import { makeEvent } from '../../../shared/detect/events';
import { localStore } from '../../../shared/store/local';
import { runElbscope } from '../../helpers/cli';
import { requireBinary } from '../../helpers/servers';

// `report --format pdf`: the HTML page printed by Debian's headless Chromium, A4;
// and, without Chromium, one line saying what to do.
const chromium = requireBinary(['chromium', 'chromium-browser']);

describe.skipIf(!chromium)('Command: elbscope report --format pdf', () => {
  const store = mkdtempSync(join(tmpdir(), 'elbscope-pdf-'));
  const seed = () =>
    commitEvents(
      localStore(store),
      'web',
      () => [
        makeEvent({
          kind: 'scaled',
          status: 'event',
          severity: 'info',
          loadBalancer: 'web',
          az: 'us-east-1a',
          backend: null,
          from: 1,
          to: 3,
          at: '2026-11-25T10:02:00.000Z',
          summary: 'web us-east-1a scaled 1 → 3 nodes',
          details: {},
        }),
      ],
      { at: '2026-11-25T10:00:00.000Z' },
    );

  it('writes an A4 PDF of the report', async () => {
    await seed();
    const out = join(store, 'report.pdf');
    const r = await runElbscope(['report', '--lb', 'web', '--store', store, '--format', 'pdf', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`report written to ${out}`);
    const pdf = readFileSync(out);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(10_000);
    // A4 is 595 × 842 points.
    const box = /\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(pdf.toString('latin1'));
    expect(Math.round(Number(box?.[1]))).toBe(595);
    expect(Math.round(Number(box?.[2]))).toBe(842);
  }, 90_000);

  it('says in one line what to do when Chromium is not installed, and asks for --out', async () => {
    // A PATH of an empty directory: no browser to find (the CLI itself is started by path).
    const none = await runElbscope(
      ['report', '--lb', 'web', '--store', store, '--format', 'pdf', '--out', join(store, 'x.pdf')],
      { PATH: mkdtempSync(join(tmpdir(), 'elbscope-nopath-')) },
    );
    expect(none.code).toBe(2);
    expect(none.stderr.trim()).toBe(
      'elbscope: report --format pdf needs Chromium: install it (apt-get install chromium) or set ELBSCOPE_CHROMIUM to its path, or use --format html',
    );
    const noOut = await runElbscope(['report', '--lb', 'web', '--store', store, '--format', 'pdf']);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr.trim()).toBe('elbscope: --format pdf writes a file: give --out FILE.pdf');
  }, 60_000);
});
