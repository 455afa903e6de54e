import type { Parsed } from './apache-status';
import { looksLikeHtml } from './apache-status';

/** One worker slot of Apache's ExtendedStatus table. */
interface ApacheSlot {
  srv: string;
  mode: string;
  /** "SS": seconds since the most recent request began (for an `R` slot: the connection's age). */
  secondsSince: number | null;
  client: string;
  vhost: string;
  request: string;
}

export interface ApacheHtml {
  serverVersion: string | null;
  mpm: string | null;
  /** The `<pre>` scoreboard the page shows (null when it has none). */
  scoreboard: string | null;
  /** False when the page has no per-slot table (ExtendedStatus Off). */
  extendedStatus: boolean;
  slots: ApacheSlot[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };

/** `html` without its tags; an unclosed `<` ends the text. One pass (no backtracking on hostile markup). */
function stripTags(html: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lt = html.indexOf('<', at);
    if (lt < 0) return out + html.slice(at);
    out += html.slice(at, lt);
    const gt = html.indexOf('>', lt);
    if (gt < 0) return out;
    at = gt + 1;
  }
}

/** A cell's text: tags dropped, entities decoded, whitespace collapsed. */
function text(html: string): string {
  // Most cells are plain ("R", "127.2.1.4"): skip the work for them.
  const plain =
    html.indexOf('<') < 0 && html.indexOf('&') < 0
      ? html
      : stripTags(html).replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) => ENTITIES[e] ?? '');
  return plain.replace(/\s+/g, ' ').trim();
}

/** Where a part of the page starts and ends (indexes into the page and its lowercase copy alike). */
interface Span {
  from: number;
  to: number;
}

/**
 * The parts of `html[from, to)` that follow each opening tag `<name …>` (case-insensitive),
 * each up to the next such tag. Linear: every search starts where the last ended,
 * so `<tr <tr <tr …` without a `>` costs one scan, not one per tag. A tag left
 * open at the end (a cut-off page) starts nothing: the list ends before it.
 * `lower` is the page in lowercase, index for index: the page is lowercased once, not once per row.
 */
function tagSpans(lower: string, name: string, { from, to }: Span): Span[] {
  const open = `<${name}`;
  const starts: { tag: number; body: number }[] = [];
  let at = from;
  for (;;) {
    const i = lower.indexOf(open, at);
    if (i < 0 || i + open.length > to) break;
    const next = i + open.length < to ? lower.charAt(i + open.length) : '';
    if (next !== '>' && next !== '/' && !/\s/.test(next)) {
      at = i + open.length; // <trace>, <thead>: another tag
      continue;
    }
    const gt = lower.indexOf('>', i + open.length);
    if (gt < 0 || gt >= to) break;
    starts.push({ tag: i, body: gt + 1 });
    at = gt + 1;
  }
  return starts.map((s, k) => ({ from: s.body, to: starts[k + 1]?.tag ?? to }));
}

/** The parts of `html` that follow each opening tag `<name …>`, as tagSpans finds them. */
export function afterTags(html: string, name: string): string[] {
  return tagSpans(lowercaseOf(html), name, { from: 0, to: html.length }).map((s) => html.slice(s.from, s.to));
}

/**
 * `html` in lowercase with every index where it was: `toLowerCase` keeps the length
 * unless a letter lowercases to two (`İ`); then only A-Z are folded, which is all the
 * tags and headers looked for need.
 */
function lowercaseOf(html: string): string {
  const lower = html.toLowerCase();
  return lower.length === html.length ? lower : html.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** The parts after each `<table` (as `split(/<table\b/i)` cuts them, the first dropped). */
function tableSpans(lower: string): Span[] {
  const cuts: number[] = [];
  for (let at = lower.indexOf('<table'); at >= 0; at = lower.indexOf('<table', at + 6)) {
    if (!/\w/.test(lower.charAt(at + 6))) cuts.push(at);
  }
  return cuts.map((at, k) => ({ from: at + 6, to: cuts[k + 1] ?? lower.length }));
}

/** The `<pre>` scoreboard: the text between `<pre>` and `</pre>` when it holds only scoreboard characters. */
function preScoreboard(html: string, lower: string): string | null {
  const start = lower.indexOf('<pre>');
  if (start < 0) return null;
  const end = lower.indexOf('</pre>', start);
  if (end < 0) return null;
  const inner = html.slice(start + 5, end);
  return /^[_SRWKDCLGI.\s]+$/.test(inner) && /[^\s]/.test(inner) ? inner.replace(/\s+/g, '') : null;
}

/**
 * Parse the HTML `/server-status` page. The per-slot table is found by its
 * header (`Srv` … `Client`), and columns are read by header name, so Apache 2.2
 * and 2.4 layouts both work. Never throws; linear in the page (no regular
 * expression that can backtrack on hostile markup).
 */
export function parseApacheHtml(html: string): Parsed<ApacheHtml> {
  if (typeof html !== 'string' || html.trim() === '') return { ok: false, error: 'empty status page' };
  if (!looksLikeHtml(html) || !/Apache Server Status/i.test(html)) {
    return { ok: false, error: 'not an Apache server-status HTML page' };
  }
  const serverVersion = /Server Version:\s*([^<\n]+)/i.exec(html)?.[1]?.trim() ?? null;
  const mpm = /Server MPM:\s*([^<\n]+)/i.exec(html)?.[1]?.trim() ?? null;
  const lower = lowercaseOf(html);
  const scoreboard = preScoreboard(html, lower);
  const table = tableSpans(lower).find((t) => {
    const part = lower.slice(t.from, t.to);
    return /<th>\s*srv\s*<\/th>/.test(part) && /<th>\s*client\s*<\/th>/.test(part);
  });
  if (!table) return { ok: true, value: { serverVersion, mpm, scoreboard, extendedStatus: false, slots: [] } };

  const end = lower.indexOf('</table>', table.from);
  const rows = tagSpans(lower, 'tr', { from: table.from, to: end >= 0 && end < table.to ? end : table.to });
  const headerRow = rows.shift();
  const header = headerRow ? tagSpans(lower, 'th', headerRow).map((c) => text(html.slice(c.from, c.to))) : [];
  const col = (name: string) => header.indexOf(name);
  const [iSrv, iMode, iSs, iClient, iVhost, iReq] = ['Srv', 'M', 'SS', 'Client', 'VHost', 'Request'].map(
    col,
  ) as number[];
  const slots: ApacheSlot[] = [];
  for (const row of rows) {
    // Only the six columns read are decoded (a table has 15).
    const cells = tagSpans(lower, 'td', row);
    if (cells.length < header.length - 1) continue; // a cut-off row
    const at = (i: number | undefined) => {
      const cell = i !== undefined && i >= 0 ? cells[i] : undefined;
      return cell ? text(html.slice(cell.from, cell.to)) : '';
    };
    const ss = at(iSs);
    slots.push({
      srv: at(iSrv),
      mode: at(iMode),
      secondsSince: ss !== '' && Number.isFinite(Number(ss)) ? Number(ss) : null,
      client: at(iClient),
      vhost: at(iVhost),
      request: at(iReq),
    });
  }
  return { ok: true, value: { serverVersion, mpm, scoreboard, extendedStatus: true, slots } };
}
