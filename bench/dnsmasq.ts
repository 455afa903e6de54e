import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsZone } from '../lab/dns/server';
import { freeLoopbackPort } from '../lab/ports';

/**
 * Serve a lab zone with dnsmasq (Debian's dnsmasq-base, C) instead of the
 * in-process dns2 server, so a benchmark measures elbscope and not the lab's DNS:
 * every A record of a name from a hosts file (whose first name per address gives
 * the PTR). Null when dnsmasq is not installed.
 */
export async function serveWithDnsmasq(zone: DnsZone): Promise<{ address: string; stop: () => void } | null> {
  if (!existsSync('/usr/sbin/dnsmasq')) return null;
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-dnsmasq-'));
  const lines: string[] = [];
  for (const [name, rec] of zone.hosts) {
    if (name.startsWith('all.')) continue;
    for (const ip of rec.a ?? [])
      lines.push(`${ip} ${zone.ptr.get(ip) ?? `ip-${ip.replaceAll('.', '-')}.lab`} ${name} all.${name}`);
  }
  writeFileSync(join(dir, 'hosts'), `${lines.join('\n')}\n`);
  // Authoritative for the zone's domains: a CNAME query of a hosts-file name is then NODATA ("no CNAME"),
  // as Route 53 answers it, not REFUSED (elbscope asks CNAME of each name it takes addresses from).
  const domains = new Set([...zone.hosts.keys()].map((name) => name.split('.').slice(-2).join('.')));
  const port = await freeLoopbackPort();
  const child = spawn(
    '/usr/sbin/dnsmasq',
    [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      `--addn-hosts=${join(dir, 'hosts')}`,
      `--pid-file=${join(dir, 'pid')}`,
      '--user=root',
      '--cache-size=10000',
      '--dns-forward-max=1000',
      '--local-ttl=60',
      ...[...domains].map((d) => `--local=/${d}/`),
    ],
    { stdio: 'ignore' },
  );
  process.on('exit', () => child.kill());
  await new Promise((r) => setTimeout(r, 300)); // it answers once it has read the hosts file
  return { address: `127.0.0.1:${port}`, stop: () => child.kill() };
}
