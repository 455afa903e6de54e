import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runLabSession } from '../../cli/commands/start';
import { loadScenario } from '../../lab/scenario';
import { localStore } from '../../shared/store/local';
import { listEvents } from '../../shared/ledger/store';

// The lab scaling as AWS does, from traffic: sustained requests add a node to each
// AZ in turn (ENI first, then DNS), and when traffic stops they go again. elbscope
// must report each change once, in order, and nothing else about nodes.
// Stepped time (runLabSession `stepped`): scenario time moves only between cycles, after
// the lab has settled, so a busy machine makes the run slower, never different.
const SPEED = 1;
const scenarioFile = fileURLToPath(new URL('../../lab/scenarios/traffic-scaling.json', import.meta.url));

describe('Traffic-driven scaling in the lab', () => {
  it('reports the scale-ups during the traffic and the scale-downs after it, each once', async () => {
    const scenario = loadScenario(scenarioFile);
    const store = mkdtempSync(join(tmpdir(), 'elbscope-surge-'));
    const { startedAt } = await runLabSession({
      scenario,
      speed: SPEED,
      stepped: true,
      store,
      io: { out: () => undefined, err: () => undefined, env: {} },
      signal: new AbortController().signal,
    });
    const t0 = Date.parse(startedAt);
    const scaled = (await listEvents(localStore(store), 'surge'))
      .map((e) => e.record)
      .filter((e) => ['scaled', 'node-replaced', 'az-added', 'az-removed'].includes(e.kind))
      .map((e) => ({ az: e.az, from: e.from, to: e.to, at: (Date.parse(e.at) - t0) * SPEED }));
    expect(scaled.map(({ az, from, to }) => [az, from, to])).toEqual([
      ['us-east-1a', 1, 2],
      ['us-east-1b', 1, 2],
      ['us-east-1a', 2, 1],
      ['us-east-1b', 2, 1],
    ]);
    const trafficStart = 5_000;
    const trafficEnd = 45_000;
    expect(scaled[0]!.at).toBeGreaterThan(trafficStart);
    expect(scaled[1]!.at).toBeLessThan(trafficEnd + 15_000);
    expect(scaled[2]!.at).toBeGreaterThan(trafficEnd);
  }, 90_000);
});
