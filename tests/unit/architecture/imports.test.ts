import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layers of shared/ (DESIGN-NOTES "Layers"): a folder imports only folders on a
 * lower line (or its own line, without a loop). `(root)` is the files directly in
 * shared/ (errors, compare, clock, deadline, answer): leaves that import no folder.
 * A new folder must be placed here before its first import is accepted.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['wiring'],
  ['doctor'],
  ['aws', 'store', 'report', 'metrics', 'fanout', 'experiments', 'deploy'],
  ['cycle', 'discovery'],
  ['ledger'],
  ['alerts'],
  ['detect'],
  ['capacity'],
  ['backends'],
  ['config'],
  ['nodes'],
  ['(root)'],
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SHARED = join(ROOT, 'shared');

/** Every TypeScript file under a directory. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.m?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The module specifiers a source imports or re-exports: static, side-effect and dynamic, type-only included. */
function specifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** The folder of shared/ a path lies in (`(root)` for shared/'s own files), or null outside shared/. */
function folderOf(path: string): string | null {
  const rel = relative(SHARED, path);
  if (rel.startsWith('..') || rel === '') return null;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0]! : '(root)';
}

interface Edge {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

/** shared/'s folder-to-folder imports, and every relative import that leaves shared/. */
function importGraph(): { edges: Edge[]; leaving: string[] } {
  const edges: Edge[] = [];
  const leaving: string[] = [];
  for (const file of sources(SHARED)) {
    const from = folderOf(file)!;
    for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(file), specifier);
      const to = folderOf(target);
      const rel = relative(ROOT, file);
      if (to === null) leaving.push(`${rel} imports ${specifier} (${relative(ROOT, target)})`);
      else if (to !== from) edges.push({ from, to, file: rel, specifier });
    }
  }
  return { edges, leaving };
}

/** The loops of a directed graph: its strongly connected components of more than one node (Tarjan). */
function loops(edges: readonly { from: string; to: string }[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, new Set());
    if (!next.has(to)) next.set(to, new Set());
    next.get(from)!.add(to);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

const levelOf = new Map(LAYERS.flatMap((line, level) => line.map((folder) => [folder, level] as const)));

describe('Architecture: imports of shared/', () => {
  const { edges, leaving } = importGraph();
  const show = (list: readonly Edge[]) => list.map((e) => `${e.file}: ${e.from} -> ${e.to} (${e.specifier})`);

  it('reads the import graph (the check is not vacuous)', () => {
    expect(edges.length).toBeGreaterThan(50);
    expect(edges.some((e) => e.from === 'wiring' && e.to === 'cycle')).toBe(true);
  });

  it('has no loop among the folders of shared/', () => {
    const found = loops(edges);
    const members = new Set(found.flat());
    const inLoops = edges.filter(
      (e) => members.has(e.from) && members.has(e.to) && found.some((c) => c.includes(e.from) && c.includes(e.to)),
    );
    expect({ loops: found, imports: show(inLoops) }).toEqual({ loops: [], imports: [] });
  });

  it('places every folder of shared/ on a layer', () => {
    const folders = new Set(sources(SHARED).map((file) => folderOf(file)!));
    expect([...folders].filter((folder) => !levelOf.has(folder)).sort()).toEqual([]);
  });

  it('imports no folder on a higher layer', () => {
    expect(show(edges.filter((e) => levelOf.get(e.to)! < levelOf.get(e.from)!))).toEqual([]);
  });

  it('imports nothing from functions/, cli/, lab/ or anywhere else outside shared/', () => {
    expect(leaving).toEqual([]);
  });

  it('finds a loop when there is one (the check can fail)', () => {
    expect(
      loops([
        { from: 'nodes', to: 'aws' },
        { from: 'aws', to: 'cycle' },
        { from: 'cycle', to: 'nodes' },
        { from: 'cycle', to: 'config' },
      ]),
    ).toEqual([['aws', 'cycle', 'nodes']]);
    expect(
      loops([
        { from: 'cycle', to: 'nodes' },
        { from: 'nodes', to: '(root)' },
      ]),
    ).toEqual([]);
    expect(
      specifiers(
        "import type {\n  A,\n} from '../cycle/snapshot';\nexport { b } from './b';\nimport './side';\nconst m = await import('../lab/x');",
      ),
    ).toEqual(['../cycle/snapshot', './b', './side', '../lab/x']);
  });
});
