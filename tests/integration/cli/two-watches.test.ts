import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabElb } from '../../../lab/elb';
import { startSnsEndpoint, type SnsState } from '../../../lab/sns/server';
import { runElbscope } from '../../helpers/cli';

// Two `watch` processes on one store directory (two terminals, a cron job beside a
// person): they share the state, the audit trail and the outbox, so a change is
// decided once, chained once, and published once — to SNS and to the alert file.
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:elbscope-alerts';
const lab = new LabElb({ name: 'twice', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1 } });
const sns: SnsState = { messages: [], failNext: [], refused: [] };
let env: Record<string, string>;
let dnsServer: string;
let snsEndpoint: Awaited<ReturnType<typeof startSnsEndpoint>>;
const store = mkdtempSync(join(tmpdir(), 'elbscope-two-watches-'));
const alertFile = join(store, 'alerts.jsonl');

beforeAll(async () => {
  const started = await lab.start();
  dnsServer = started.dnsServer;
  snsEndpoint = await startSnsEndpoint(sns);
  // No CloudWatch here: its calls go to a closed loopback port and fail as an observation error, the same for both.
  env = {
    AWS_ENDPOINT_URL_EC2: started.ec2Url,
    AWS_ENDPOINT_URL_SNS: snsEndpoint.url,
    AWS_ENDPOINT_URL_CLOUDWATCH: 'http://127.0.0.1:9',
  };
});
afterAll(async () => {
  await lab.stop();
  await snsEndpoint.close();
});

const watch = (cycles: number) =>
  runElbscope(
    [
      'watch',
      '--lb',
      lab.dnsName,
      '--dns-server',
      dnsServer,
      '--allow-loopback-nodes',
      '--cycles',
      String(cycles),
      '--interval',
      '1s',
      '--store',
      store,
      '--confirm',
      '2/3',
      '--sns-topic',
      TOPIC,
      '--alert-file',
      alertFile,
    ],
    env,
  );

describe('Two watch processes on one store directory', () => {
  it('decide, chain and publish a scale-up once between them, and the trail verifies', async () => {
    expect((await watch(2)).code).toBe(0); // the baseline
    lab.addNode('us-east-1b', true);
    const [a, b] = await Promise.all([watch(3), watch(3)]);
    expect([a.code, b.code], `${a.stderr}\n${b.stderr}`).toEqual([0, 0]);

    const scaled = (text: string) =>
      text.split('\n').filter((l) => l.includes('us-east-1b scaled 1 -> 2 nodes') && l.includes('ALERT')).length;
    expect(scaled(a.stdout) + scaled(b.stdout), `${a.stdout}\n${b.stdout}`).toBe(1);
    expect(sns.messages.filter((m) => m.subject === 'elbscope: twice us-east-1b scaled 1 -> 2 nodes')).toHaveLength(1);
    expect(sns.refused).toEqual([]);
    const filed = existsSync(alertFile)
      ? readFileSync(alertFile, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { event: { kind: string } })
      : [];
    expect(filed.filter((f) => f.event.kind === 'scaled')).toHaveLength(1);

    const events = await runElbscope(['events', '--store', store, '--json']);
    const listed = JSON.parse(events.stdout) as { kind: string; published: string | null }[];
    expect(listed.filter((e) => e.kind === 'scaled')).toHaveLength(1);
    expect(listed.every((e) => e.published !== null)).toBe(true);
    const verified = await runElbscope(['verify', '--store', store]);
    expect(verified.code, verified.stderr).toBe(0);
  }, 60_000);
});
