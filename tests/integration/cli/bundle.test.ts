import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../../helpers/env';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

interface Meta {
  outputs: Record<
    string,
    { imports: { path: string; kind: string }[]; inputs: Record<string, unknown>; entryPoint?: string }
  >;
}

/** The source files a process loads before its first `await import()`: the static import closure of an output. */
function loadedWith(meta: Meta, output: string, seen = new Set<string>()): Set<string> {
  if (seen.has(output)) return seen;
  seen.add(output);
  for (const i of meta.outputs[output]?.imports ?? [])
    if (i.kind === 'import-statement' && meta.outputs[i.path]) loadedWith(meta, i.path, seen);
  return seen;
}
const inputsOf = (meta: Meta, outputs: Set<string>) =>
  [...outputs].flatMap((o) => Object.keys(meta.outputs[o]?.inputs ?? {}));

describe('the CLI bundle (dist/cli, built by npm test before vitest runs)', () => {
  let meta: Meta;
  beforeAll(async () => {
    meta = JSON.parse(await readFile(join(ROOT, 'dist/cli/meta.json'), 'utf8')) as Meta;
  });

  it('loads no command before it knows which one runs: `elbscope --help` reads only the program and the catalog', () => {
    const inputs = inputsOf(meta, loadedWith(meta, 'dist/cli/main.js'));
    const own = inputs.filter((p) => !p.includes('node_modules'));
    expect(own.sort()).toEqual([
      'cli/commands/catalog.ts',
      'cli/failures.ts',
      'cli/io.ts',
      'cli/main.ts',
      'cli/program.ts',
      'shared/errors.ts',
    ]);
    expect(inputs.filter((p) => p.includes('node_modules/') && !p.includes('node_modules/commander/'))).toEqual([]);
  });

  it('observe loads neither the lab nor any development-only package', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const observe = Object.entries(meta.outputs).find(
      ([, o]) => o.entryPoint === 'cli/commands/observe.ts',
    )?.[0] as string;
    const closure = loadedWith(meta, observe);
    const inputs = inputsOf(meta, closure);
    expect(inputs).toContain('shared/nodes/observe.ts');
    expect(inputs.filter((p) => p.startsWith('lab/'))).toEqual([]);
    const externals = [...closure].flatMap(
      (o) => meta.outputs[o]?.imports.filter((i) => !meta.outputs[i.path]).map((i) => i.path) ?? [],
    );
    expect(externals.filter((e) => Object.keys(pkg.devDependencies).includes(e))).toEqual([]);
  });
});

// `npm ci --omit=dev` in a copy of the package, from npm's cache (the suite's own
// `npm ci` filled it): what a user who installs for production gets.
describe('after npm ci --omit=dev', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'elbscope-omit-dev-'));
    for (const part of [
      'package.json',
      'package-lock.json',
      'bin',
      'cli',
      'shared',
      'lab',
      'scripts',
      'deploy',
      'tsconfig.json',
    ]) {
      await cp(join(ROOT, part), join(dir, part), { recursive: true });
    }
    await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      env: childEnv({}),
      timeout: 240_000,
    });
  }, 300_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const elbscope = (args: string[]) =>
    run(process.execPath, [join(dir, 'bin/elbscope.js'), ...args], {
      cwd: dir,
      env: childEnv({}),
      timeout: 60_000,
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('has no development packages, and the install built the bundle', async () => {
    await expect(stat(join(dir, 'node_modules/dns2'))).rejects.toThrow();
    await expect(stat(join(dir, 'node_modules/tsx'))).rejects.toThrow();
    expect((await stat(join(dir, 'dist/cli/main.js'))).isFile()).toBe(true);
  });

  it('runs every production command (help), and a store command for real', async () => {
    for (const command of [
      'observe',
      'backends',
      'tls',
      'watch',
      'events',
      'alert-test',
      'redeliver',
      'verify',
      'prewarm',
      'report',
      'experiment',
      'discover',
    ]) {
      const r = await elbscope([command, '--help']);
      expect({ command, code: r.code, stderr: r.stderr }).toEqual({ command, code: 0, stderr: '' });
      expect(r.stdout).toContain(`Usage: elbscope ${command}`);
    }
    const store = join(dir, 'store');
    const events = await elbscope(['events', '--store', store]);
    expect(events.stderr).toBe('');
    expect(events.code).toBe(0);
  });

  it('answers `npx elbscope observe --help` as the issue asks', async () => {
    const r = await run('npx', ['--no-install', 'elbscope', 'observe', '--help'], {
      cwd: dir,
      env: childEnv({}),
      timeout: 60_000,
    });
    expect(r.stdout).toContain('Usage: elbscope observe');
    expect(r.stdout).toContain('--backend <status-url>');
  });

  it('says in one line that the lab needs the development install', async () => {
    const r = await elbscope(['lab']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'elbscope: the lab (start, lab) needs the development install: run npm ci without --omit=dev (missing package dns2)',
    );
  });
});
