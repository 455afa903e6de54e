import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { wallClock, type Clock, type ClockTimer } from '../shared/clock';

/** Where a listener sends traffic. */
export interface BackendTarget {
  name: string;
  host: string;
  port: number;
  tls: boolean;
}

export interface ListenerSpec {
  name: string;
  port: number;
  backends: BackendTarget[];
}

/**
 * Pre-open connections per (listener, backend) after `n` requests in the recent
 * window: the field notes' measurements (0 → 1, 1 → 7, 2 → 7, 5 → 11, 8 → 14,
 * 10 → 16, 15 → 17), interpolated, so the lab behaves as a Classic ELB was seen to.
 */
const PREOPEN_CURVE: [number, number][] = [
  [0, 1],
  [1, 7],
  [2, 7],
  [5, 11],
  [8, 14],
  [10, 16],
  [15, 17],
];

function preopenTarget(requests: number): number {
  if (requests <= 0) return 1;
  for (let i = 1; i < PREOPEN_CURVE.length; i++) {
    const [x1, y1] = PREOPEN_CURVE[i] as [number, number];
    const [x0, y0] = PREOPEN_CURVE[i - 1] as [number, number];
    if (requests <= x1) return Math.round(y0 + ((y1 - y0) * (requests - x0)) / (x1 - x0));
  }
  return 17;
}

/**
 * One load balancer node: an HTTP proxy on its own loopback address that keeps
 * idle connections open to every backend of every listener (from its private
 * IP, as a real node's come from its ENI), sends requests over them, and opens
 * more when traffic arrives. Pre-open can be switched off, as AWS support can.
 */
export class LabProxyNode {
  private servers: Server[] = [];
  private readonly pools = new Map<string, Socket[]>();
  private readonly opening = new Map<string, number>();
  private readonly recent = new Map<string, number[]>();
  private timer: ClockTimer | null = null;
  private stopped = false;
  private rr = 0;
  private connecting = 0;
  preopen = true;
  /** Called for every request the node forwards (the lab's autoscaler counts them). */
  onRequest: () => void = () => undefined;

  constructor(
    readonly publicIp: string,
    readonly privateIp: string,
    readonly listeners: ListenerSpec[],
    /** How long a request counts towards the extra pre-opened connections. */
    readonly windowMs: number,
    private readonly clock: Clock = wallClock,
  ) {}

  /**
   * Connections whose connect is under way (not those waiting for their timer): the lab is not settled while any are.
   */
  connectingCount(): number {
    return this.connecting;
  }

  pooledFor(backend: string): number {
    let n = 0;
    for (const listener of this.listeners)
      for (const b of listener.backends)
        if (b.name === backend) n += this.pools.get(this.key(listener, b))?.length ?? 0;
    return n;
  }

  async start(): Promise<void> {
    for (const listener of this.listeners) {
      const server = createServer((req, res) => this.forward(listener, req, res));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(listener.port, this.publicIp, () => resolve());
      });
      this.servers.push(server);
    }
    this.maintain();
    this.timer = this.clock.setInterval(() => this.maintain(), 100);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    for (const pool of this.pools.values()) for (const s of pool) s.destroy();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise((r) => {
            s.closeAllConnections();
            s.close(r);
          }),
      ),
    );
  }

  private key(listener: ListenerSpec, backend: BackendTarget): string {
    return `${listener.name}|${backend.name}`;
  }

  private requestsInWindow(key: string): number {
    const cutoff = this.clock.now() - this.windowMs;
    const list = (this.recent.get(key) ?? []).filter((t) => t >= cutoff);
    this.recent.set(key, list);
    return list.length;
  }

  /** Keep each pool at its target: refill connections the backend closed, add more after traffic. */
  private maintain(): void {
    if (this.stopped) return;
    for (const listener of this.listeners) {
      for (const backend of listener.backends) {
        const key = this.key(listener, backend);
        const target = this.preopen ? preopenTarget(this.requestsInWindow(key)) : 0;
        const pool = this.pools.get(key) ?? [];
        this.pools.set(key, pool);
        // Beyond the target, idle connections are left for the backend's idle timeout to close, as an ELB does.
        for (let missing = target - pool.length - (this.opening.get(key) ?? 0); missing > 0; missing--)
          this.openLater(key, backend);
      }
    }
  }

  /**
   * Open a pooled connection after a short random delay, so that connections the
   * backend closes together are not all reopened together (their expiries spread out).
   */
  private openLater(key: string, backend: BackendTarget): void {
    this.opening.set(key, (this.opening.get(key) ?? 0) + 1);
    this.clock.setTimeout(
      () => {
        this.opening.set(key, Math.max(0, (this.opening.get(key) ?? 1) - 1));
        if (!this.stopped) this.open(key, backend, true).catch(() => undefined);
      },
      Math.random() * Math.min(500, this.windowMs / 20),
    );
  }

  private open(key: string, backend: BackendTarget, pooled: boolean): Promise<Socket> {
    this.opening.set(key, (this.opening.get(key) ?? 0) + (pooled ? 1 : 0));
    return new Promise((resolve, reject) => {
      const options = { host: backend.host, port: backend.port, localAddress: this.privateIp };
      // The backend leg is TLS when the backend is; a self-signed certificate is accepted, as an ELB accepts it.
      const socket: Socket = backend.tls ? tlsConnect({ ...options, rejectUnauthorized: false }) : netConnect(options);
      const ready = backend.tls ? 'secureConnect' : 'connect';
      this.connecting++;
      let counted = true;
      const connected = () => {
        if (counted) this.connecting--;
        counted = false;
      };
      socket.once(ready, () => {
        connected();
        if (pooled) {
          this.opening.set(key, (this.opening.get(key) ?? 1) - 1);
          const pool = this.pools.get(key) ?? [];
          pool.push(socket);
          this.pools.set(key, pool);
          socket.once('close', () => {
            const i = pool.indexOf(socket);
            if (i >= 0) pool.splice(i, 1);
          });
        }
        resolve(socket);
      });
      socket.once('error', (err) => {
        connected();
        if (pooled) this.opening.set(key, Math.max(0, (this.opening.get(key) ?? 1) - 1));
        socket.destroy();
        reject(err);
      });
    });
  }

  private async forward(listener: ListenerSpec, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const backend = listener.backends[this.rr++ % listener.backends.length];
    if (!backend) {
      res.writeHead(503).end('no backends\n');
      return;
    }
    const key = this.key(listener, backend);
    this.onRequest();
    this.recent.set(key, [...(this.recent.get(key) ?? []), this.clock.now()]);
    const pool = this.pools.get(key) ?? [];
    // Later requests go over an already-open connection: the point of pre-opening.
    let socket = pool.shift();
    try {
      socket ??= await this.open(key, backend, false);
    } catch {
      res.writeHead(503).end('backend unavailable\n');
      return;
    }
    socket.removeAllListeners('close');
    const upstream = request(
      {
        host: backend.host,
        port: backend.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, connection: 'close', 'x-forwarded-for': req.socket.remoteAddress ?? '' },
        createConnection: () => socket as Socket,
      },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end('bad gateway\n');
    });
    req.pipe(upstream);
    this.maintain();
  }
}
