import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { emptyElbApi, startElbApi, type LabClassicLb, type RunningElbApi } from '../../../lab/elb-api/server';
import { createBackendAuthLookup, normalizedPublicKey } from '../../../shared/backends/auth-policy';
import { parseConfig } from '../../../shared/config/load';
import { probeConfiguredTls } from '../../../shared/cycle/tls-round';
import { detectTls, type RuleOptions } from '../../../shared/detect/rules';
import { toTlsSample } from '../../../shared/cycle/sample';
import { emptyMemory } from '../../../shared/detect/state';
import { selfSignedCert } from '../../helpers/certs';

// A Classic ELB with a back-end authentication policy (the lab's ELB API, held to
// DescribeLoadBalancers / DescribeLoadBalancerPolicies' contract) in front of a real
// TLS backend: the key the backend presents is compared with the policy's keys.
const certA = selfSignedCert('backend-a.lab.internal');
const certB = selfSignedCert('backend-b.lab.internal');
const pem = (file: string) => readFileSync(file, 'utf8');
const spki = (file: string) =>
  new X509Certificate(pem(file)).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const certBody = (file: string) =>
  pem(file)
    .replace(/-----[A-Z ]+-----/g, '')
    .replace(/\s+/g, '');

const options: RuleOptions = {
  confirm: { m: 2, n: 3 },
  tlsConfirm: { m: 1, n: 1 },
  repeatAfterMs: 3_600_000,
  pressureShare: 0.5,
  certWarningDays: 21,
};
const api = emptyElbApi();
let endpoint: RunningElbApi;
let backend: Server;
let port = 0;
let web: LabClassicLb;

beforeAll(async () => {
  backend = createServer({ cert: pem(certA.cert), key: pem(certA.key) }, (s) => s.end());
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  port = (backend.address() as AddressInfo).port;
  web = {
    name: 'web',
    dnsName: 'web-1.us-east-1.elb.amazonaws.com',
    backendServers: [{ instancePort: port, policyNames: ['auth'] }],
    policies: [
      { name: 'auth', type: 'BackendServerAuthenticationPolicyType', attributes: [['PublicKeyPolicyName', 'key-a']] },
      { name: 'key-a', type: 'PublicKeyPolicyType', attributes: [['PublicKey', spki(certA.cert)]] },
    ],
  };
  api.classic.push(web);
  endpoint = await startElbApi(api);
});
afterAll(async () => {
  backend.close();
  await endpoint.close();
});

describe("Classic back-end authentication: the backend's public key against the policy", () => {
  const elb = () => new ElasticLoadBalancingClient({ region: 'us-east-1', endpoint: endpoint.url, maxAttempts: 1 });
  const config = () =>
    parseConfig(
      { loadBalancers: [{ dnsName: web.dnsName, backends: [{ name: 'b', tls: { target: `127.0.0.1:${port}` } }] }] },
      'test',
    );
  const state = emptyMemory();
  state.kind = 'classic';
  let minute = 0;
  const round = async (now = new Date()) => {
    const results = await probeConfiguredTls(
      config(),
      () => now,
      () => createBackendAuthLookup(elb()),
    );
    const at = new Date(Date.parse('2026-11-27T10:00:00Z') + ++minute * 60_000).toISOString();
    return {
      results,
      events: detectTls(state, toTlsSample(results, at), 'web', options).map((e) => [e.kind, e.status, e.severity]),
    };
  };

  it("reads the policy's keys for the backend's port; the key it serves is accepted: no event", async () => {
    const { results, events } = await round();
    expect(results[0]?.authKeys).toEqual([spki(certA.cert)]);
    expect(results[0]?.finding.publicKey).toBe(spki(certA.cert));
    expect(events).toEqual([]);
    expect(api.refused).toEqual([]);
  });

  it('a new certificate with a key the policy does not list: backend-key-rejected, critical (and cert-changed)', async () => {
    backend.setSecureContext({ cert: pem(certB.cert), key: pem(certB.key) });
    expect((await round()).events).toEqual([
      ['backend-key-rejected', 'firing', 'critical'],
      ['cert-changed', 'event', 'warning'],
    ]);
  });

  it("resolves once the policy lists the new key (given as a whole certificate, as AWS's own example does)", async () => {
    web.policies?.push({
      name: 'key-b',
      type: 'PublicKeyPolicyType',
      attributes: [['PublicKey', certBody(certB.cert)]],
    });
    web.policies![0]!.attributes.push(['PublicKeyPolicyName', 'key-b']);
    expect((await round()).events).toEqual([['backend-key-rejected', 'resolved', 'info']]);
  });

  it('an expired certificate is critical with a policy, a warning without one (the ELB then checks nothing), said so', async () => {
    const later = new Date(Date.now() + 800 * 86_400_000);
    const withPolicy = await round(later);
    expect(withPolicy.events).toEqual([['cert-expiring', 'firing', 'critical']]);
    web.backendServers = [];
    state.conditions = {};
    const without = emptyMemory();
    without.kind = 'classic';
    const results = await probeConfiguredTls(
      config(),
      () => later,
      () => createBackendAuthLookup(elb()),
    );
    expect(results[0]?.authKeys).toBeNull();
    const events = detectTls(without, toTlsSample(results, '2026-11-27T11:00:00.000Z'), 'web', options);
    expect(events.map((e) => [e.kind, e.severity, e.summary])).toEqual([
      [
        'cert-expiring',
        'warning',
        expect.stringMatching(
          /; the Classic ELB has no back-end authentication policy for this port, so it does not check backend certificates$/,
        ),
      ],
    ]);
  });

  it('a policy lookup that fails is said in the findings and decides nothing (never read as "no policy")', async () => {
    api.failNext.push({ code: 'Throttling', status: 400, message: 'Rate exceeded' });
    const results = await probeConfiguredTls(
      config(),
      () => new Date(),
      () => createBackendAuthLookup(elb()),
    );
    expect(results[0]?.authKeys).toBeUndefined();
    expect(results[0]?.finding.findings).toContain(
      'back-end authentication policy not read: DescribeLoadBalancers (Classic, web): Throttling: Rate exceeded',
    );
  });
});

describe('Function: normalizedPublicKey', () => {
  it('reads a public key, a certificate (PEM armour or not) to the same key, and refuses anything else naming the load balancer', () => {
    const key = spki(certA.cert);
    expect(normalizedPublicKey(key, 'web')).toBe(key);
    expect(normalizedPublicKey(certBody(certA.cert), 'web')).toBe(key);
    expect(normalizedPublicKey(pem(certA.cert), 'web')).toBe(key);
    expect(() => normalizedPublicKey('bm90IGEga2V5', 'web')).toThrow(
      'web: a PublicKeyPolicyType PublicKey is neither a public key nor a certificate',
    );
  });
});
