import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSink } from '../../../shared/alerts/sinks';
import { parseConfig } from '../../../shared/config/load';
import { recordCycle } from '../../../shared/cycle/record';
import { verifyChain } from '../../../shared/ledger/chain';
import { dynamoDbStore } from '../../../shared/store/dynamodb';
import { localStore } from '../../../shared/store/local';
import { type Store, listEvents } from '../../../shared/ledger/store';
import { startDynalite } from '../../helpers/dynalite';
import { nodeSnapshot } from '../../helpers/snapshots';
import { runElbscope } from '../../helpers/cli';

// Records a full disk or an edit leaves behind (empty, cut off, not JSON): named,
// moved aside, the rules start again from a baseline with the audit chain
// continued, the event says so, other load balancers carry on; no manual repair.
const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
const config = parseConfig(
  {
    loadBalancers: [{ dnsName: 'web-1.us-east-1.elb.amazonaws.com' }, { dnsName: 'api-1.us-east-1.elb.amazonaws.com' }],
    detect: { confirm: { m: 1, n: 1 } },
  },
  'test',
);
const cycle = (
  deps: { store: Store; sink: AlertSink; now: () => Date; claimant: string; warn?: (m: string) => void },
  m: number,
  webNodes: string[],
) =>
  recordCycle(
    config,
    [
      nodeSnapshot('web-1.us-east-1.elb.amazonaws.com', webNodes),
      nodeSnapshot('api-1.us-east-1.elb.amazonaws.com', ['10.9.0.1']),
    ],
    at(m),
    deps,
  );

function recording() {
  const sent: string[] = [];
  const sink: AlertSink = { description: 'test', publish: async (e) => (sent.push(e.kind), { messageId: null }) };
  return { sent, sink };
}

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(() => dynamo?.stop());

describe('Local store: records that do not parse', () => {
  it('an empty state.json (a full disk) is moved aside; the chain continues; one critical event; the other load balancer carries on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-corrupt-'));
    const store = localStore(dir);
    const { sent, sink } = recording();
    const deps = { store, sink, now: () => new Date(at(30)), claimant: 't' };
    await cycle(deps, 0, ['10.0.0.1']);
    await cycle(deps, 1, ['10.0.0.1', '10.0.0.2']); // scaled: record #1
    const stateFile = join(dir, 'loadbalancers', 'web', 'state.json');
    writeFileSync(stateFile, '');

    const events = await cycle(deps, 2, ['10.0.0.1', '10.0.0.2']);
    expect(events.map((e) => [e.kind, e.severity, e.seq])).toEqual([['store-record-corrupt', 'critical', 2]]);
    expect(events[0]?.summary).toMatch(
      new RegExp(
        `^web: stored state could not be used \\(empty: a write that did not finish\\); moved aside to ${stateFile.replaceAll('/', '\\/')}\\.corrupt-`,
      ),
    );
    expect(
      readdirSync(join(dir, 'loadbalancers', 'web')).filter((f) => f.startsWith('state.json.corrupt-')),
    ).toHaveLength(1);
    expect(sent).toEqual(['scaled', 'store-record-corrupt']);
    const [stored, state] = await Promise.all([listEvents(store, 'web'), store.getState('web')]);
    expect(verifyChain('web', stored, state?.state.head.chain ?? null)).toBeNull();
    // The rules took a new baseline: the next change is reported as usual.
    await cycle(deps, 3, ['10.0.0.1']);
    expect((await listEvents(store, 'web')).map((e) => e.record.kind)).toEqual([
      'scaled',
      'store-record-corrupt',
      'scaled',
    ]);
  });

  it('an edited state.json (its digest not recomputed) is named by verify (which changes nothing), moved aside and announced once by the next cycle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-corrupt-'));
    const store = localStore(dir);
    const { sent, sink } = recording();
    const deps = { store, sink, now: () => new Date(at(30)), claimant: 't' };
    await cycle(deps, 0, ['10.0.0.1']);
    await cycle(deps, 1, ['10.0.0.1', '10.0.0.2']);
    // Someone makes the rules believe web already has three nodes (the next scale-up would pass unannounced).
    const stateFile = join(dir, 'loadbalancers', 'web', 'state.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    state.state.memory.nodes['us-east-1a'].push('10.0.0.3');
    writeFileSync(stateFile, JSON.stringify(state, null, 2));

    const verified = await runElbscope(['verify', '--store', dir]);
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain(
      `elbscope: web: stored state at ${stateFile} its content does not match the digest written with it (it was edited); left in place (verify changes nothing; the next cycle moves it aside and rebuilds it)`,
    );
    expect(readFileSync(stateFile, 'utf8')).toBe(JSON.stringify(state, null, 2));
    const events = await cycle(deps, 2, ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(events.map((e) => [e.kind, e.severity])).toEqual([['store-record-corrupt', 'critical']]);
    expect(events[0]?.summary).toContain('(its content does not match the digest written with it (it was edited))');
    expect(sent).toEqual(['scaled', 'store-record-corrupt']);
    expect((await runElbscope(['verify', '--store', dir])).code).toBe(0); // announced: the note is gone, the trail intact
  });

  it('a cut-off outbox file is rebuilt from the audit trail and published once; a corrupt prewarm file stops only its load balancer, named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-corrupt-'));
    const store = localStore(dir);
    const failing: AlertSink = {
      description: 'down',
      publish: async () => Promise.reject(Object.assign(new Error('down'), { name: 'InternalError' })),
    };
    await cycle({ store, sink: failing, now: () => new Date(at(30)), claimant: 't' }, 0, ['10.0.0.1']);
    await cycle({ store, sink: failing, now: () => new Date(at(30)), claimant: 't' }, 1, ['10.0.0.1', '10.0.0.2']);
    const [outboxFile] = readdirSync(join(dir, 'outbox')).filter((f) => f.endsWith('.json'));
    writeFileSync(join(dir, 'outbox', outboxFile as string), '{"id": "cut');
    rmSync(join(dir, 'outbox', (outboxFile as string).replace('.json', '.retry')), { force: true });
    const { sent, sink } = recording();
    writeFileSync(join(dir, 'loadbalancers', 'api', 'prewarm-placeholder'), ''); // not a .json: ignored
    const prewarmDir = join(dir, 'loadbalancers', 'api', 'prewarm');
    rmSync(prewarmDir, { recursive: true, force: true });
    await import('node:fs').then((fs) => fs.mkdirSync(prewarmDir));
    writeFileSync(join(prewarmDir, 'pw-1.json'), 'not json');
    const warnings: string[] = [];
    const events = await cycle(
      { store, sink, now: () => new Date(at(30)), claimant: 't', warn: (m) => warnings.push(m) },
      2,
      ['10.0.0.1'],
    );
    // web carried on (scaled back to 1) while api could not be recorded; the rebuilt alert and the new one each went
    // once.
    expect(events.map((e) => [e.loadBalancer, e.from, e.to])).toEqual([['web', 2, 1]]);
    expect(sent).toEqual(['scaled', 'scaled']);
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^api: not recorded: StoreRecordCorruptError: ${prewarmDir.replaceAll('/', '\\/')}\\/pw-1.json: stored record does not parse`,
        ),
      ),
    ]);
  });

  it('events and verify name an event file that does not parse, in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-corrupt-'));
    const store = localStore(dir);
    const { sink } = recording();
    await cycle({ store, sink, now: () => new Date(at(30)), claimant: 't' }, 0, ['10.0.0.1']);
    await cycle({ store, sink, now: () => new Date(at(30)), claimant: 't' }, 1, ['10.0.0.1', '10.0.0.2']);
    const file = join(dir, 'loadbalancers', 'web', 'events', '0000000001.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 40));
    const events = await runElbscope(['events', '--store', dir]);
    expect([events.code, events.stderr.trim()]).toEqual([
      2,
      expect.stringMatching(new RegExp(`^elbscope: ${file.replaceAll('/', '\\/')}: stored record does not parse \\(`)),
    ]);
    const verify = await runElbscope(['verify', '--store', dir]);
    expect(verify.code).toBe(1);
    expect(verify.stderr.trim()).toMatch(
      new RegExp(`^elbscope: web: audit chain broken at ${file.replaceAll('/', '\\/')}: stored record does not parse`),
    );
    expect(verify.stdout).toContain('api: intact');
  });
});

describe('DynamoDB store: a state item that does not parse', () => {
  it('is kept beside it, replaced by a fresh state continuing the chain, with one critical event', async () => {
    const store = dynamoDbStore(dynamo.client, dynamo.table);
    const { sent, sink } = recording();
    const deps = { store, sink, now: () => new Date(at(30)), claimant: 't' };
    await cycle(deps, 0, ['10.0.0.1']);
    await cycle(deps, 1, ['10.0.0.1', '10.0.0.2']);
    const { UpdateItemCommand, QueryCommand } = await import('@aws-sdk/client-dynamodb');
    await dynamo.client.send(
      new UpdateItemCommand({
        TableName: dynamo.table,
        Key: { pk: { S: 'LB#web' }, sk: { S: 'STATE' } },
        UpdateExpression: 'SET #d = :d',
        ExpressionAttributeNames: { '#d': 'data' },
        ExpressionAttributeValues: { ':d': { S: '{"samples": [' } },
      }),
    );
    const events = await cycle(deps, 2, ['10.0.0.1', '10.0.0.2']);
    expect(events.map((e) => [e.kind, e.seq])).toEqual([['store-record-corrupt', 2]]);
    expect(sent).toEqual(['scaled', 'store-record-corrupt']);
    const kept = await dynamo.client.send(
      new QueryCommand({
        TableName: dynamo.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :c)',
        ExpressionAttributeValues: { ':pk': { S: 'LB#web' }, ':c': { S: 'CORRUPT#' } },
      }),
    );
    expect(kept.Items?.map((i) => i.data?.S)).toEqual(['{"samples": [']);
    const [stored, state] = await Promise.all([listEvents(store, 'web'), store.getState('web')]);
    expect(verifyChain('web', stored, state?.state.head.chain ?? null)).toBeNull();
  });
});

describe('A state that would not fit in a DynamoDB item', () => {
  it('is refused with its size named; that load balancer is not recorded, the other is', async () => {
    const store = dynamoDbStore(dynamo.client, dynamo.table);
    const wide = parseConfig(
      {
        loadBalancers: [
          { dnsName: 'big-1.us-east-1.elb.amazonaws.com' },
          { dnsName: 'small-1.us-east-1.elb.amazonaws.com' },
        ],
        detect: { confirm: { m: 60, n: 60 } },
      },
      'test',
    );
    const many = Array.from({ length: 500 }, (_, i) => `10.${i >> 8}.${i & 255}.1`);
    const warnings: string[] = [];
    const { sink } = recording();
    for (let m = 0; m < 60; m++) {
      const ips = many.map((ip) => ip.replace(/\.1$/, `.${(m % 200) + 2}`)); // every cycle different: every sample kept
      await recordCycle(
        wide,
        [
          nodeSnapshot('big-1.us-east-1.elb.amazonaws.com', ips),
          nodeSnapshot('small-1.us-east-1.elb.amazonaws.com', [`10.9.0.${(m % 200) + 1}`]),
        ],
        new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString(),
        { store, sink, now: () => new Date(), claimant: 't', warn: (w) => warnings.push(w) },
      );
    }
    expect(
      warnings.some((w) =>
        /^big: not recorded: StateTooLargeError: the state of big would be \d+ KB, over the 350 KB/.test(w),
      ),
    ).toBe(true);
    expect(warnings.filter((w) => w.startsWith('small'))).toEqual([]);
    expect((await store.getState('small'))?.state.memory.samples).toHaveLength(60);
  }, 60_000);
});
