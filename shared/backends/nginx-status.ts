import type { Parsed } from './apache-status';
import { looksLikeHtml } from './apache-status';

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

/** Parse stub_status text. Never throws. */
export function parseNginxStatus(text: string): Parsed<NginxStatus> {
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, error: 'empty status page' };
  if (looksLikeHtml(text)) return { ok: false, error: 'got an HTML page, not nginx stub_status text' };
  const active = /^Active connections:\s*(\d+)/m.exec(text);
  const rww = /^Reading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)/m.exec(text);
  if (!active || !rww) return { ok: false, error: 'not nginx stub_status output (no "Active connections" or "Reading/Writing/Waiting" line)' };
  const totals = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/m.exec(text);
  return {
    ok: true,
    value: {
      active: Number(active[1]),
      accepts: totals ? Number(totals[1]) : null,
      handled: totals ? Number(totals[2]) : null,
      requests: totals ? Number(totals[3]) : null,
      reading: Number(rww[1]),
      writing: Number(rww[2]),
      waiting: Number(rww[3]),
    },
  };
}

/** Whether text looks like stub_status (to tell nginx from Apache by content). */
export function looksLikeNginxStatus(text: string): boolean {
  return /^Active connections:/m.test(text);
}
