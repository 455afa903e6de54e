import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlertSink } from '../../shared/alerts/sinks';
import { parseConfig } from '../../shared/config/load';
import { recordCycle } from '../../shared/cycle/record';
import { localStore } from '../../shared/store/local';
import { runCli } from '../../cli/program';
import { nodeSnapshot } from '../helpers/snapshots';
import { listEvents } from '../../shared/ledger/store';

// Every kind of stored file, with every shape a full disk, a crash or an edit
// leaves: a cycle still runs (the other load balancer is recorded, the damaged
// record named), and the CLI answers in one line, never an internal error.
const contents: Record<string, string> = {
  empty: '',
  'cut off': '{"version": 3, "sta',
  'not JSON': 'garbage\u0000',
  null: 'null',
  'an array': '[]',
  'a string': '"x"',
  'wrong types': '{"version":"a","state":7,"seq":"x","id":5}',
};
const config = parseConfig(
  {
    loadBalancers: [{ dnsName: 'web-1.us-east-1.elb.amazonaws.com' }, { dnsName: 'api-1.us-east-1.elb.amazonaws.com' }],
    detect: { confirm: { m: 1, n: 1 } },
  },
  'test',
);
const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
const sink: AlertSink = { description: 'test', publish: async () => ({ messageId: null }) };
const down: AlertSink = {
  description: 'down',
  publish: async () => Promise.reject(Object.assign(new Error('down'), { name: 'InternalError' })),
};

async function seeded(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-hostile-store-'));
  const store = localStore(dir);
  await recordCycle(
    config,
    [
      nodeSnapshot('web-1.us-east-1.elb.amazonaws.com', ['10.0.0.1']),
      nodeSnapshot('api-1.us-east-1.elb.amazonaws.com', ['10.9.0.1']),
    ],
    at(0),
    { store, sink, now: () => new Date(at(0)), claimant: 't' },
  );
  // api's scale-up is published (a receipt); web's waits in the outbox (its sink is down).
  await recordCycle(config, [nodeSnapshot('api-1.us-east-1.elb.amazonaws.com', ['10.9.0.1', '10.9.0.2'])], at(1), {
    store,
    sink,
    now: () => new Date(at(1)),
    claimant: 't',
  });
  await recordCycle(config, [nodeSnapshot('web-1.us-east-1.elb.amazonaws.com', ['10.0.0.1', '10.0.0.2'])], at(1), {
    store,
    sink: down,
    now: () => new Date(at(1)),
    claimant: 't',
  });
  await store.prewarms({
    op: 'put',
    target: {
      id: 'pw-1',
      loadBalancer: 'web',
      nodesPerAz: 9,
      total: null,
      deadline: null,
      caseId: null,
      requestedAt: at(0),
    },
  });
  return dir;
}

const files: Record<string, (dir: string) => string> = {
  state: (d) => join(d, 'loadbalancers', 'web', 'state.json'),
  event: (d) => join(d, 'loadbalancers', 'web', 'events', '0000000001.json'),
  outbox: (d) => join(d, 'outbox', readdirSync(join(d, 'outbox')).find((f) => f.endsWith('.json')) as string),
  receipt: (d) =>
    join(
      d,
      'loadbalancers',
      'api',
      'published',
      readdirSync(join(d, 'loadbalancers', 'api', 'published'))[0] as string,
    ),
  prewarm: (d) => join(d, 'loadbalancers', 'web', 'prewarm', 'pw-1.json'),
  observation: (d) =>
    join(
      d,
      'loadbalancers',
      'web',
      'observations',
      readdirSync(join(d, 'loadbalancers', 'web', 'observations'))[0] as string,
    ),
};
const cases = Object.entries(files).flatMap(([kind, file]) =>
  Object.entries(contents).map(([shape, text]) => [`${kind} file, ${shape}`, file, text] as const),
);

describe(`Hostile store records (${cases.length} cases)`, () => {
  it.each(cases)(
    '%s: the next cycle runs and the CLI answers in one line',
    async (_label, file, text) => {
      const dir = await seeded();
      const target = file(dir);
      writeFileSync(target, text);
      const warnings: string[] = [];
      const store = localStore(dir);
      await recordCycle(
        config,
        [
          nodeSnapshot('web-1.us-east-1.elb.amazonaws.com', ['10.0.0.1', '10.0.0.2']),
          nodeSnapshot('api-1.us-east-1.elb.amazonaws.com', ['10.9.0.1', '10.9.0.2']),
        ],
        at(2),
        { store, sink, now: () => new Date(at(2)), claimant: 't', warn: (m) => warnings.push(m) },
      );
      // The other load balancer is recorded whatever happened to web's files.
      expect((await listEvents(store, 'api')).map((e) => e.record.kind)).toEqual(['scaled']);
      for (const w of warnings) expect(w).not.toMatch(/\n/);
      for (const args of [
        ['events', '--store', dir],
        ['verify', '--store', dir],
        ['report', '--lb', 'web', '--store', dir, '--format', 'json'],
      ]) {
        const out: string[] = [];
        const err: string[] = [];
        const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), env: {} });
        expect([0, 1, 2], `${args[0]}: ${err.join(' / ')}`).toContain(code);
        if (code !== 0)
          expect(err.filter((l) => l.startsWith('elbscope: ')).length, err.join('\n')).toBeGreaterThanOrEqual(1);
        for (const l of err) expect(l).not.toMatch(/internal error|\n {4}at /);
      }
    },
    20_000,
  );
});
