import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate the tests made with openssl, and what openssl says of it. */
export interface TestCert {
  cert: string;
  key: string;
  /** `openssl x509 -fingerprint -sha256`: `AB:CD:…`. */
  fingerprint256: string;
}

function fingerprintOf(cert: string): string {
  const out = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
  return out.trim().replace(/^.*=/, '');
}

/** A self-signed certificate for `cn`, valid now, with SANs for cn and 127.0.0.1. */
export function selfSignedCert(cn: string, days = 365): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-cert-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(days),
      '-subj',
      `/CN=${cn}/O=elbscope tests`,
      '-addext',
      `subjectAltName=DNS:${cn},IP:127.0.0.1`,
    ],
    { stdio: 'pipe' },
  );
  return { cert, key, fingerprint256: fingerprintOf(cert) };
}

/** A self-signed certificate whose validity ended in 2020 (openssl ca sets explicit dates). */
export function expiredCert(cn: string): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-expired-'));
  const key = join(dir, 'key.pem');
  const csr = join(dir, 'req.csr');
  const cert = join(dir, 'cert.pem');
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ ca ]',
      'default_ca = ca_default',
      '[ ca_default ]',
      `dir = ${dir}`,
      `database = ${dir}/index.txt`,
      `new_certs_dir = ${dir}`,
      `serial = ${dir}/serial`,
      'default_md = sha256',
      'policy = any',
      'copy_extensions = copy',
      'unique_subject = no',
      '[ any ]',
      'commonName = supplied',
    ].join('\n'),
  );
  execFileSync(
    'openssl',
    ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`],
    { stdio: 'pipe' },
  );
  execFileSync(
    'openssl',
    [
      'ca',
      '-batch',
      '-config',
      join(dir, 'ca.cnf'),
      '-selfsign',
      '-keyfile',
      key,
      '-in',
      csr,
      '-out',
      cert,
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200201000000Z',
      '-notext',
    ],
    { stdio: 'pipe' },
  );
  return { cert, key, fingerprint256: fingerprintOf(cert) };
}
