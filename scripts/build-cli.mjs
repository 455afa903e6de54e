#!/usr/bin/env node
// Builds the elbscope CLI into dist/cli: one ESM bundle split per command, so
// `elbscope observe` loads observe's code and nothing else, and users never pay
// for tsx compiling ~2,500 modules at every start. Runs at `npm ci` (prepare),
// before `npm test` and `npm start`; plain JavaScript so it needs no dev install.
import { createRequire } from 'node:module';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/cli`;
const pkg = JSON.parse(await readFile(`${root}package.json`, 'utf8'));

/** esbuild options for the CLI bundle (the benchmarks build the same). */
export function cliBuildOptions() {
  return {
    absWorkingDir: root,
    entryPoints: { main: 'cli/main.ts' },
    outdir,
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
    banner: { js: "import { createRequire as __elbscopeRequire } from 'node:module'; const require = __elbscopeRequire(import.meta.url);" },
    chunkNames: 'chunk-[hash]',
    legalComments: 'none',
    minifySyntax: true,
    metafile: true,
    logLevel: 'warning',
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await rm(outdir, { recursive: true, force: true });
  const result = await build(cliBuildOptions());
  // `"type": "module"` is the package's, but say it here too: dist/cli may be copied alone.
  await writeFile(`${outdir}/package.json`, '{ "type": "module" }\n');
  await writeFile(`${outdir}/meta.json`, JSON.stringify(result.metafile));
}
