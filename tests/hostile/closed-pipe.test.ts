import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli';
import { childEnv } from '../helpers/env';

// `elbscope … | head`: the reader goes away before elbscope has written everything.
// That is no error of elbscope's: it stops quietly, with no stack trace and no exit 70.
describe('A closed pipe on stdout', () => {
  it('ends the command quietly (EPIPE is the reader leaving, not a failure)', async () => {
    const child = spawn(process.execPath, [BIN, '--help'], { env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first write
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|internal error|at .*\.js:\d+/);
    expect(code).toBe(0);
  });
});
