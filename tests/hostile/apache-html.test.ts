import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseApacheHtml } from '../../shared/backends/apache-html';

// The HTML status parser reads the page lowercased once, by index: letters whose case
// folds oddly (İ lowercases to two characters, K the Kelvin sign and ſ the long s to
// ASCII ones), mixed-case and uppercase tags, multi-byte text before the scoreboard,
// must read as a simple, slow reading does (a regular expression per tag, on the page
// as it is), and an 8 MiB page costs what 8 pages of 1 MiB do.
const HEAD =
  '<html><head><title>Apache Status</title></head><body><h1>Apache Server Status for x</h1><dl><dt>Server Version: Apache/2.4.71</dt><dt>Server MPM: event</dt></dl>';

/** The simple reading: each tag found by a case-insensitive expression on the page itself, no index shared. */
function reference(html: string) {
  const text = (s: string) =>
    s
      .replace(/<[^>]*>/g, '')
      .replace(/<[\s\S]*$/, '')
      .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) =>
        e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === '#39' ? "'" : ' ',
      )
      .replace(/\s+/g, ' ')
      .trim();
  const after = (part: string, name: string) => {
    const re = new RegExp(`<${name}(?=[>/\\s])[^>]*>`, 'gi');
    const found = [...part.matchAll(re)];
    return found.map((m, k) => part.slice((m.index ?? 0) + m[0].length, found[k + 1]?.index ?? part.length));
  };
  const pre = /<pre>([\s\S]*?)<\/pre>/i.exec(html)?.[1];
  const scoreboard =
    pre !== undefined && /^[_SRWKDCLGI.\s]+$/.test(pre) && /\S/.test(pre) ? pre.replace(/\s+/g, '') : null;
  const table = html
    .split(/<table(?!\w)/i)
    .slice(1)
    .find((t) => /<th>\s*srv\s*<\/th>/i.test(t) && /<th>\s*client\s*<\/th>/i.test(t));
  if (table === undefined) return { scoreboard, extendedStatus: false, slots: [] as unknown[] };
  const rows = after(table.split(/<\/table>/i)[0] ?? '', 'tr');
  const header = after(rows.shift() ?? '', 'th').map(text);
  const cols = ['Srv', 'M', 'SS', 'Client', 'VHost', 'Request'].map((n) => header.indexOf(n));
  const slots = rows.flatMap((row) => {
    const cells = after(row, 'td');
    if (cells.length < header.length - 1) return [];
    const [srv, mode, ss, client, vhost, request] = cols.map((i) => (i >= 0 ? text(cells[i] ?? '') : ''));
    return [
      {
        srv,
        mode,
        secondsSince: ss !== '' && Number.isFinite(Number(ss)) ? Number(ss) : null,
        client,
        vhost,
        request,
      },
    ];
  });
  return { scoreboard, extendedStatus: true, slots };
}

const pieces = [
  '<table>',
  '<TABLE border="0">',
  '<Table>',
  '</table>',
  '</TABLE>',
  '<tr>',
  '<TR>',
  '<Tr class="x">',
  '<td>',
  '<TD>',
  '<Td nowrap>',
  '</td>',
  '</TD>',
  '<th>',
  '<TH>',
  '</th>',
  '</TH>',
  'Srv',
  'SRV',
  'srv',
  'M',
  'SS',
  'Client',
  'CLIENT',
  'VHost',
  'Request',
  '<pre>',
  '<PRE>',
  '</pre>',
  '</Pre>',
  'R',
  '_',
  'W',
  'K',
  ' ',
  '\n',
  '0-0',
  '12',
  '&amp;',
  'İ',
  'ı',
  'ſ',
  '\u212a',
  '\u212b',
  'é',
  '日本',
  '🙂',
  'ẞ',
  '<b>',
  '</b>',
  '<thead>',
  '<trace>',
  '<',
  '>',
];
const header = (tag: string) =>
  `<table><${tag}><th>Srv</th><th>M</th><th>SS</th><th>Client</th><th>VHost</th><th>Request</th></tr>`;

describe('Apache HTML status pages with odd letters and cases', () => {
  it('reads as the simple reading does, on random pages', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...pieces), { maxLength: 80 }),
        fc.constantFrom('tr', 'TR', 'Tr'),
        fc.array(fc.constantFrom(...pieces), { maxLength: 80 }),
        (before, tr, body) => {
          const html = `${HEAD}${before.join('')}${header(tr)}${body.join('')}`;
          const parsed = parseApacheHtml(html);
          expect(parsed.ok).toBe(true);
          const { scoreboard, extendedStatus, slots } = parsed.ok ? parsed.value : ({} as never);
          expect({ scoreboard, extendedStatus, slots }).toEqual(reference(html));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('reads a slot table in uppercase tags after multi-byte text as the lowercase one', () => {
    const rows = (t: (s: string) => string) =>
      `${t('<table>')}${t('<tr>')}${t('<th>')}Srv${t('</th>')}${t('<th>')}M${t('</th>')}${t('<th>')}Client${t('</th>')}${t('</tr>')}` +
      `${t('<tr>')}${t('<td>')}0-0${t('</td>')}${t('<td>')}R${t('</td>')}${t('<td>')}10.0.0.9${t('</td>')}${t('</tr>')}${t('</table>')}`;
    const lower = parseApacheHtml(`${HEAD}<pre>R_</pre>${rows((s) => s)}`);
    for (const prefix of ['İİİ', 'ſK\u212a', '日本🙂'.repeat(50)])
      expect(parseApacheHtml(`${HEAD}${prefix}<PRE>R_</PRE>${prefix}${rows((s) => s.toUpperCase())}`)).toEqual(lower);
  });

  it('costs no more per MiB at 8 MiB than at 1 MiB (within 4x)', () => {
    const MiB = 1_048_576;
    const page = (mib: number, unit: string) =>
      `${HEAD}İ${header('tr')}${unit.repeat(Math.ceil((mib * MiB) / unit.length))}`;
    for (const unit of [
      '<TR><TD>0-0</TD><TD>İ</TD><td>R</td><TD>12</TD><td>ſ</td><td>K</td><td>x</td></TR>',

      '<TABLE <th>   ',
    ]) {
      const perMiB = (mib: number) => {
        const html = page(mib, unit);
        const times = [0, 1, 2].map(() => {
          const t0 = performance.now();
          parseApacheHtml(html);
          return performance.now() - t0;
        });
        return times.sort((a, b) => a - b)[1]! / mib;
      };
      perMiB(1); // warm
      expect(perMiB(8) / perMiB(1), unit).toBeLessThan(4);
    }
  }, 60_000);
});
