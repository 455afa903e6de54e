import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, loadConfigFromEnv, parseConfig } from '../../../shared/config/load';
import { ConfigError } from '../../../shared/errors';
import { DISCOVERY_LEDGER } from '../../../shared/ledger/keys';

const LB = 'test-738445577.us-east-1.elb.amazonaws.com';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('Function: parseConfig', () => {
  it('fills defaults for a minimal config', () => {
    const config = parseConfig({ loadBalancers: [{ dnsName: LB }] }, 'test');
    expect(config).toEqual({
      loadBalancers: [{ dnsName: LB, key: 'test', backends: [] }],
      dns: { servers: [], timeoutMs: 2000, tries: 2, queries: 4, concurrency: 64, allowLoopbackNodes: false },
      eni: { enabled: true },
      concurrency: 8,
      backendProbe: { timeoutMs: 5000, maxBytes: 1048576, concurrency: 16, perHost: 2, certWarningDays: 21 },
      detect: { confirm: { m: 2, n: 3 }, tlsConfirm: { m: 1, n: 1 }, repeatAfterMinutes: 360, pressureShare: 0.5 },
      store: { observationTtlDays: 30, observationEveryMinutes: 15 },
      fanout: { enabled: false, batchSize: 75 },
      alerts: {},
      capacity: {
        mode: 'alarms',
        alarms: { stage: 'local', chartEveryMinutes: 60 },
        cloudwatch: { enabled: true, everyMinutes: 1, settleMinutes: 2, trailingMinutes: 15, metrics: 'all' },
        reservationEveryMinutes: 5,
        surgeQueueShare: 0.5,
        idleDays: 7,
        idleShare: 0.2,
      },
    });
  });

  it.each([
    [{}, 'test: loadBalancers: at least one load balancer is required (or "discovery")'],
    [{ loadBalancers: [] }, 'test: loadBalancers: at least one load balancer is required (or "discovery")'],
    [{ discovery: { regions: ['us-east-1'], tags: {} } }, 'test: discovery.tags: at least one tag'],
    [{ loadBalancers: [{ dnsName: LB, roleArn: 'role' }] }, 'test: loadBalancers[0].roleArn: not an IAM role ARN'],
    [{ loadBalancers: [{ dnsName: LB }], dsn: {} }, 'test: unknown key(s) "dsn"'],
    [{ loadBalancers: [{ dnsName: LB, nmae: 'x' }] }, 'test: loadBalancers[0]: unknown key(s) "nmae"'],
    [{ loadBalancers: [{ dnsName: 'bad..name' }] }, 'test: loadBalancers[0].dnsName: not a valid DNS name'],
    [{ loadBalancers: [{ dnsName: LB, arn: 'arn:nope' }] }, 'test: loadBalancers[0].arn: not an ALB/NLB ARN'],
    [
      { loadBalancers: [{ dnsName: LB }], dns: { servers: ['127.0.0.1:99999'] } },
      'test: dns.servers[0]: port must be 1-65535',
    ],
    [{ loadBalancers: [{ dnsName: LB }], dns: { queries: 0 } }, 'test: dns.queries: Too small'],
    [
      { loadBalancers: [{ dnsName: LB, backends: [{ statusUrl: 'ftp://x/' }] }] },
      'test: loadBalancers[0].backends[0].statusUrl',
    ],
    [
      { loadBalancers: [{ dnsName: LB, backends: [{ name: 'i-1' }] }] },
      'test: loadBalancers[0].backends[0]: a backend needs "statusUrl", "tls" or both',
    ],
    [
      { loadBalancers: [{ dnsName: LB }, { dnsName: LB.toUpperCase() }] },
      `test: loadBalancers[1]: ${LB.toUpperCase()} is listed twice (also loadBalancers[0]); list it once`,
    ],
    [
      { loadBalancers: [{ dnsName: LB }, { dnsName: 'test-99.us-east-1.elb.amazonaws.com' }] },
      'test: loadBalancers[1]: test-99.us-east-1.elb.amazonaws.com and loadBalancers[0] (test-738445577.us-east-1.elb.amazonaws.com) would both be filed as "test.us-east-1"; set "region", "arn" or a distinct "key"',
    ],
    [
      { loadBalancers: [{ dnsName: LB, key: 'web' }, { dnsName: 'web-1.eu-west-1.elb.amazonaws.com' }] },
      'test: loadBalancers[1]: web-1.eu-west-1.elb.amazonaws.com and loadBalancers[0] (test-738445577.us-east-1.elb.amazonaws.com) would both be filed as "web"; set "region", "arn" or a distinct "key"',
    ],
    [
      { loadBalancers: [{ dnsName: LB, key: 'a/b' }] },
      'test: loadBalancers[0].key: expected 1-128 letters, digits, dots or hyphens',
    ],
    [
      { loadBalancers: [{ dnsName: LB }], detect: { confirm: { m: 3, n: 2 } } },
      'test: detect.confirm: m must not exceed n',
    ],
    [
      { loadBalancers: [{ dnsName: LB }], alerts: { snsTopicArn: 'topic' } },
      'test: alerts.snsTopicArn: not an SNS topic ARN',
    ],
    [
      { loadBalancers: [{ dnsName: LB, backends: [{ tls: { target: 'h:1', pinSha256: 'AB' } }] }] },
      'test: loadBalancers[0].backends[0].tls.pinSha256: expected 32 hex bytes',
    ],
  ])('names what is wrong in %j', (value, expected) => {
    const message = messageOf(() => parseConfig(value, 'test'));
    expect(message.startsWith(expected)).toBe(true);
    expect(message).not.toContain('\n');
  });

  it("refuses a load balancer filed under discovery's own record, whichever way its key is made", () => {
    for (const lb of [
      { dnsName: LB, key: DISCOVERY_LEDGER },
      { dnsName: `${DISCOVERY_LEDGER}-1.us-east-1.elb.amazonaws.com`, key: DISCOVERY_LEDGER },
    ])
      expect(() => parseConfig({ loadBalancers: [lb] }, 'test')).toThrow(/would be filed as "elbscope-discovery"/);
  });

  it('says how many more problems there are', () => {
    expect(messageOf(() => parseConfig({ loadBalancers: [{ dnsName: 'x..y' }], concurrency: 0 }, 'test'))).toMatch(
      /\(and 1 more problem\)$/,
    );
  });
});

describe('Function: loadConfigFile / loadConfigFromEnv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-config-'));

  it('reads a file', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ loadBalancers: [{ dnsName: LB }] }));
    expect(loadConfigFile(file).loadBalancers[0]?.dnsName).toBe(LB);
  });

  it.each([
    ['', 'empty'],
    ['{ "loadBalancers": ', 'not valid JSON'],
  ])('rejects a file holding %j', (text, expected) => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, text);
    expect(messageOf(() => loadConfigFile(file)).startsWith(`config ${file}: ${expected}`)).toBe(true);
  });

  it('names a missing file', () => {
    expect(messageOf(() => loadConfigFile(join(dir, 'missing.json')))).toBe(
      `config ${join(dir, 'missing.json')}: cannot read (ENOENT)`,
    );
  });

  it('prefers inline ELBSCOPE_CONFIG and explains when nothing is set', () => {
    expect(
      loadConfigFromEnv({ ELBSCOPE_CONFIG: JSON.stringify({ loadBalancers: [{ dnsName: LB }] }) }).loadBalancers,
    ).toHaveLength(1);
    expect(messageOf(() => loadConfigFromEnv({}))).toBe(
      'no configuration: set ELBSCOPE_CONFIG (JSON) or ELBSCOPE_CONFIG_FILE (path)',
    );
    expect(messageOf(() => loadConfigFromEnv({ ELBSCOPE_CONFIG: '{"loadBalancers":[],"x":1}' }))).toMatch(
      /^ELBSCOPE_CONFIG: /,
    );
  });
});
