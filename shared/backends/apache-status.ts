/**
 * Apache mod_status machine-readable output (`/server-status?auto`), parsed
 * leniently: keys vary across 2.2/2.4 and MPMs (prefork has no `Conns*` or
 * `Processes`, mod_ssl appends a `TLSSessionCacheStatus` block), so unknown keys
 * and lines without a colon are skipped. Total: any input gives a value or a
 * named error, never an exception.
 */

/** Every scoreboard state Apache writes (the `?auto` key and the HTML legend). */
export const SCOREBOARD_STATES = ['_', 'S', 'R', 'W', 'K', 'D', 'C', 'L', 'G', 'I', '.'] as const;
type ScoreboardState = (typeof SCOREBOARD_STATES)[number];
export type ScoreboardCounts = Record<ScoreboardState, number>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface ApacheAuto {
  /** The bare first line Apache 2.4 prints (the server name), if any. */
  host: string | null;
  serverVersion: string | null;
  /** `prefork`, `worker`, `event`; null on 2.2, which does not say. */
  mpm: string | null;
  scoreboard: string;
  counts: ScoreboardCounts;
  /** Scoreboard characters that are not a known state. */
  unknownStates: number;
  busyWorkers: number | null;
  idleWorkers: number | null;
  /** Every `key: value` line, as text (values such as `3.9M` are not numbers). */
  fields: Record<string, string>;
}

/** Count each scoreboard state; unknown characters are counted apart. */
export function countScoreboard(scoreboard: string): { counts: ScoreboardCounts; unknown: number } {
  const counts = Object.fromEntries(SCOREBOARD_STATES.map((s) => [s, 0])) as ScoreboardCounts;
  let unknown = 0;
  for (const ch of scoreboard) {
    if (ch in counts) counts[ch as ScoreboardState]++;
    else unknown++;
  }
  return { counts, unknown };
}

/** Whether a body is an HTML document rather than plain text. */
export function looksLikeHtml(text: string): boolean {
  return /^\s*(<!doctype|<html|<head|<body|<\?xml|<title)/i.test(text);
}

/** A whole number, or null for empty, fractional-with-unit or otherwise odd values. */
export function wholeNumber(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return null;
  return Number(value.trim());
}

/** Parse `?auto` text. */
export function parseApacheAuto(text: string): Parsed<ApacheAuto> {
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, error: 'empty status page' };
  if (looksLikeHtml(text)) return { ok: false, error: 'got an HTML page, not mod_status ?auto text' };
  const lines = text.split(/\r?\n/);
  const fields: Record<string, string> = Object.create(null); // keys from the page: no inherited names
  let host: string | null = null;
  let scoreboardLine = -1;
  lines.forEach((line, i) => {
    const colon = line.indexOf(':');
    if (colon <= 0) {
      // Apache 2.4 starts with the bare server name; other colon-less lines are skipped.
      if (i === 0 && /^[\w.:[\]-]+$/.test(line.trim())) host = line.trim();
      return;
    }
    const key = line.slice(0, colon).trim();
    if (key in fields) return; // the first wins: later blocks (TLS cache) reuse generic names
    fields[key] = line.slice(colon + 1).trim();
    if (key === 'Scoreboard') scoreboardLine = i;
  });
  if (scoreboardLine < 0 || fields.Scoreboard === undefined) {
    return { ok: false, error: 'no Scoreboard line: truncated, or not Apache mod_status ?auto output' };
  }
  // A body cut inside the scoreboard line has no line end after it.
  if (scoreboardLine === lines.length - 1)
    return { ok: false, error: 'truncated: the Scoreboard line is not terminated' };
  const scoreboard = fields.Scoreboard;
  if (scoreboard === '') return { ok: false, error: 'empty Scoreboard' };
  const { counts, unknown } = countScoreboard(scoreboard);
  return {
    ok: true,
    value: {
      host,
      serverVersion: fields.ServerVersion ?? null,
      mpm: fields.ServerMPM ?? null,
      scoreboard,
      counts,
      unknownStates: unknown,
      busyWorkers: wholeNumber(fields.BusyWorkers),
      idleWorkers: wholeNumber(fields.IdleWorkers),
      fields,
    },
  };
}
