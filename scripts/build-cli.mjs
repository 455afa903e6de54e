#!/usr/bin/env node
// Builds the elbscope CLI into dist/cli: one ESM bundle split per command, so
// `elbscope observe` loads observe's code and nothing else, and users never pay
// for tsx compiling ~2,500 modules at every start. Runs at `npm ci` (prepare),
// before `npm test` and `npm start`; plain JavaScript so it needs no dev install.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/cli`;
const pkg = JSON.parse(await readFile(`${root}package.json`, 'utf8'));

/** esbuild options for the CLI bundle, written into `into`. */
function cliBuildOptions(into) {
  return {
    absWorkingDir: root,
    entryPoints: { main: 'cli/main.ts' },
    outdir: into,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The SDK's ESM build lets esbuild keep only the operations called (as the functions).
    mainFields: ['module', 'main'],
    plugins: require('../deploy/esbuild-plugins.cjs'),
    // Dev-only packages (the lab's DNS server, dns2) stay outside: after
    // `npm ci --omit=dev` they are missing, and only the lab commands need them.
    external: Object.keys(pkg.devDependencies ?? {}),
    // Bundled CommonJS packages call require(); ESM output has none of its own.
    banner: {
      js: "import { createRequire as __elbscopeRequire } from 'node:module'; const require = __elbscopeRequire(import.meta.url);",
    },
    chunkNames: 'chunk-[hash]',
    legalComments: 'none',
    // Minified as the functions are: a third of the bytes to parse before the first query
    // (~25 ms of a one-shot run); the linked source maps serve `node --enable-source-maps`.
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  };
}

/**
 * Whether dist/cli was built from the files as they are now: no input of the last
 * build (and no build setting) is newer than its metafile. Lets `npm start` and
 * `npm test` build only when something changed, and never rebuild under a running CLI.
 */
function upToDate() {
  const metaFile = `${outdir}/meta.json`;
  if (!existsSync(metaFile)) return false;
  const builtAt = statSync(metaFile).mtimeMs;
  try {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    const inputs = [
      ...Object.keys(meta.inputs),
      'package.json',
      'package-lock.json',
      'scripts/build-cli.mjs',
      'deploy/esbuild-plugins.cjs',
    ];
    return inputs.every((input) => statSync(`${root}${input}`).mtimeMs <= builtAt);
  } catch {
    return false; // an input is gone, or the metafile is not ours: build
  }
}

if (process.argv.includes('--if-changed') && upToDate()) process.exit(0);
// Built beside, then swapped in: a CLI running from dist/cli never sees a half-written bundle.
const next = `${outdir}.next-${process.pid}`;
const old = `${outdir}.old-${process.pid}`;
await mkdir(next, { recursive: true });
const result = await build(cliBuildOptions(next));
// `"type": "module"` is the package's, but say it here too: dist/cli may be copied alone.
await writeFile(`${next}/package.json`, '{ "type": "module" }\n');
await writeFile(
  `${next}/meta.json`,
  JSON.stringify(result.metafile).replaceAll(`${next.slice(root.length)}/`, 'dist/cli/'),
);
if (existsSync(outdir)) await rename(outdir, old);
await rename(next, outdir);
await rm(old, { recursive: true, force: true });
