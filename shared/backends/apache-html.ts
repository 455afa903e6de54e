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

/**
 * The parts of `html` that follow each opening tag `<name …>` (case-insensitive),
 * each up to the next such tag. Linear: every search starts where the last ended,
 * so `<tr <tr <tr …` without a `>` costs one scan, not one per tag. A tag left
 * open at the end (a cut-off page) starts nothing: the list ends before it.
 */
export function afterTags(html: string, name: string): string[] {
  const lower = html.toLowerCase();
  const open = `<${name}`;
  const starts: { tag: number; body: number }[] = [];
  let at = 0;
  for (;;) {
    const i = lower.indexOf(open, at);
    if (i < 0) break;
    const next = lower.charAt(i + open.length);
    if (next !== '>' && next !== '/' && !/\s/.test(next)) {
      at = i + open.length; // <trace>, <thead>: another tag
      continue;
    }
    const gt = lower.indexOf('>', i + open.length);
    if (gt < 0) break;
    starts.push({ tag: i, body: gt + 1 });
    at = gt + 1;
  }
  return starts.map((s, k) => html.slice(s.body, starts[k + 1]?.tag ?? html.length));
}

/** The `<pre>` scoreboard: the text between `<pre>` and `</pre>` when it holds only scoreboard characters. */
function preScoreboard(html: string): string | null {
  const lower = html.toLowerCase();
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
  const scoreboard = preScoreboard(html);
  const tables = html.split(/<table\b/i).slice(1);
  const table = tables.find((t) => /<th>\s*Srv\s*<\/th>/i.test(t) && /<th>\s*Client\s*<\/th>/i.test(t));
  if (!table) return { ok: true, value: { serverVersion, mpm, scoreboard, extendedStatus: false, slots: [] } };

  const rows = afterTags(table.split(/<\/table>/i)[0] ?? '', 'tr');
  const header = afterTags(rows.shift() ?? '', 'th').map(text);
  const col = (name: string) => header.indexOf(name);
  const [iSrv, iMode, iSs, iClient, iVhost, iReq] = ['Srv', 'M', 'SS', 'Client', 'VHost', 'Request'].map(
    col,
  ) as number[];
  const slots: ApacheSlot[] = [];
  for (const row of rows) {
    // Only the six columns read are decoded (a table has 15).
    const cells = afterTags(row, 'td');
    if (cells.length < header.length - 1) continue; // a cut-off row
    const at = (i: number | undefined) => (i !== undefined && i >= 0 ? text(cells[i] ?? '') : '');
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
