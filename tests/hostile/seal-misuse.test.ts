import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadBalancerState } from '../../shared/ledger/state';
import { kmsClient, kmsMacPort } from '../../shared/aws/kms-seal';
import { receiptHash } from '../../shared/ledger/ledger';
import { labHmacKey, startKmsEndpoint, type KmsState } from '../../lab/kms/server';
import type { AlertSink } from '../../shared/alerts/sinks';
import { parseConfig } from '../../shared/config/load';
import { recordCycle } from '../../shared/cycle/record';
import type { ChainedEvent } from '../../shared/detect/state';
import { keyFilePort, type MacPort } from '../../shared/ledger/seal';
import { auditLoadBalancer } from '../../shared/report/build';
import { prewarmHash, recordHash } from '../../shared/ledger/chain';
import { localStore } from '../../shared/store/local';
import { runCli } from '../../cli/program';
import { nodeSnapshot } from '../helpers/snapshots';
import { eventKey } from '../../shared/ledger/keys';

// A seal key used wrongly — the wrong key, a state forged without a seal, a key
// inside the store by a symlink — never damages the store nor fools a cycle.

const DNS = 'web-1.us-east-1.elb.amazonaws.com';
const LB = 'web';
const config = parseConfig(
  {
    loadBalancers: [{ dnsName: DNS }],
    detect: { confirm: { m: 1, n: 1 } },
    capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 },
  },
  'test',
);
const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
const NODES = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
const newKey = () => join(mkdtempSync(join(tmpdir(), 'elbscope-key-')), 'seal.key');

function recorder(): AlertSink & { got: ChainedEvent[] } {
  const got: ChainedEvent[] = [];
  return {
    description: 'recorder',
    got,
    publish: async (e: ChainedEvent) => (got.push(e), { messageId: `m-${e.seq}` }),
  };
}

/** Every file of a directory tree with its content: what "the store did not change" means. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (name.isFile()) out[join(name.parentPath, name.name)] = readFileSync(join(name.parentPath, name.name), 'utf8');
  }
  return out;
}

/** A local store of three keyed cycles (each adds a node). */
async function sealedStore(port: () => MacPort) {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-misuse-'));
  const open = () => localStore(dir, { seal: port() });
  const sink = recorder();
  for (const [m, n] of [
    [0, 1],
    [1, 2],
    [2, 3],
  ] as const)
    await recordCycle(config, [nodeSnapshot(DNS, NODES.slice(0, n))], at(m), {
      store: open(),
      sink,
      now: () => new Date(at(m)),
      claimant: 't',
    });
  return { dir, open, sink };
}

describe('A wrong key', () => {
  it('verify, the report and a writer change nothing and say "wrong key?" in one line (exit 1); the right key then finds it intact', async () => {
    const key = newKey();
    const { dir, open } = await sealedStore(() => keyFilePort(key, { create: true, now: () => new Date(at(0)) }));
    const wrong = newKey();
    await keyFilePort(wrong, { create: true }).mac('make the file');
    const before = snapshot(dir);
    const run = async (args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), env: {} });
      return { code, out, err };
    };
    const verify = await run(['verify', '--store', dir, '--seal-key', wrong]);
    expect(verify.code).toBe(1);
    expect(verify.err).toHaveLength(1);
    expect(verify.err[0]).toMatch(/^elbscope: seal: the key file .* does not match this store's seals \(wrong key\?\)/);
    expect(verify.err.join('\n')).not.toMatch(/forged|edited/);
    const report = await run(['report', '--lb', LB, '--store', dir, '--seal-key', wrong]);
    expect(report.code).toBe(1);
    expect(report.err.join('\n')).toMatch(/wrong key\?/);
    // A writer given the wrong key refuses to write.
    const writer = localStore(dir, { seal: keyFilePort(wrong, { create: false }) });
    const warnings: string[] = [];
    await recordCycle(config, [nodeSnapshot(DNS, NODES)], at(3), {
      store: writer,
      sink: recorder(),
      now: () => new Date(at(3)),
      claimant: 't',
      warn: (m) => warnings.push(m),
    });
    expect(warnings.join('\n')).toMatch(
      /^web: not recorded: seal: the key file .* does not match this store's seals \(wrong key\?\)/m,
    );
    await expect(writer.checkKey()).rejects.toThrow(/wrong key\?/);
    expect(snapshot(dir)).toEqual(before);
    // The right key: nothing was damaged.
    const right = await auditLoadBalancer(open(), LB, new Date(at(30)));
    expect(right.firstBreak).toBeNull();
    expect(right.state?.recovered).toBeUndefined();
    expect(snapshot(dir)).toEqual(before);
  });

  it('verify with the right key never moves an edited state aside: it names it, and the store is as it was', async () => {
    const key = newKey();
    const { dir, open } = await sealedStore(() => keyFilePort(key, { create: true, now: () => new Date(at(0)) }));
    const store = open();
    const found = (await store.records.get({ kind: 'state', lb: LB, id: 'state' }))!;
    await store.records.putIfVersion(
      { kind: 'state', lb: LB, id: 'state' },
      { ...(found.value as object), seal: Buffer.alloc(32, 7).toString('base64') },
      found.version,
    );
    const before = snapshot(dir);
    const audit = await auditLoadBalancer(open(), LB, new Date(at(30)));
    expect(audit.state?.recovered?.reason).toMatch(/its seal does not verify/);
    expect(audit.state?.recovered?.movedTo).toBe('');
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('A forged state without a seal', () => {
  // The forger writes the state's times and the heads it names; what it cannot do is remove every seal the
  // key made before. Whatever the port knows of the key's start (a key file: createdAt; here also none).
  for (const [name, port] of [
    ['a key file', (key: string) => keyFilePort(key, { create: true, now: () => new Date(at(0)) })],
    [
      'a key whose start is not known',
      (key: string): MacPort => ({ ...keyFilePort(key, { create: true }), since: async () => null }),
    ],
  ] as const) {
    it(`is not trusted once a record is sealed: a forged target never brings "pre-warm complete" (${name})`, async () => {
      const key = newKey();
      const { open, sink } = await sealedStore(() => port(key));
      const r = open().records;
      const target = {
        id: 'pw-9',
        loadBalancer: LB,
        nodesPerAz: 1,
        total: null,
        deadline: null,
        caseId: '999',
        requestedAt: at(3),
      };
      await r.put({ kind: 'prewarm', lb: LB, id: 'pw-9' }, target);
      const sk = { kind: 'state', lb: LB, id: 'state' } as const;
      const found = (await r.get(sk))!;
      const value = structuredClone(found.value) as {
        seal?: string;
        digest: string;
        state: LoadBalancerState;
      };
      delete value.seal;
      // Dated before the key, vouching for the forged target.
      value.state.meta.lastCycleAt = '2026-11-24T00:00:00.000Z';
      value.state.meta.lastTlsAt = null;
      value.state.head.prewarmDigests = { ...(value.state.head.prewarmDigests ?? {}), 'pw-9': prewarmHash(target) };
      // The heads it names: their seals stripped too (the event's time moved before the key, its hash recomputed).
      const chain = value.state.head.chain;
      const headKey = eventKey(LB, chain.seq);
      const head = structuredClone((await r.get(headKey))!.value) as ChainedEvent & { seal?: string };
      delete head.seal;
      head.at = '2026-11-24T00:00:00.000Z';
      head.hash = recordHash(head);
      await r.put(headKey, head);
      chain.hash = head.hash;
      const observed = value.state.head.observationChain!;
      const obsKey = {
        kind: 'observation',
        lb: LB,
        id: `${value.state.meta.observed!.at}.${observed.hash.slice(0, 12)}`,
      } as const;
      const obs = await r.get(obsKey);
      if (obs) {
        const o = structuredClone(obs.value) as { seal?: string };
        delete o.seal;
        await r.put(obsKey, o);
      }
      value.digest = createHash('sha256').update(JSON.stringify(value.state)).digest('hex');
      if (value.state.meta.observed) value.state.meta.observed.at = '2026-11-24T00:00:00.000Z';
      value.digest = createHash('sha256').update(JSON.stringify(value.state)).digest('hex');
      await r.putIfVersion(sk, value, found.version);
      const store = open();
      expect((await store.prewarms({ op: 'list', lb: LB })).map((t) => t.id)).not.toContain('pw-9');
      sink.got.length = 0;
      await recordCycle(config, [nodeSnapshot(DNS, NODES)], at(4), {
        store,
        sink,
        now: () => new Date(at(4)),
        claimant: 't',
      });
      expect(sink.got.map((e) => e.kind)).not.toContain('prewarm-complete');
    });
  }
});

describe('A key file in the wrong place', () => {
  async function run(args: string[]) {
    const err: string[] = [];
    const code = await runCli(args, { out: () => undefined, err: (t) => err.push(t), env: {} });
    return { code, err };
  }

  it('inside the store through a symlink (of the key, or of the store) is refused in one line', async () => {
    const base = mkdtempSync(join(tmpdir(), 'elbscope-keylink-'));
    const store = join(base, 'store');
    mkdirSync(store);
    await keyFilePort(join(store, 'seal.key'), { create: true }).mac('make the file');
    symlinkSync(join(store, 'seal.key'), join(base, 'link.key'));
    symlinkSync(store, join(base, 'storelink'));
    for (const [dir, key] of [
      [store, join(base, 'link.key')],
      [join(base, 'storelink'), join(store, 'seal.key')],
    ]) {
      const r = await run(['verify', '--store', dir!, '--seal-key', key!]);
      expect(r.code, r.err.join('\n')).toBe(2);
      expect(r.err).toEqual([
        `elbscope: seal key ${key}: it is inside the store ${dir}; keep it outside (whoever can write the store must not read the key)`,
      ]);
    }
  });

  it('a key path that is a directory is said to be one', async () => {
    const base = mkdtempSync(join(tmpdir(), 'elbscope-keydir-'));
    const { dir } = await sealedStore(() => keyFilePort(join(base, 'seal.key'), { create: true }));
    const r = await run(['verify', '--store', dir, '--seal-key', base]);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain(`seal: key file ${base} is a directory (give the key file's path)`);
    expect(r.err.join('\n')).not.toMatch(/mode 7/);
  });
});

describe('A KMS key knows its start (DescribeKey)', () => {
  const key = labHmacKey({ aliases: ['alias/elbscope-seal'], createdAt: new Date(Date.UTC(2026, 10, 25, 9, 59)) });
  const kms: KmsState = { keys: [key], calls: [], failNext: [] };
  let endpoint: Awaited<ReturnType<typeof startKmsEndpoint>>;
  beforeAll(async () => {
    endpoint = await startKmsEndpoint(kms);
    process.env.AWS_ENDPOINT_URL_KMS = endpoint.url;
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_KMS;
    await endpoint?.close();
  });

  it('the lab answers DescribeKey as documented: CreationDate by ARN or alias, NotFoundException (400) for no key', async () => {
    const client = kmsClient('us-east-1');
    for (const id of [key.arn, 'alias/elbscope-seal']) {
      const answer = await client.send(new DescribeKeyCommand({ KeyId: id }));
      expect(answer.KeyMetadata?.CreationDate?.toISOString()).toBe(key.createdAt!.toISOString());
      expect(answer.KeyMetadata?.KeySpec).toBe('HMAC_256');
    }
    const refused = await client.send(new DescribeKeyCommand({ KeyId: 'alias/none' })).then(
      () => null,
      (err: { name?: string; $metadata?: { httpStatusCode?: number } }) => [err.name, err.$metadata?.httpStatusCode],
    );
    expect(refused).toEqual(['NotFoundException', 400]);
  });

  it('every seal stripped and the trail rewritten: verify names the first record after the key without a seal', async () => {
    const { open } = await sealedStore(() => kmsMacPort(kmsClient('us-east-1'), key.arn));
    const r = open().records;
    const events = (await r.query('event', LB)).map(
      (f) => structuredClone(f.value) as ChainedEvent & { seal?: string },
    );
    let prev = '0'.repeat(64);
    for (const e of events) {
      delete e.seal;
      if (e.seq === 1) e.summary = 'FORGED: nothing happened';
      e.prevHash = prev;
      e.hash = recordHash(e);
      prev = e.hash;
      await r.put(eventKey(LB, e.seq), e);
    }
    for (const f of await r.query('receipt', LB)) {
      const v = structuredClone(f.value) as Record<string, unknown>;
      delete v.seal;
      v.eventHash = events.find((e) => e.id === v.eventId)?.hash;
      v.hash = receiptHash(v);
      await r.put({ kind: 'receipt', lb: LB, id: f.id }, v);
    }
    for (const f of await r.query('observation', LB)) {
      const v = structuredClone(f.value) as Record<string, unknown>;
      delete v.seal;
      await r.put({ kind: 'observation', lb: LB, id: f.id }, v);
    }
    const sk = { kind: 'state', lb: LB, id: 'state' } as const;
    const st = (await r.get(sk))!;
    const v = structuredClone(st.value) as {
      seal?: string;
      digest: string;
      state: LoadBalancerState;
    };
    delete v.seal;
    v.state.head.chain = { seq: events.at(-1)!.seq, hash: prev };
    v.digest = createHash('sha256').update(JSON.stringify(v.state)).digest('hex');
    await r.putIfVersion(sk, v, st.version);
    const audit = await auditLoadBalancer(open(), LB, new Date(at(30)));
    expect(audit.firstBreak?.reason ?? audit.state?.recovered?.reason ?? 'intact').toMatch(/carries no seal/);
    expect(audit.sealCheck?.keyedSince).toBe(key.createdAt!.toISOString());
  });
});
