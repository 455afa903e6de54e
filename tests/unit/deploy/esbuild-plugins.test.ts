import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { inlineSchemaKeys, sdkSchemaKeys } = require('../../../deploy/esbuild-plugins.cjs') as {
  inlineSchemaKeys: (source: string) => { code: string; replaced: number };
  sdkSchemaKeys: Plugin;
};

/** The schema module of an SDK client the functions bundle. */
const schemaModule = (pkg: string, sub = '') =>
  join(require.resolve(`${pkg}/package.json`), '..', 'dist-es', sub, 'schemas', 'schemas_0.js');

/**
 * A schema graph as one string: thunks (`() => X$`) are followed, shared or
 * cyclic nodes are numbered in visit order, so two graphs give the same string
 * exactly when they hold the same values.
 */
function canonical(value: unknown, seen = new Map<object, number>()): string {
  if (typeof value === 'function') {
    if (value.length !== 0 || /^class\b/.test(Function.prototype.toString.call(value))) return `fn:${value.name}`;
    return `thunk(${canonical((value as () => unknown)(), seen)})`;
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
  const id = seen.get(value);
  if (id !== undefined) return `#${id}`;
  seen.set(value, seen.size);
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, seen)).join(',')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v, seen)}`)
    .join(',')}}`;
}

/** Where two strings first differ, with a little context; null when equal (a readable failure for huge graphs). */
function firstDifference(a: string, b: string): string | null {
  if (a === b) return null;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}: ${JSON.stringify(a.slice(Math.max(0, i - 60), i + 60))} vs ${JSON.stringify(b.slice(Math.max(0, i - 60), i + 60))}`;
}

/** Bundle one schema module on its own (with or without the plugin) and import it. */
async function loadSchemas(path: string, plugins: Plugin[]): Promise<Record<string, unknown>> {
  const out = await build({
    entryPoints: [path],
    bundle: true,
    format: 'esm',
    platform: 'node',
    mainFields: ['module', 'main'],
    write: false,
    plugins,
    logLevel: 'silent',
  });
  const file = join(mkdtempSync(join(tmpdir(), 'elbscope-schemas-')), 'schemas.mjs');
  writeFileSync(file, out.outputFiles[0]?.text ?? '');
  return import(pathToFileURL(file).href);
}

describe('inlineSchemaKeys (the SDK schema rewrite behind tree-shaking)', () => {
  it('writes computed keys of string constants as literals, and nothing else', () => {
    const source = [
      'const _eQN = "ec2QueryName";',
      'const _xN = "xmlName";',
      'let _notConst = "x";',
      'const _num = 1;',
      'export var A$ = [3, n0, _A, 0, [_M], [[1, { [_eQN]: `Min`,',
      '    [_xN]: _m }], [1, { [_notConst]: 1, [_num]: 2, [_missing]: 3 }]]];',
      'const b = c ? d[_xN]: e;',
    ].join('\n');
    const { code, replaced } = inlineSchemaKeys(source);
    expect(replaced).toBe(2);
    expect(code).toContain('{ "ec2QueryName": `Min`,\n    "xmlName": _m }');
    expect(code).toContain('{ [_notConst]: 1, [_num]: 2, [_missing]: 3 }');
    expect(code).toContain('d[_xN]: e');
  });

  // Every client a function bundles: the rewritten module must hold exactly the values of the original.
  const clients = [
    { pkg: '@aws-sdk/client-ec2', sub: '' },
    { pkg: '@aws-sdk/client-dynamodb', sub: '' },
    { pkg: '@aws-sdk/client-sns', sub: '' },
    { pkg: '@aws-sdk/client-sqs', sub: '' },
    { pkg: '@aws-sdk/client-elastic-load-balancing', sub: '' },
    { pkg: '@aws-sdk/client-elastic-load-balancing-v2', sub: '' },
    { pkg: '@aws-sdk/nested-clients', sub: 'submodules/sts' },
  ];
  it.each(clients)(
    'changes no schema value of $pkg $sub',
    async ({ pkg, sub }) => {
      const path = schemaModule(pkg, sub);
      const { replaced } = inlineSchemaKeys(await readFile(path, 'utf8'));
      const [original, rewritten] = await Promise.all([loadSchemas(path, []), loadSchemas(path, [sdkSchemaKeys])]);
      const names = Object.keys(original)
        .filter((k) => k.endsWith('$'))
        .sort();
      expect(
        Object.keys(rewritten)
          .filter((k) => k.endsWith('$'))
          .sort(),
      ).toEqual(names);
      expect(names.length).toBeGreaterThan(10);
      const graph = (m: Record<string, unknown>) => canonical(names.map((n) => m[n]));
      expect(firstDifference(graph(rewritten), graph(original))).toBeNull();
      // The plugin found keys to rewrite: an SDK layout change cannot make it a silent no-op.
      if (pkg === '@aws-sdk/client-ec2') expect(replaced).toBeGreaterThan(100);
    },
    60_000,
  );
});
