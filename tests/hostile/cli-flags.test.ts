import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program';

// Command lines a careless or hostile user types: each gets one clear line and
// exit 2 (usage), never an internal error (exit 70), a hang, or silent acceptance.
// A store or a file the environment refuses (read-only, full) is exit 1: tests/hostile/exit-codes.test.ts.
const dir = mkdtempSync(join(tmpdir(), 'elbscope-hostile-cli-'));
const file = join(dir, 'a-file');
writeFileSync(file, 'x');
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
const bigConfig = join(dir, 'big.json');
writeFileSync(
  bigConfig,
  `{"loadBalancers":[{"dnsName":"a-1.us-east-1.elb.amazonaws.com"}],"pad":"${'x'.repeat(2_000_000)}"}`,
);
const LB = 'a-1.us-east-1.elb.amazonaws.com';
const withLb = join(dir, 'with-lb');
mkdirSync(join(withLb, 'loadbalancers', 'web'), { recursive: true });

async function run(args: string[]): Promise<{ code: number | 'threw'; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), env: {} });
    return { code, out, err };
  } catch (e) {
    return { code: 'threw', out, err: [...err, String(e)] };
  }
}

const cases: [string, string[], RegExp][] = [
  [
    'a DNS server given by host name',
    ['observe', LB, '--dns-server', 'localhost:9'],
    /--dns-server.*localhost:9.*IP address/,
  ],
  ['--store at a file', ['events', '--store', file], new RegExp(`--store ${file}: not a directory`)],
  ['--store at /dev/null', ['events', '--store', '/dev/null'], /--store \/dev\/null: not a directory/],
  [
    '--store under /proc',
    ['prewarm', '--lb', 'x', '--nodes-per-az', '1', '--store', '/proc/1/x'],
    /--store \/proc\/1\/x: /,
  ],
  [
    'report --out into a missing directory',
    ['report', '--lb', 'web', '--store', withLb, '--out', join(dir, 'missing', 'r.md')],
    /--out .*missing\/r.md: cannot write \(ENOENT: no such directory\)/,
  ],
  [
    'experiment preopen without --lb',
    ['experiment', 'preopen', '--status', 'http://127.0.0.1:9/server-status'],
    /required option '--lb <dnsname>' not specified/,
  ],
  ['--config /dev/zero', ['watch', '--config', '/dev/zero'], /config \/dev\/zero: not a regular file/],
  ['--config a FIFO', ['watch', '--config', fifo], new RegExp(`config ${fifo}: not a regular file`)],
  ['--config over the size cap', ['watch', '--config', bigConfig], /config .*big.json: larger than 1 MiB/],
  ["--store ''", ['events', '--store', ''], /--store: empty/],
  ["--table ''", ['events', '--table', ''], /--table: empty/],
  ["--out ''", ['report', '--lb', 'x', '--store', dir, '--out', ''], /--out: empty/],
  ['--from 2026-02-30', ['report', '--lb', 'x', '--store', dir, '--from', '2026-02-30'], /"2026-02-30" is not a date/],
  [
    '--table with --store',
    ['events', '--store', dir, '--table', 't'],
    /--table.*cannot be used with.*--store|--store.*cannot be used with.*--table/,
  ],
  [
    'discover without --tag',
    ['discover', '--region', 'us-east-1'],
    /required option '--tag <key=value>' not specified/,
  ],
  ['discover without --region', ['discover', '--tag', 'a=b'], /required option '--region <region>' not specified/],
  ['--interval 10ms', ['watch', '--lb', LB, '--interval', '10ms'], /"10ms": the interval must be at least 1s/],
];

describe('Hostile command lines: one line, exit 2', () => {
  it.each(cases)(
    '%s',
    async (_label, args, reason) => {
      const r = await run(args);
      expect(r.code, [...r.out, ...r.err].join('\n')).toBe(2);
      expect(r.err.join('\n')).toMatch(reason);
      expect(r.err.filter((l) => l.trim() !== '')).toHaveLength(1);
    },
    20_000,
  );
});
