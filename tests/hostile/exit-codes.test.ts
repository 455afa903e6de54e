import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabElb } from '../../lab/elb';
import { freeLoopbackPort } from '../../lab/ports';
import { EnvironmentError, printable, printableLines } from '../../shared/errors';
import { storeFailure } from '../../shared/store/failures';
import { runElbscope, type CliResult } from '../helpers/cli';
import { startDynalite } from '../helpers/dynalite';

// Every failure of the environment a command meets — a DynamoDB table that does not
// exist, an endpoint that refuses, a read-only store, a full disk — is one line
// naming the part that met it and what to do, exit 1; bad usage stays exit 2; exit 70
// (`internal error`) is left for bugs. Through the real executable, as a user meets them.
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'elbscope-exit-codes-'));
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let refusedPort: number;
const mounts: string[] = [];
beforeAll(async () => {
  dynamo = await startDynalite();
  refusedPort = await freeLoopbackPort();
});
afterAll(async () => {
  await dynamo.stop();
  for (const m of mounts) execFileSync('umount', [m]);
});

/** What a failure must look like: exit 1, one line on stderr matching `line`, nothing internal. */
function expectEnvironmentFailure(r: CliResult, line: RegExp): void {
  const said = `${r.stdout}\n${r.stderr}`;
  expect(said).not.toContain('internal error');
  expect(r.code, said).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, said).toHaveLength(1);
  expect(lines[0]).toMatch(line);
}

/** Each store command, as a user gives it a table. */
const tableCommands = (table: string): [string, string[]][] => [
  ['events', ['events', '--table', table]],
  ['verify', ['verify', '--table', table]],
  ['report', ['report', '--lb', 'web', '--table', table]],
  ['prewarm', ['prewarm', '--lb', 'web', '--nodes-per-az', '2', '--table', table]],
  ['redeliver', ['redeliver', '--id', 'x', '--table', table]],
  [
    'watch',
    [
      'watch',
      '--lb',
      'web-1.us-east-1.elb.amazonaws.com',
      '--dns-server',
      '127.0.0.1:9',
      '--cycles',
      '1',
      '--table',
      table,
    ],
  ],
];

describe('A DynamoDB table that does not exist: one line, exit 1', () => {
  it.each(tableCommands('no-such-table'))(
    '%s',
    async (_name, args) => {
      const r = await runElbscope([...args, '--region', 'us-east-1'], { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint });
      expectEnvironmentFailure(
        r,
        /^elbscope: DynamoDB table no-such-table: not found \(ResourceNotFoundException: .*\): create it .*check --table and the region/,
      );
    },
    30_000,
  );
});

describe('A DynamoDB endpoint that refuses: one line, exit 1', () => {
  it.each(tableCommands('elbscope-test'))(
    '%s',
    async (_name, args) => {
      const r = await runElbscope([...args, '--region', 'us-east-1'], {
        AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${refusedPort}`,
      });
      expectEnvironmentFailure(
        r,
        new RegExp(
          `^elbscope: DynamoDB table elbscope-test: 127\\.0\\.0\\.1:${refusedPort}: ECONNREFUSED, the endpoint refused the connection: check the endpoint`,
        ),
      );
    },
    30_000,
  );
});

/**
 * A directory (with a store's folders) whose file system refuses writes: a read-only tmpfs as root, mode 0555
 * otherwise.
 */
function readOnlyStore(): string {
  const store = join(dir, 'read-only');
  if (root) {
    mkdirSync(store);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', store]);
    mounts.push(store);
    for (const top of ['loadbalancers', 'outbox']) mkdirSync(join(store, top));
    execFileSync('mount', ['-o', 'remount,ro', store]);
  } else {
    for (const top of ['loadbalancers', 'outbox']) mkdirSync(join(store, top), { recursive: true });
    for (const d of [join(store, 'loadbalancers'), join(store, 'outbox'), store]) chmodSync(d, 0o555);
  }
  return store;
}

describe('A store or a file the environment refuses: one line, exit 1', () => {
  it('prewarm on a read-only store names the store, the folder and the cause', async () => {
    const store = readOnlyStore();
    const r = await runElbscope(['prewarm', '--lb', 'web', '--nodes-per-az', '2', '--store', store]);
    expectEnvironmentFailure(
      r,
      new RegExp(
        `^elbscope: local store ${store}: mkdir ${store}/loadbalancers/web\\S*: (EROFS, read-only file system|EACCES, permission denied)`,
      ),
    );
  });

  it.skipIf(!root)('a store folder that cannot be created (sysfs) names it', async () => {
    const r = await runElbscope(['prewarm', '--lb', 'web', '--nodes-per-az', '2', '--store', '/sys/elbscope-store']);
    expectEnvironmentFailure(
      r,
      /^elbscope: --store \/sys\/elbscope-store: cannot write there: mkdir \/sys\/elbscope-store: (EPERM|EACCES|EROFS), /,
    );
  });

  it.skipIf(!root)('prewarm on a full disk names the store, the file and ENOSPC', async () => {
    const store = join(dir, 'full');
    mkdirSync(store);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', store]);
    mounts.push(store);
    for (const top of ['loadbalancers', 'outbox']) mkdirSync(join(store, top));
    for (let i = 0; ; i++) {
      try {
        writeFileSync(join(store, `filler-${i}`), Buffer.alloc(4096));
      } catch {
        break;
      }
    }
    const r = await runElbscope(['prewarm', '--lb', 'web', '--nodes-per-az', '2', '--store', store]);
    expectEnvironmentFailure(
      r,
      new RegExp(
        `^elbscope: local store ${store}: \\S+ ${store}/\\S+: ENOSPC, no space left on the device: free some space there$`,
      ),
    );
  });

  it('report --out /dev/full names the file and ENOSPC', async () => {
    const store = join(dir, 'with-lb');
    mkdirSync(join(store, 'loadbalancers', 'web'), { recursive: true });
    const r = await runElbscope(['report', '--lb', 'web', '--store', store, '--out', '/dev/full']);
    expectEnvironmentFailure(
      r,
      /^elbscope: --out \/dev\/full: cannot write: write \/dev\/full: ENOSPC, no space left on the device/,
    );
  });
});

describe('Bad usage stays exit 2', () => {
  it('redeliver --table x --store y', async () => {
    const r = await runElbscope(['redeliver', '--id', 'x', '--table', 'x', '--store', join(dir, 'y')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim()).toBe('elbscope: --table cannot be used with --store: give one store');
  });
});

describe('The store names what it met, whatever the code', () => {
  // EMFILE, ENFILE, EACCES cannot all be made to happen here (root ignores modes; ENFILE is system-wide): their naming
  // is checked as the adapter sees them.
  it.each(['EMFILE', 'ENFILE', 'ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO'])(
    '%s: one line naming the store, the call and the path',
    (code) => {
      const err = Object.assign(new Error(`${code}: something, scandir '/s/outbox'`), {
        code,
        syscall: 'scandir',
        path: '/s/outbox',
      });
      const named = storeFailure('local store /s', err);
      expect(named).toBeInstanceOf(EnvironmentError);
      expect((named as EnvironmentError).message).toMatch(
        new RegExp(`^local store /s: scandir /s/outbox: ${code}, [^\\n]+: [^\\n]+$`),
      );
    },
  );

  it('a write that names no file is named by the record it was writing', () => {
    const named = storeFailure(
      'local store /s',
      Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' }),
      '/s/outbox/e1.json',
    );
    expect((named as EnvironmentError).message).toBe(
      'local store /s: write /s/outbox/e1.json: ENOSPC, no space left on the device: free some space there',
    );
  });

  it('a record that does not parse, or a bug, is not the environment', () => {
    const bug = new TypeError('x is not a function');
    expect(storeFailure('local store /s', bug)).toBe(bug);
  });
});

describe('printable and printableLines: the one helper every console and log line goes through', () => {
  it('a line: every control, newline, NUL, bidi, zero-width and separator character escaped, the rest kept', () => {
    expect(printable('a\nb\r\tc\u0000d\u001b[31me\u007f\u009bf')).toBe(
      'a\\nb\\r\\tc\\u0000d\\u001B[31me\\u007F\\u009Bf',
    );
    expect(
      printable('\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\ufeff\u2028\u2029'),
    ).toBe(
      '\\u202A\\u202B\\u202C\\u202D\\u202E\\u2066\\u2067\\u2068\\u2069\\u200E\\u200F\\u061C\\u200B\\uFEFF\\u2028\\u2029',
    );
    expect(printable('café ☃ 日本 ä-ü')).toBe('café ☃ 日本 ä-ü');
    expect(printable(printable('x\ny\u202e'))).toBe(printable('x\ny\u202e')); // escaping twice changes nothing
  });

  it('several lines (a report, JSON, a table): line breaks and tabs kept, everything else escaped', () => {
    expect(printableLines('a\tb\r\nc\nd\re\u202ef\u0000')).toBe('a\tb\r\nc\nd\\re\\u202Ef\\u0000');
  });
});

// Names elbscope did not choose — a backend's in the configuration, a load balancer's
// read back from a store — carrying a newline, NUL, ESC or a bidi control, shown
// escaped on every console and log line: no forged line, no reordered text.
const NASTY = [
  'two\nlines',
  'nul\u0000byte',
  'esc\u001b[31mred',
  'bidi\u202egnp.exe',
  'isolate\u2066x\u2069',
  'mark\u200fx',
];
/** Anything a terminal or log reader would act on or hide. */
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/;

describe('Names with control, newline, NUL and bidi characters are escaped on console and log lines', () => {
  const lab = new LabElb({ name: 'names', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1 } });
  let dnsServer: string;
  let ec2Url: string;
  beforeAll(async () => {
    ({ dnsServer, ec2Url } = await lab.start());
  });
  afterAll(() => lab.stop());

  it('backend names from a configuration: each cycle is one line, every character escaped', async () => {
    const closed = await freeLoopbackPort();
    const config = join(dir, 'names.json');
    writeFileSync(
      config,
      JSON.stringify({
        loadBalancers: [
          {
            dnsName: lab.dnsName,
            backends: NASTY.map((name) => ({ name, statusUrl: `http://127.0.0.1:${closed}/server-status?auto` })),
          },
        ],
        dns: { servers: [dnsServer], allowLoopbackNodes: true },
      }),
    );
    const r = await runElbscope(['watch', '--config', config, '--cycles', '1', '--store', join(dir, 'names-store')], {
      AWS_ENDPOINT_URL_EC2: ec2Url,
    });
    expect(r.code, r.stderr).toBe(0);
    const said = `${r.stdout}${r.stderr}`;
    expect(said).not.toMatch(RAW);
    const cycleLines = r.stdout.split('\n').filter((l) => l.includes('  names  nodes '));
    expect(cycleLines).toHaveLength(1);
    for (const shown of [
      'two\\nlines R=ERR',
      'nul\\u0000byte R=ERR',
      'esc\\u001B[31mred R=ERR',
      'bidi\\u202Egnp.exe R=ERR',
      'isolate\\u2066x\\u2069 R=ERR',
      'mark\\u200Fx R=ERR',
    ])
      expect(cycleLines[0]).toContain(shown);
    // No line starts with what followed a newline in a name.
    expect(r.stdout.split('\n').some((l) => l.startsWith('lines'))).toBe(false);
  }, 30_000);

  it('load balancer names read back from a local store: verify and events lines escaped', async () => {
    const store = join(dir, 'nasty-store');
    // The names' folders as a careless script or an attacker with write access leaves them (NUL cannot be in a file
    // name).
    for (const name of NASTY.filter((n) => !n.includes('\u0000')))
      mkdirSync(join(store, 'loadbalancers', name), { recursive: true });
    mkdirSync(join(store, 'outbox'));
    for (const args of [
      ['verify', '--store', store],
      ['events', '--store', store],
    ]) {
      const r = await runElbscope(args);
      const said = `${r.stdout}${r.stderr}`;
      expect(said, args[0]).not.toMatch(RAW);
      expect(
        said.split('\n').some((l) => l.startsWith('lines')),
        args[0],
      ).toBe(false);
    }
    const verify = await runElbscope(['verify', '--store', store]);
    expect(verify.stdout).toContain('two\\nlines: intact, 0 records');
    expect(verify.stdout).toContain('bidi\\u202Egnp.exe: intact, 0 records');
  });

  it('load balancer names read back from a DynamoDB table (NUL included): verify lines escaped', async () => {
    for (const name of NASTY)
      await dynamo.client.send(
        new PutItemCommand({ TableName: dynamo.table, Item: { pk: { S: 'LBS' }, sk: { S: name } } }),
      );
    const r = await runElbscope(['verify', '--table', dynamo.table, '--region', 'us-east-1'], {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(RAW);
    expect(r.stdout).toContain('nul\\u0000byte: intact, 0 records');
    expect(r.stdout).toContain('esc\\u001B[31mred: intact, 0 records');
    expect(r.stdout.split('\n').some((l) => l.startsWith('lines'))).toBe(false);
  });
});
