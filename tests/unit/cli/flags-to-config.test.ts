import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromFlags } from '../../../cli/commands/flags-to-config';

// The one place where a command's flags become its configuration (watch, observe): each flag over the base's field,
// the rest of the base kept.
const file = join(mkdtempSync(join(tmpdir(), 'elbscope-flags-')), 'config.json');
writeFileSync(
  file,
  JSON.stringify({
    loadBalancers: [{ dnsName: 'web-1.us-east-1.elb.amazonaws.com', backends: [{ statusUrl: 'http://10.0.0.1/s' }] }],
    dns: { queries: 7, servers: ['10.0.0.2'] },
    detect: { confirm: { m: 2, n: 4 }, pressureShare: 0.4 },
    alerts: { snsTopicArn: 'arn:aws:sns:us-east-1:123456789012:file-topic' },
  }),
);
const USAGE = 'test: give --config FILE or a name';

describe('Flags to configuration', () => {
  it('takes the file as the base, each flag over its own field only', () => {
    const config = configFromFlags(
      {
        config: file,
        dnsServer: ['127.0.0.1:5353'],
        timeout: 900,
        eni: false,
        confirm: { m: 1, n: 1 },
        snsTopic: 'arn:aws:sns:us-east-1:123456789012:flag-topic',
      },
      {},
      USAGE,
    );
    expect(config.loadBalancers.map((lb) => [lb.dnsName, lb.backends.map((b) => b.statusUrl)])).toEqual([
      ['web-1.us-east-1.elb.amazonaws.com', ['http://10.0.0.1/s']],
    ]);
    expect(config.dns).toMatchObject({ servers: ['127.0.0.1:5353'], queries: 7, timeoutMs: 900 });
    expect(config.eni.enabled).toBe(false);
    expect(config.detect).toMatchObject({ confirm: { m: 1, n: 1 }, pressureShare: 0.4 });
    expect(config.alerts.snsTopicArn).toBe('arn:aws:sns:us-east-1:123456789012:flag-topic');
  });

  it("names load balancers instead of the base's, each with the flags' region and backends", () => {
    const config = configFromFlags(
      {
        config: file,
        lb: ['a.example.com', 'b.example.com'],
        region: 'eu-west-1',
        backend: ['http://10.0.0.9/server-status'],
        acceptFilterNone: true,
      },
      {},
      USAGE,
    );
    expect(
      config.loadBalancers.map((lb) => [
        lb.dnsName,
        lb.region,
        lb.backends.map((b) => [b.statusUrl, b.acceptFilterNone]),
      ]),
    ).toEqual([
      ['a.example.com', 'eu-west-1', [['http://10.0.0.9/server-status', true]]],
      ['b.example.com', 'eu-west-1', [['http://10.0.0.9/server-status', true]]],
    ]);
    expect(config.dns.queries).toBe(7); // the file's, no flag said otherwise
    expect(config.eni.enabled).toBe(true);
  });

  it('takes the environment when nothing is named, and names alone without it', () => {
    const env = {
      ELBSCOPE_CONFIG: JSON.stringify({ loadBalancers: [{ dnsName: 'env-1.us-east-1.elb.amazonaws.com' }] }),
    };
    expect(configFromFlags({}, env, USAGE).loadBalancers.map((lb) => lb.dnsName)).toEqual([
      'env-1.us-east-1.elb.amazonaws.com',
    ]);
    const named = configFromFlags({ lb: ['a.example.com'] }, env, USAGE);
    expect(named.loadBalancers.map((lb) => [lb.dnsName, lb.backends])).toEqual([['a.example.com', []]]);
    expect(() => configFromFlags({ lb: ['not a name'] }, {}, USAGE)).toThrow(/^command line: /);
  });
});
