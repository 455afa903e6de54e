import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { wallClock, type Clock, type ClockTimer } from '../shared/clock';

/** One connection as the backend sees it: the ground truth its status page shows. */
interface Connection {
  slot: number;
  socket: Socket;
  client: string;
  openedAt: number;
  /** `R` until a request arrives, `W` while answering, `K` waiting for the next request. */
  mode: 'R' | 'W' | 'K';
  lastRequestAt: number | null;
  lastRequest: string;
  accesses: number;
  port: 'traffic' | 'status';
}

/** A request the backend answered, for experiments: how old its connection was. */
export interface ServedRequest {
  path: string;
  client: string;
  connectionAgeMs: number;
  tls: string | null;
  at: number;
}

export interface LabBackendOptions {
  name: string;
  /** Worker slots, as Apache's MaxRequestWorkers: the scoreboard length. */
  slots: number;
  /** Close a connection that sent no request after this long (as mod_reqtimeout does). */
  idleTimeoutMs: number;
  /** Serve traffic over TLS with this certificate (the status port stays plain HTTP). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Whose time the idle timeout and the page's ages run on (default: the wall clock). */
  clock?: Clock;
}

/**
 * A backend that serves traffic and an Apache-format status page (`?auto` and the
 * ExtendedStatus HTML) computed from its real sockets: a connection that has sent
 * no request is `R`, one being answered `W`, an idle keep-alive one `K`. The
 * status page is on its own plain-HTTP port, as `server-status` usually is.
 */
export class LabBackend {
  readonly served: ServedRequest[] = [];
  private readonly connections = new Set<Connection>();
  /** Slots whose connection closed after serving requests: Apache keeps showing their last request. */
  private readonly finished: Connection[] = [];
  private nextSlot = 0;
  private trafficServer: Server | null = null;
  private statusServer: Server | null = null;
  private sweep: ClockTimer | null = null;
  private readonly clock: Clock;
  private readonly started: number;
  trafficPort = 0;
  statusPort = 0;
  private accepting = true;

  constructor(readonly options: LabBackendOptions) {
    this.clock = options.clock ?? wallClock;
    this.started = this.clock.now();
  }

  async start(host = '127.0.0.1'): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.trafficServer = this.options.tls
      ? createHttpsServer({ cert: this.options.tls.cert, key: this.options.tls.key }, handler)
      : createHttpServer(handler);
    this.statusServer = createHttpServer(handler);
    for (const [server, port] of [
      [this.trafficServer, 'traffic'],
      [this.statusServer, 'status'],
    ] as const) {
      server.keepAliveTimeout = this.options.idleTimeoutMs;
      server.headersTimeout = 0; // idleness is ours to enforce, as mod_reqtimeout does
      server.requestTimeout = 0;
      const tlsTraffic = Boolean(this.options.tls) && port === 'traffic';
      // A refusing TLS port drops connections before the handshake; tracking starts once there is one.
      server.on('connection', (socket: Socket) => {
        if (port === 'traffic' && !this.accepting) socket.destroy();
        else if (!tlsTraffic) this.track(socket, port);
      });
      if (tlsTraffic) server.on('secureConnection', (socket: Socket) => this.track(socket, port));
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
    }
    this.trafficPort = (this.trafficServer.address() as AddressInfo).port;
    this.statusPort = (this.statusServer.address() as AddressInfo).port;
    this.sweep = this.clock.setInterval(
      () => this.closeIdle(),
      Math.max(50, Math.min(1000, this.options.idleTimeoutMs / 4)),
    );
  }

  async stop(): Promise<void> {
    this.sweep?.cancel();
    for (const c of this.connections) c.socket.destroy();
    await Promise.all([this.trafficServer, this.statusServer].map((s) => s && new Promise((r) => s.close(r))));
  }

  /** Swap the TLS certificate (new handshakes get it), as a certificate renewal does. */
  setCertificate(cert: string | Buffer, key: string | Buffer): void {
    (this.trafficServer as unknown as { setSecureContext(o: object): void }).setSecureContext({ cert, key });
  }

  /** Stop or resume accepting traffic connections (a dead backend port, for tls-failed). */
  setAccepting(accepting: boolean): void {
    this.accepting = accepting;
  }

  /** R connections per client IP right now (ground truth for tests). */
  readingByClient(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.connections)
      if (c.mode === 'R' && c.port === 'traffic') out[c.client] = (out[c.client] ?? 0) + 1;
    return out;
  }

  /** Traffic-port connections per client IP, whatever their state (for the lab's settling). */
  trafficConnections(): number {
    let n = 0;
    for (const c of this.connections) if (c.port === 'traffic') n++;
    return n;
  }

  reading(): number {
    return Object.values(this.readingByClient()).reduce((a, b) => a + b, 0);
  }

  private track(socket: Socket, port: Connection['port']): void {
    const c: Connection = {
      slot: this.nextSlot++ % 1_000_000,
      socket,
      client: (socket.remoteAddress ?? '?').replace(/^::ffff:/, ''),
      openedAt: this.clock.now(),
      mode: 'R',
      lastRequestAt: null,
      lastRequest: '',
      accesses: 0,
      port,
    };
    this.connections.add(c);
    (socket as Socket & { labConnection?: Connection }).labConnection = c;
    socket.once('close', () => {
      this.connections.delete(c);
      if (c.accesses > 0) {
        this.finished.push(c);
        if (this.finished.length > this.options.slots) this.finished.shift();
      }
    });
  }

  private closeIdle(): void {
    const now = this.clock.now();
    for (const c of this.connections) {
      const idleSince = c.mode === 'R' ? c.openedAt : c.mode === 'K' ? (c.lastRequestAt ?? c.openedAt) : now;
      if (c.mode !== 'W' && now - idleSince >= this.options.idleTimeoutMs) c.socket.destroy();
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as Socket & { labConnection?: Connection };
    const c = socket.labConnection;
    const now = this.clock.now();
    if (c) {
      this.served.push({
        path: req.url ?? '/',
        client: c.client,
        connectionAgeMs: now - c.openedAt,
        tls: (socket as TLSSocket).getProtocol?.() ?? null,
        at: now,
      });
      if (this.served.length > 1000) this.served.shift();
      c.mode = 'W';
      c.lastRequestAt = now;
      c.lastRequest = `${req.method} ${req.url} HTTP/${req.httpVersion}`;
      c.accesses++;
      res.once('finish', () => {
        c.mode = 'K';
      });
    }
    const url = new URL(req.url ?? '/', 'http://lab');
    if (url.pathname === '/server-status') {
      res.setHeader(
        'content-type',
        url.searchParams.has('auto') ? 'text/plain; charset=ISO-8859-1' : 'text/html; charset=ISO-8859-1',
      );
      res.end(url.searchParams.has('auto') ? this.autoPage() : this.htmlPage());
      return;
    }
    const tlsSocket = socket as TLSSocket;
    if (tlsSocket.encrypted)
      res.setHeader('x-backend-tls', `${tlsSocket.getProtocol()} ${tlsSocket.getCipher()?.name ?? ''}`.trim());
    res.setHeader('content-type', 'text/plain');
    res.end(`${this.options.name} ${req.url}\n`);
  }

  private scoreboard(): string {
    const modes = [...this.connections].map((c) => c.mode).slice(0, this.options.slots);
    return (modes.join('') + '_'.repeat(this.options.slots)).slice(0, this.options.slots);
  }

  private autoPage(): string {
    const board = this.scoreboard();
    const busy = [...board].filter((ch) => ch !== '_' && ch !== '.').length;
    return [
      '127.0.0.1',
      'ServerVersion: Apache/2.4.71 (elbscope lab)',
      'ServerMPM: prefork',
      `ServerUptimeSeconds: ${Math.round((this.clock.now() - this.started) / 1000)}`,
      `Total Accesses: ${this.served.length}`,
      `BusyWorkers: ${busy}`,
      `IdleWorkers: ${this.options.slots - busy}`,
      `Scoreboard: ${board}`,
      '',
    ].join('\n');
  }

  private htmlPage(): string {
    const now = this.clock.now();
    const open = [...this.connections].slice(0, this.options.slots);
    const room = Math.max(0, this.options.slots - open.length);
    const done = room === 0 ? [] : this.finished.slice(-room);
    const rows = [...open.map((c) => [c, c.mode] as const), ...done.map((c) => [c, '_'] as const)].map(([c, mode]) => {
      const ss = Math.floor((now - (mode === 'R' ? c.openedAt : (c.lastRequestAt ?? c.openedAt))) / 1000);
      return `<tr><td><b>${c.slot}-0</b></td><td>${process.pid}</td><td>${c.accesses}/${c.accesses}/${c.accesses}</td><td><b>${mode}</b>\n</td><td>0.00</td><td>${ss}</td><td>0</td><td>0</td><td>0.0</td><td>0.00</td><td>0.00\n</td><td>${c.client}</td><td>http/1.1</td><td nowrap>lab</td><td nowrap>${c.lastRequest.replace(/</g, '&lt;')}</td></tr>`;
    });
    return `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN">
<html><head><title>Apache Status</title></head><body>
<h1>Apache Server Status for 127.0.0.1 (via 127.0.0.1)</h1>
<dl><dt>Server Version: Apache/2.4.71 (elbscope lab)</dt>
<dt>Server MPM: prefork</dt></dl>
<pre>${this.scoreboard()}</pre>
<table border="0"><tr><th>Srv</th><th>PID</th><th>Acc</th><th>M</th><th>CPU
</th><th>SS</th><th>Req</th><th>Dur</th><th>Conn</th><th>Child</th><th>Slot</th><th>Client</th><th>Protocol</th><th>VHost</th><th>Request</th></tr>
${rows.join('\n')}
</table>
</body></html>
`;
  }
}
