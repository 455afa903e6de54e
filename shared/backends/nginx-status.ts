import type { Parsed } from './apache-status';
import { looksLikeHtml, wholeNumber } from './apache-status';

/** nginx `stub_status` counters. */
export interface NginxStatus {
  active: number;
  accepts: number | null;
  handled: number | null;
  requests: number | null;
  reading: number;
  writing: number;
  /** Idle connections: keep-alive ones and never-used (pre-opened) ones alike. */
  waiting: number;
}

/**
 * Parse stub_status text. Never throws; line by line, so linear in the input
 * (a regular expression in multiline mode can rescan runs of blank lines).
 * A count beyond 15 digits is not a count: an error, never 1e20.
 */
export function parseNginxStatus(text: string): Parsed<NginxStatus> {
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, error: 'empty status page' };
  if (looksLikeHtml(text)) return { ok: false, error: 'got an HTML page, not nginx stub_status text' };
  let active: string | undefined;
  let rww: string[] | undefined;
  let totals: string[] | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (active === undefined && line.startsWith('Active connections:'))
      active = line.slice('Active connections:'.length).trim();
    else if (rww === undefined && line.startsWith('Reading:'))
      rww = /^Reading:\s*(\S+)\s+Writing:\s*(\S+)\s+Waiting:\s*(\S+)$/.exec(line)?.slice(1);
    else if (totals === undefined && /^\d+\s+\d+\s+\d+$/.test(line)) totals = line.split(/\s+/);
  }
  if (active === undefined || rww === undefined)
    return {
      ok: false,
      error: 'not nginx stub_status output (no "Active connections" or "Reading/Writing/Waiting" line)',
    };
  const [reading, writing, waiting] = rww.map(wholeNumber);
  const activeCount = wholeNumber(active);
  if (
    activeCount === null ||
    reading === null ||
    writing === null ||
    waiting === null ||
    reading === undefined ||
    writing === undefined ||
    waiting === undefined
  ) {
    return {
      ok: false,
      error: `not a count in nginx stub_status: "Active connections: ${active.slice(0, 40)}", "Reading: ${rww.join(' ').slice(0, 60)}" (whole numbers up to 15 digits)`,
    };
  }
  const [accepts, handled, requests] = (totals ?? []).map(wholeNumber);
  return {
    ok: true,
    value: {
      active: activeCount,
      accepts: accepts ?? null,
      handled: handled ?? null,
      requests: requests ?? null,
      reading,
      writing,
      waiting,
    },
  };
}

/** Whether text looks like stub_status (to tell nginx from Apache by content). */
export function looksLikeNginxStatus(text: string): boolean {
  return /^Active connections:/m.test(text);
}
