import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/env';

// `npm start` exactly as the README says, headless, bounded (the scenario at 10×
// speed takes 31 s): it must exit 0, show alerts, and write the report.
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm start', () => {
  it('runs the lab scenario with elbscope watching, exits 0 and writes the HTML report', async () => {
    const store = mkdtempSync(join(tmpdir(), 'elbscope-npm-start-'));
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn('npm', ['start', '--', '--speed', '10', '--store', store], {
          cwd: root,
          env: childEnv(),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
        child.on('close', (c) => (clearTimeout(timer), resolve({ code: c, stdout: out, stderr: err })));
      },
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^load balancer {2}lab-738445577\.us-east-1\.elb\.amazonaws\.com$/m);
    expect(stdout).toContain('ALERT');
    expect(stdout).toContain('elbscope: lab us-east-1a scaled 1 -> 2 nodes');
    const reportLine = stdout.trim().split('\n').at(-1);
    expect(reportLine).toBe(`report of this run: ${join(store, 'report.html')}`);
    const html = readFileSync(join(store, 'report.html'), 'utf8');
    expect(html).toContain('elbscope report: lab');
    expect(html).toContain('scaled 1 → 2 nodes');
  }, 100_000);
});
