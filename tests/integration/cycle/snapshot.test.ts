import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EC2Client } from '@aws-sdk/client-ec2';
import { LabElb } from '../../../lab/elb';
import { parseConfig } from '../../../shared/config/load';
import { snapshotConfigured } from '../../../shared/cycle/snapshot';
import { createDnsLookup } from '../../../shared/nodes/dns';
import { createEniLookup } from '../../../shared/nodes/eni';
import { openIdleConnections, requireBinary, startApache, startNginx, type RunningServer } from '../../helpers/servers';

// One cycle end to end: the lab's nodes (DNS + EC2 through the real SDK) and, in
// the same cycle, real Apache and nginx backends holding idle connections that
// come from the nodes' private IPs, as an ELB's pre-opened connections do.
const apache = requireBinary(['apache2', 'httpd']);
const nginx = requireBinary(['nginx']);

describe.skipIf(!apache || !nginx)('Function: snapshotConfigured', () => {
  const lab = new LabElb({ name: 'cycle', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1 } });
  let backend: RunningServer;
  let web: RunningServer;
  let ec2: EC2Client;
  let dnsServer: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    let ec2Url: string;
    ({ dnsServer, ec2Url } = await lab.start());
    ec2 = new EC2Client({ region: 'us-east-1', endpoint: ec2Url });
    [backend, web] = await Promise.all([startApache(apache as string, { mpm: 'event' }), startNginx(nginx as string)]);
    const [a, b] = lab.nodes;
    sockets.push(
      ...(await openIdleConnections(backend.port, 3, a?.privateIp)),
      ...(await openIdleConnections(backend.port, 1, b?.privateIp)),
    );
    sockets.push(...(await openIdleConnections(backend.port, 1, '127.0.0.9'))); // not a node of this load balancer
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    ec2?.destroy();
    await Promise.all([lab.stop(), backend?.stop(), web?.stop()]);
  });

  it('observes nodes and backends in one cycle, and says which node holds which pre-opened connections', async () => {
    const config = parseConfig(
      {
        loadBalancers: [
          {
            dnsName: lab.dnsName,
            backends: [
              {
                name: 'i-apache',
                statusUrl: `http://127.0.0.1:${backend.port}/server-status?auto`,
                acceptFilterNone: true,
              },
              { name: 'i-nginx', statusUrl: `http://127.0.0.1:${web.port}/nginx_status` },
            ],
          },
        ],
        dns: { servers: [dnsServer], queries: 2, allowLoopbackNodes: true },
      },
      'test',
    );
    const deps = { dns: createDnsLookup(config.dns), enisFor: () => createEniLookup(ec2), now: () => new Date() };

    let [snapshot] = await snapshotConfigured(config, deps);
    for (let i = 0; i < 50 && snapshot?.backends[0]?.report.reading !== 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      [snapshot] = await snapshotConfigured(config, deps);
    }

    expect(snapshot?.observation.azs).toEqual({
      'us-east-1a': { provisioned: 1, advertised: 1 },
      'us-east-1b': { provisioned: 1, advertised: 1 },
    });
    const [apacheSnap, nginxSnap] = snapshot?.backends ?? [];
    expect(apacheSnap?.report).toMatchObject({ server: 'apache', reading: 5, error: null });
    const [a, b] = lab.nodes;
    expect(apacheSnap?.readingByNode).toEqual({
      byNode: [
        { eniId: a?.eniId, az: 'us-east-1a', clientIp: a?.privateIp, reading: 3 },
        { eniId: b?.eniId, az: 'us-east-1b', clientIp: b?.privateIp, reading: 1 },
      ],
      fromOthers: 1,
    });
    expect(nginxSnap).toMatchObject({ name: 'i-nginx', report: { server: 'nginx', error: null }, readingByNode: null });
  });
});
