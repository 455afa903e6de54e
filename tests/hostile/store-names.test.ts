import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyState } from '../../shared/ledger/state';
import { localStore } from '../../shared/store/local';

// Load balancer names the CLI takes as given (`prewarm --lb`, `events --lb`) reach the local store's directory names:
// each must stay inside loadbalancers/, have a directory of its own, list back as itself, or be refused by name.
describe('Hostile load balancer names in the local store', () => {
  const names = ['.', '..', '../x', 'a\u0000b', 'a/b', 'a_2Fb', 'a_b', 'lb_2E', 'İſK', '-x', 'web'];

  it('keeps every name inside loadbalancers/, in a directory of its own, listed as itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-hostile-names-'));
    const store = localStore(dir);
    for (const [i, lb] of names.entries())
      expect(
        await store.putState(lb, { ...emptyState(), meta: { ...emptyState().meta, lastCycleAt: `t${i}` } }, 0),
      ).toBe(true);
    expect(readdirSync(dir)).toEqual(['loadbalancers']);
    expect(readdirSync(join(dir, 'loadbalancers'))).not.toContain('state.json');
    expect(await store.listLoadBalancers()).toEqual([...names].sort());
    for (const [i, lb] of names.entries()) expect((await store.getState(lb))?.state.meta.lastCycleAt).toBe(`t${i}`);
  });

  it('refuses a name too long for a directory with one named error', async () => {
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-hostile-names-')));
    for (const lb of ['x'.repeat(300), '/'.repeat(100)]) {
      const err = await store.putState(lb, emptyState(), 0).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'UsageError', message: expect.stringMatching(/too long for the local store/) });
      expect(await store.getState(lb).catch((e: unknown) => (e as Error).name)).toBe('UsageError');
    }
  });
});
