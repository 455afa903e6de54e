import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const { inlineSchemaKeys } = createRequire(import.meta.url)('../../../deploy/esbuild-plugins.cjs') as {
  inlineSchemaKeys: (source: string) => { code: string; replaced: number };
};

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

  it('finds keys to rewrite in the installed EC2 client (the plugin is not silently doing nothing)', async () => {
    const { readFile } = await import('node:fs/promises');
    const path = createRequire(import.meta.url).resolve('@aws-sdk/client-ec2').replace(/dist-cjs[\\/]index\.js$/, 'dist-es/schemas/schemas_0.js');
    const { code, replaced } = inlineSchemaKeys(await readFile(path, 'utf8'));
    expect(replaced).toBeGreaterThan(100);
    expect(code).not.toMatch(/[{,]\s*\[_\w+\]:/);
  });
});
