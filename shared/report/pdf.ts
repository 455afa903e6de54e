import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ElbscopeError } from '../errors';

/** Why a PDF could not be made: one line naming what to do. */
export class PdfError extends ElbscopeError {
  override name = 'PdfError';
}

const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** Chromium's path: `ELBSCOPE_CHROMIUM`, else the first of the usual names on PATH; null when none. */
function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.ELBSCOPE_CHROMIUM) return env.ELBSCOPE_CHROMIUM;
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of BROWSERS) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return null;
}

/**
 * The HTML report printed to PDF by headless Chromium (the same page, its print
 * stylesheet: A4, light), with no network (a dead proxy, no background services),
 * a throwaway profile and a deadline. Throws a PdfError naming the cause.
 */
export async function htmlToPdf(
  html: string,
  outFile: string,
  options: { chromium?: string | null; timeoutMs?: number } = {},
): Promise<void> {
  const chromium = options.chromium === undefined ? findChromium() : options.chromium;
  if (!chromium)
    throw new PdfError(
      'report --format pdf needs Chromium: install it (apt-get install chromium) or set ELBSCOPE_CHROMIUM to its path, or use --format html',
    );
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-pdf-'));
  try {
    const page = join(dir, 'report.html');
    writeFileSync(page, html);
    await new Promise<void>((resolve, reject) => {
      execFile(
        chromium,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--proxy-server=127.0.0.1:9',
          `--user-data-dir=${join(dir, 'profile')}`,
          '--no-pdf-header-footer',
          `--print-to-pdf=${outFile}`,
          `file://${page}`,
        ],
        { timeout: options.timeoutMs ?? 60_000 },
        (err, _stdout, stderr) => {
          if (err)
            reject(
              new PdfError(
                `report --format pdf: ${chromium} failed (${err.killed ? 'no PDF within the deadline' : (String(stderr).trim().split('\n').pop() ?? err.message).slice(0, 200)})`,
              ),
            );
          else resolve();
        },
      );
    });
    if (statSync(outFile, { throwIfNoEntry: false })?.size === undefined)
      throw new PdfError(`report --format pdf: ${chromium} wrote no PDF to ${outFile}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
