import { describe, expect, it } from 'vitest';
import { toCycleSample } from '../../../shared/cycle/sample';
import type { LoadBalancerSnapshot } from '../../../shared/cycle/snapshot';
import { nodeSnapshot } from '../../helpers/snapshots';

/** `advertised` nodes in us-east-1a (in DNS), and us-east-1b's one ENI that DNS did not show. */
function snapshot(advertised: number, allError: boolean): LoadBalancerSnapshot {
  const s = nodeSnapshot(
    'web-1.us-east-1.elb.amazonaws.com',
    Array.from({ length: advertised }, (_, i) => `52.94.0.${i + 1}`),
  );
  s.observation.nodes.push({
    ip: '52.94.1.1',
    family: 4,
    hostname: null,
    region: 'us-east-1',
    az: 'us-east-1b',
    eniId: 'eni-b',
    privateIp: null,
    sources: ['eni'],
    state: 'not-in-dns',
    findings: [],
  });
  s.observation.azs['us-east-1b'] = { provisioned: 1, advertised: 0 };
  if (allError)
    s.observation.errors.push({
      source: 'all',
      message: 'all.web-1.us-east-1.elb.amazonaws.com is a CNAME to other.example.com: not taken as nodes',
    });
  return s;
}

describe('Function: toCycleSample, an AZ out of DNS', () => {
  it('is known when DNS was seen whole (all. read, or the name answered fewer than 8 records), unknown (null) otherwise', () => {
    expect(toCycleSample(snapshot(8, false), '2026-12-03T12:00:00Z').dnsAbsentAzs).toEqual(['us-east-1b']);
    expect(toCycleSample(snapshot(3, true), '2026-12-03T12:00:00Z').dnsAbsentAzs).toEqual(['us-east-1b']);
    // A full answer of the name's own and no all.: us-east-1b may only have been rotated out.
    expect(toCycleSample(snapshot(8, true), '2026-12-03T12:00:00Z').dnsAbsentAzs).toBeNull();
  });
});
