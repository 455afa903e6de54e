import type { Parsed } from './apache-status';
import { looksLikeHtml } from './apache-status';

/** One worker slot of Apache's ExtendedStatus table. */
export interface ApacheSlot {
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

/** A cell's text: tags dropped, entities decoded, whitespace collapsed. */
function text(html: string): string {
  // Most cells are plain ("R", "127.2.1.4"): skip the regular expressions for them.
  const plain = html.indexOf('<') < 0 && html.indexOf('&') < 0 ? html : html.replace(/<[^>]*>/g, '').replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) => ENTITIES[e] ?? '');
  return plain.replace(/\s+/g, ' ').trim();
}

/**
 * Parse the HTML `/server-status` page. The per-slot table is found by its
 * header (`Srv` … `Client`), and columns are read by header name, so Apache 2.2
 * and 2.4 layouts both work. Never throws.
 */
export function parseApacheHtml(html: string): Parsed<ApacheHtml> {
  if (typeof html !== 'string' || html.trim() === '') return { ok: false, error: 'empty status page' };
  if (!looksLikeHtml(html) || !/Apache Server Status/i.test(html)) {
    return { ok: false, error: 'not an Apache server-status HTML page' };
  }
  const serverVersion = /Server Version:\s*([^<\n]+)/i.exec(html)?.[1]?.trim() ?? null;
  const mpm = /Server MPM:\s*([^<\n]+)/i.exec(html)?.[1]?.trim() ?? null;
  const scoreboard = /<pre>\s*([_SRWKDCLGI.\s]+?)\s*<\/pre>/i.exec(html)?.[1]?.replace(/\s+/g, '') ?? null;
  const tables = html.split(/<table\b/i).slice(1);
  const table = tables.find((t) => /<th>\s*Srv\s*<\/th>/i.test(t) && /<th>\s*Client\s*<\/th>/i.test(t));
  if (!table) return { ok: true, value: { serverVersion, mpm, scoreboard, extendedStatus: false, slots: [] } };

  const rows = table.split(/<\/table>/i)[0]?.split(/<tr\b[^>]*>/i).slice(1) ?? [];
  const header = (rows.shift() ?? '').split(/<th\b[^>]*>/i).slice(1).map(text);
  const col = (name: string) => header.indexOf(name);
  const [iSrv, iMode, iSs, iClient, iVhost, iReq] = ['Srv', 'M', 'SS', 'Client', 'VHost', 'Request'].map(col) as number[];
  const slots: ApacheSlot[] = [];
  for (const row of rows) {
    // Only the six columns read are decoded (a table has 15).
    const cells = row.split(/<td\b[^>]*>/i).slice(1);
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
