import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyFilePort, SealUnavailableError } from '../../../shared/ledger/seal';
import { runCli } from '../../../cli/program';

// The local seal key: a file outside the store, made by the first writer (mode
// 0600, never over an existing one), read by everyone after; never made by a reader.

const fresh = () => join(mkdtempSync(join(tmpdir(), 'elbscope-key-test-')), 'conf', 'elbscope', 'seal.key');
const now = () => new Date('2026-11-25T10:00:00.000Z');

describe('The key file', () => {
  it('is created on first use by a writer, mode 0600 in a 0700 folder, its start recorded', async () => {
    const path = fresh();
    const reader = keyFilePort(path, { create: false, now });
    expect(await reader.verify('x', 'AAAA')).toBe('unknown');
    expect(reader.problem()).toMatch(
      /^seal: no key file at .*seal\.key \(it is created by the first cycle that writes; restore it if it was removed\)$/,
    );
    expect(existsSync(path)).toBe(false);
    const writer = keyFilePort(path, { create: true, now });
    const mac = await writer.mac('x');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(await writer.since()).toBe('2026-11-25T10:00:00.000Z');
    // Another process reads the same key.
    expect(await keyFilePort(path, { create: false }).verify('x', mac)).toBe(true);
    expect(await keyFilePort(path, { create: false }).verify('y', mac)).toBe(false);
  });

  it('is made once when writers race: each uses the one that won', async () => {
    const path = fresh();
    const macs = await Promise.all(Array.from({ length: 8 }, () => keyFilePort(path, { create: true, now }).mac('x')));
    expect(new Set(macs).size).toBe(1);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({
      elbscope: 'seal key',
      createdAt: '2026-11-25T10:00:00.000Z',
    });
  });

  it('is refused when others may read it, or when it is not a key, naming the file', async () => {
    const path = fresh();
    await keyFilePort(path, { create: true, now }).mac('x');
    chmodSync(path, 0o644);
    await expect(keyFilePort(path, { create: true }).mac('x')).rejects.toThrow(
      new SealUnavailableError(`seal: key file ${path} may be read or written by others (mode 644): chmod 600 ${path}`),
    );
    chmodSync(path, 0o600);
    writeFileSync(path, '{"key": "short"}');
    await expect(keyFilePort(path, { create: true }).mac('x')).rejects.toThrow(/is not an elbscope seal key/);
  });

  it('must live outside the store: the CLI refuses one inside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-store-'));
    const err: string[] = [];
    const code = await runCli(['verify', '--store', dir, '--seal-key', join(dir, 'seal.key')], {
      out: () => undefined,
      err: (t) => err.push(t),
      env: {},
    });
    expect(code).toBe(2);
    expect(err).toEqual([
      `elbscope: seal key ${join(dir, 'seal.key')}: it is inside the store ${dir}; keep it outside (whoever can write the store must not read the key)`,
    ]);
  });
});
