import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
let packaged: Promise<string> | null = null;

/** `serverless package` once per benchmark run (the zips users deploy); the directory holding the zips. */
export function packageFunctions(): Promise<string> {
  packaged ??= (async () => {
    const out = mkdtempSync(join(tmpdir(), 'elbscope-bench-package-'));
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      SLS_TELEMETRY_DISABLED: '1',
    };
    await run(
      process.execPath,
      [join(root, 'node_modules/osls/bin/serverless.js'), 'package', '--package', out, '--stage', 'bench'],
      { cwd: root, env },
    );
    return out;
  })();
  return packaged;
}

/** One function's zip, unzipped: the path of its handler.js. */
export async function unzipHandler(out: string, name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `elbscope-bench-${name}-`));
  await run('unzip', ['-q', join(out, `${name}.zip`), '-d', dir]);
  return join(dir, 'functions', name, 'handler.js');
}
