import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Socket, type AddressInfo } from 'node:net';
import { freeLoopbackPort } from '../../lab/ports';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real Apache 2.4 and nginx for tests, each from a self-contained config in its
 * own temp dir (no /etc/apache2 sites, no systemd), on a free loopback port.
 * A missing binary is a test failure in CI (CI=true), never a silent skip.
 */

export function findBinary(names: string[]): string | null {
  for (const name of names) {
    for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
      if (existsSync(join(dir, name))) return join(dir, name);
    }
  }
  return null;
}

/** Whether a test needing `binary` may be skipped: only outside CI. */
export function requireBinary(names: string[]): string | null {
  const found = findBinary(names);
  if (!found && process.env.CI) throw new Error(`${names[0]} is not installed; CI must install it (.ci/run)`);
  return found;
}

/** A TCP port free on 127.0.0.1 right now. */
export const freePort = freeLoopbackPort;

export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export interface RunningServer {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

export interface ApacheOptions {
  mpm: 'prefork' | 'event' | 'worker';
  /** `none` shows idle connections at once; `data` is Linux's default TCP_DEFER_ACCEPT. */
  acceptFilter?: 'none' | 'data';
  extendedStatus?: boolean;
  tls?: { cert: string; key: string };
  /** Extra lines appended to the config. */
  extra?: string[];
}

const MODULES = '/usr/lib/apache2/modules';

/** Start Apache with `apache2 -f FILE -k start` from a config of our own. */
export async function startApache(binary: string, options: ApacheOptions): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), `elbscope-apache-${options.mpm}-`));
  chmodSync(dir, 0o755); // workers run as www-data when started as root
  mkdirSync(join(dir, 'htdocs'));
  writeFileSync(join(dir, 'htdocs', 'index.html'), 'ok\n');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const mpm = {
    prefork: ['StartServers 2', 'MinSpareServers 2', 'MaxSpareServers 4', 'ServerLimit 16', 'MaxRequestWorkers 16'],
    worker: [
      'StartServers 1',
      'ServerLimit 2',
      'ThreadsPerChild 8',
      'MaxRequestWorkers 16',
      'MinSpareThreads 4',
      'MaxSpareThreads 16',
    ],
    event: [
      'StartServers 1',
      'ServerLimit 2',
      'ThreadsPerChild 8',
      'MaxRequestWorkers 16',
      'MinSpareThreads 4',
      'MaxSpareThreads 16',
    ],
  }[options.mpm];
  const lines = [
    `ServerRoot ${'/usr/lib/apache2'}`,
    `DefaultRuntimeDir ${dir}`,
    `PidFile ${dir}/httpd.pid`,
    `ErrorLog ${dir}/error.log`,
    'LogLevel warn',
    `LoadModule mpm_${options.mpm}_module ${MODULES}/mod_mpm_${options.mpm}.so`,
    `LoadModule authz_core_module ${MODULES}/mod_authz_core.so`,
    `LoadModule status_module ${MODULES}/mod_status.so`,
    ...(asRoot ? ['User www-data', 'Group www-data'] : []),
    'ServerName 127.0.0.1',
    `Listen 127.0.0.1:${port}`,
    `AcceptFilter http ${options.acceptFilter ?? 'none'}`,
    `AcceptFilter https ${options.acceptFilter ?? 'none'}`,
    `DocumentRoot ${dir}/htdocs`,
    'KeepAlive On',
    'KeepAliveTimeout 30',
    'Timeout 120',
    `ExtendedStatus ${options.extendedStatus === false ? 'Off' : 'On'}`,
    ...mpm,
    '<Location /server-status>',
    '  SetHandler server-status',
    '  Require all granted',
    '</Location>',
    ...(options.tls
      ? [
          `LoadModule socache_shmcb_module ${MODULES}/mod_socache_shmcb.so`,
          `LoadModule ssl_module ${MODULES}/mod_ssl.so`,
          `SSLSessionCache shmcb:${dir}/ssl_scache(512000)`,
          'SSLEngine on',
          `SSLCertificateFile ${options.tls.cert}`,
          `SSLCertificateKeyFile ${options.tls.key}`,
        ]
      : []),
    ...(options.extra ?? []),
  ];
  const conf = join(dir, 'httpd.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  try {
    execFileSync(binary, ['-f', conf, '-k', 'start'], { stdio: 'pipe', env: { ...process.env, APACHE_RUN_DIR: dir } });
  } catch (err) {
    const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
    throw new Error(`apache2 did not start: ${(err as { stderr?: Buffer }).stderr?.toString() ?? err}\n${log}`);
  }
  await waitForPort(port);
  return {
    port,
    dir,
    stop: async () => {
      try {
        execFileSync(binary, ['-f', conf, '-k', 'stop'], { stdio: 'pipe' });
      } catch {
        // already gone
      }
      await waitForExit(join(dir, 'httpd.pid'));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForExit(pidFile: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** Start nginx (foreground, our own config) with stub_status on /nginx_status. */
export async function startNginx(binary: string): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-nginx-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 64; }',
      'http {',
      `  access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;`,
      `  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
      '  client_header_timeout 60s; keepalive_timeout 60s;',
      `  server { listen 127.0.0.1:${port}; location /nginx_status { stub_status; } location / { return 200 "ok\\n"; } }`,
      '}',
    ].join('\n'),
  );
  const child = spawn(binary, ['-c', conf, '-p', dir, '-e', `${dir}/error.log`], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    port,
    dir,
    stop: async () => {
      child.kill('SIGQUIT');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Open `n` TCP connections that send nothing, as an ELB's pre-opened ones do. */
export async function openIdleConnections(port: number, n: number, localAddress = '127.0.0.1'): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = new Socket();
          s.once('error', reject);
          s.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
        }),
    ),
  );
}

/**
 * An HTTP server on loopback that accepts every request, reads it, and never
 * answers: a stuck AWS endpoint, for deadline tests. `close` drops the held connections.
 */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(() => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
