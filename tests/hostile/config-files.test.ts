import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../shared/config/load';
import { ConfigError } from '../../shared/errors';

// Configuration files a typo, a template gone wrong or an attacker produce: one
// ConfigError line naming the key, never a crash, never silently accepted.
const dir = mkdtempSync(join(tmpdir(), 'elbscope-hostile-config-'));
const LB = { dnsName: 'web-1.us-east-1.elb.amazonaws.com' };
const cases: [string, string, RegExp][] = [
  ['not JSON', '{loadBalancers: []', /not valid JSON|JSON/],
  ['empty', '', /JSON|empty/],
  ['null', 'null', /expected object|object/],
  ['an array', '[]', /expected object|object/],
  ['no load balancers, no discovery', '{"loadBalancers": []}', /loadBalancers: at least one load balancer is required/],
  ['an unknown key', JSON.stringify({ loadBalancers: [LB], typo: 1 }), /unknown key\(s\) "typo"/],
  [
    '__proto__ as a key',
    `{"loadBalancers": [${JSON.stringify(LB)}], "__proto__": {"polluted": true}}`,
    /unknown key\(s\) "__proto__"/,
  ],
  [
    'a DNS name that is not one',
    JSON.stringify({ loadBalancers: [{ dnsName: 'not..valid' }] }),
    /loadBalancers\[0\]\.dnsName: not a valid DNS name/,
  ],
  [
    'a DNS name of 300 characters',
    JSON.stringify({ loadBalancers: [{ dnsName: `${'a'.repeat(300)}.com` }] }),
    /loadBalancers\[0\]\.dnsName: not a valid DNS name/,
  ],
  [
    'a DNS server given by host name',
    JSON.stringify({ loadBalancers: [LB], dns: { servers: ['localhost:53'] } }),
    /dns\.servers\[0\]: a DNS server must be an IP address/,
  ],
  [
    'a DNS server port out of range',
    JSON.stringify({ loadBalancers: [LB], dns: { servers: ['127.0.0.1:70000'] } }),
    /dns\.servers\[0\]: port must be 1-65535/,
  ],
  ['a region that is not one', JSON.stringify({ loadBalancers: [{ ...LB, region: 'mars-1' }] }), /region/],
  [
    'a role ARN that is not one',
    JSON.stringify({ loadBalancers: [{ ...LB, roleArn: 'arn:aws:iam::1:user/x' }] }),
    /roleArn: not an IAM role ARN/,
  ],
  [
    'an SNS topic that is an SQS queue',
    JSON.stringify({ loadBalancers: [LB], alerts: { snsTopicArn: 'arn:aws:sqs:us-east-1:123456789012:q' } }),
    /alerts\.snsTopicArn: not an SNS topic ARN/,
  ],
  ['M greater than N', JSON.stringify({ loadBalancers: [LB], detect: { confirm: { m: 4, n: 2 } } }), /confirm/],
  ['a negative share', JSON.stringify({ loadBalancers: [LB], detect: { pressureShare: -1 } }), /pressureShare/],
  [
    'a status URL that is not http',
    JSON.stringify({ loadBalancers: [{ ...LB, backends: [{ statusUrl: 'file:///etc/passwd' }] }] }),
    /statusUrl/,
  ],
  [
    'a TLS target without a port',
    JSON.stringify({ loadBalancers: [{ ...LB, backends: [{ tls: { target: 'a b' } }] }] }),
    /tls\.target/,
  ],
  [
    'two load balancers with one name',
    JSON.stringify({ loadBalancers: [LB, LB] }),
    /is listed twice \(also loadBalancers\[0\]\); list it once/,
  ],
  ['concurrency of a million', JSON.stringify({ loadBalancers: [LB], concurrency: 1_000_000 }), /concurrency/],
  [
    'a string where a number belongs',
    JSON.stringify({ loadBalancers: [LB], dns: { timeoutMs: '5s' } }),
    /dns\.timeoutMs/,
  ],
  [
    'a discovery without tags',
    JSON.stringify({ discovery: { regions: ['us-east-1'], tags: {} } }),
    /discovery\.tags: at least one tag/,
  ],
  [
    '10,000 load balancers of one name',
    JSON.stringify({ loadBalancers: Array.from({ length: 10_000 }, () => LB) }),
    /is listed twice \(also loadBalancers\[0\]\); list it once/,
  ],
  ['deeply nested JSON', `{"loadBalancers": ${'['.repeat(5000)}${']'.repeat(5000)}}`, /loadBalancers/],
];

describe(`Hostile configuration files (${cases.length} cases): one line naming the key`, () => {
  it.each(cases)('%s', (label, text, reason) => {
    const file = join(dir, `${label.replace(/\W+/g, '-')}.json`);
    writeFileSync(file, text);
    let error: unknown;
    try {
      loadConfigFile(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(reason);
    expect(message).not.toMatch(/\n/);
    expect(message.length).toBeLessThan(1000);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
