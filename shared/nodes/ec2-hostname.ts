import { isIP } from 'node:net';

/** What an EC2 public DNS name encodes. */
export interface Ec2HostName {
  /** The IPv4 address embedded in the name (`ec2-50-19-115-50` → `50.19.115.50`). */
  ip: string;
  region: string;
  /** `public` for `ec2-…` names, `private` for `ip-…` names (internal load balancers). */
  kind: 'public' | 'private';
}

// us-east-1 kept its historic `compute-1` domain; every other region is
// `<region>.compute.amazonaws.com` (China: `.com.cn`).
const US_EAST_1 = /^ec2-(\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3})\.compute-1\.amazonaws\.com$/;
const REGIONAL = /^ec2-(\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3})\.([a-z]{2}(?:-[a-z]+)+-\d)\.compute\.amazonaws\.com(?:\.cn)?$/;
// Private names follow the same split: `ec2.internal` in us-east-1, `<region>.compute.internal` elsewhere.
const PRIVATE_US_EAST_1 = /^ip-(\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3})\.ec2\.internal$/;
const PRIVATE_REGIONAL = /^ip-(\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3})\.([a-z]{2}(?:-[a-z]+)+-\d)\.compute\.internal$/;

/**
 * Parse an EC2 public host name as returned by a PTR lookup of a node IP.
 * Returns null for anything that is not EC2's form (or embeds an invalid IP).
 *
 * @example parseEc2HostName('ec2-50-19-115-50.compute-1.amazonaws.com.')
 *   // → { ip: '50.19.115.50', region: 'us-east-1' }
 */
export function parseEc2HostName(hostname: string): Ec2HostName | null {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  const forms = [
    { re: US_EAST_1, kind: 'public', region: 'us-east-1' },
    { re: REGIONAL, kind: 'public', region: null },
    { re: PRIVATE_US_EAST_1, kind: 'private', region: 'us-east-1' },
    { re: PRIVATE_REGIONAL, kind: 'private', region: null },
  ] as const;
  for (const form of forms) {
    const m = form.re.exec(host);
    if (!m) continue;
    const ip = (m[1] as string).replaceAll('-', '.');
    // Octets with leading zeros are not how EC2 writes them: treat as foreign.
    if (isIP(ip) !== 4 || ip.split('.').some((o) => o.length > 1 && o.startsWith('0'))) return null;
    return { ip, region: form.region ?? (m[2] as string), kind: form.kind };
  }
  return null;
}
