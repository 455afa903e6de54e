import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlertSink } from '../../shared/alerts/sinks';
import { parseConfig } from '../../shared/config/load';
import { recordCycle } from '../../shared/cycle/record';
import type { ElbEvent } from '../../shared/detect/events';
import { listEvents } from '../../shared/ledger/store';
import { localStore } from '../../shared/store/local';
import { nodeSnapshot } from '../helpers/snapshots';

// Stored records in today's and earlier formats, mixed and edited as a hostile disk or person leaves them: the next
// cycles run, every alert they decide is published once, and what was wrong is announced at most once.
const DNS = 'web-1.us-east-1.elb.amazonaws.com';
const config = parseConfig({ loadBalancers: [{ dnsName: DNS }], detect: { confirm: { m: 1, n: 1 } } }, 'test');
const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();

const stateFile = (d: string) => join(d, 'loadbalancers', 'web', 'state.json');
const eventsDir = (d: string) => join(d, 'loadbalancers', 'web', 'events');
const editState = (
  d: string,
  edit: (state: { memory: unknown; head: Record<string, unknown>; meta: Record<string, unknown> }) => unknown,
) => {
  const stored = JSON.parse(readFileSync(stateFile(d), 'utf8'));
  stored.state = edit(stored.state) ?? stored.state;
  writeFileSync(stateFile(d), JSON.stringify(stored));
};
const edits: Record<string, (d: string) => void> = {
  'a state with only its memory': (d) => editState(d, (s) => ({ memory: s.memory })),
  'a head whose chain points past the trail': (d) =>
    editState(d, (s) => {
      (s.head as { chain: { seq: number } }).chain.seq = 9;
    }),
  'a meta with a future lastCycleAt': (d) =>
    editState(d, (s) => {
      s.meta.lastCycleAt = '2099-01-01T00:00:00.000Z';
    }),
  'a flat (old) state whose digest does not match': (d) =>
    editState(d, (s) => ({ ...(s.memory as object), ...s.head, ...s.meta, edited: true })),
  'an event stored under 8 and 10 digits with different content': (d) => {
    const stored = JSON.parse(readFileSync(join(eventsDir(d), '0000000001.json'), 'utf8'));
    stored.at = at(30);
    writeFileSync(join(eventsDir(d), '00000001.json'), JSON.stringify(stored));
  },
  'an 8-digit event file whose content claims another place': (d) =>
    renameSync(join(eventsDir(d), '0000000001.json'), join(eventsDir(d), '00000002.json')),
  'a 10-digit event file whose content claims another place': (d) =>
    renameSync(join(eventsDir(d), '0000000001.json'), join(eventsDir(d), '0000000002.json')),
  "discovery's record edited to look like a load balancer's": (d) => {
    mkdirSync(join(d, 'loadbalancers', 'elbscope-discovery'), { recursive: true });
    copyFileSync(stateFile(d), join(d, 'loadbalancers', 'elbscope-discovery', 'state.json'));
  },
};

describe('Hostile mixes of stored formats', () => {
  it.each(Object.keys(edits))('%s: the next cycles publish each alert once, announce at most once', async (name) => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-hostile-formats-'));
    const published: ElbEvent[] = [];
    const sink: AlertSink = {
      description: 'test',
      publish: async (e) => {
        published.push(e as ElbEvent);
        return { messageId: null };
      },
    };
    const cycle = (ips: string[], m: number) =>
      recordCycle(config, [nodeSnapshot(DNS, ips)], at(m), {
        store: localStore(dir),
        sink,
        now: () => new Date(at(m)),
        claimant: 't',
      });
    await cycle(['10.0.0.1'], 0);
    await cycle(['10.0.0.1', '10.0.0.2'], 1);
    edits[name]?.(dir);
    published.length = 0;
    await cycle(['10.0.0.1', '10.0.0.2', '10.0.0.3'], 2);
    await cycle(['10.0.0.1'], 3);
    const ids = published.map((e) => e.id);
    expect(new Set(ids).size, 'published twice').toBe(ids.length);
    expect(published.filter((e) => e.kind === 'store-record-corrupt').length).toBeLessThanOrEqual(1);
    // The last cycle's scale-in is decided whatever the rules remembered: it must reach the sink.
    expect(published.filter((e) => e.kind === 'scaled' && e.at === at(3))).toHaveLength(1);
    expect(Array.isArray(await listEvents(localStore(dir), 'web'))).toBe(true);
  });
});
