import type { Config } from '../shared/config/schema';
import { parseConfig } from '../shared/config/load';
import { LabBackend } from './backend';
import { labCertificate } from './certs';
import { connect, type Socket } from 'node:net';
import { LabElb, type LabElbKind, type LabNode } from './elb';
import { LabProxyNode, type ListenerSpec } from './proxy-node';
import { freeLoopbackPort } from './ports';
import { wallClock, type Clock, type ClockTimer } from '../shared/clock';
import { LabCapacity } from './capacity';
import { cloudWatchState, startCloudWatch, type RunningCloudWatch } from './cloudwatch/server';
import { emptyElbApi, startElbApi, type RunningElbApi } from './elb-api/server';

/** Where the lab's parts listen: what a monitor needs to reach them. */
export interface LabEndpoints {
  dnsServer: string;
  ec2Url: string;
  /** CloudWatch GetMetricData (`AWS_ENDPOINT_URL_CLOUDWATCH`), from the lab's own numbers. */
  cloudwatchUrl: string;
  /**
   * Both ELB APIs (`AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING(_V2)`): DescribeLoadBalancers, DescribeCapacityReservation.
   */
  elbUrl: string;
}

interface LabBackendSpec {
  name: string;
  slots: number;
  /** Serve traffic over TLS with a self-signed certificate valid this many days. */
  tlsDays?: number;
}

export interface LabOptions {
  name: string;
  /** Classic (default: its nodes pre-open connections), application or network (they do not). */
  kind?: LabElbKind;
  region: string;
  nodesPerAz: Record<string, number>;
  backends: LabBackendSpec[];
  /** Backends close connections that sent nothing after this long (mod_reqtimeout's role). */
  idleTimeoutMs: number;
  /** How long requests count towards a node's extra pre-opened connections. */
  trafficWindowMs: number;
  /** Requests a second one node forwards before the surge queue fills (the lab's capacity model). */
  nodeRps?: number;
  /** Scale with traffic, as AWS does (times already divided by the scenario's speed). */
  autoscale?: LabAutoscale;
  /** Whose time the lab runs on (default: the wall clock; tests use a SteppedClock). */
  clock?: Clock;
}

/**
 * The lab's stand-in for AWS scaling an ELB: after `sustainMs` of at least `upRps`
 * requests a second, a node is added to the AZ with the fewest (its ENI first, DNS
 * a check later), up to `maxPerAz`; after `idleMs` without requests, an added node
 * is taken out of DNS, then removed. At most one change per `sustainMs`.
 */
export interface LabAutoscale {
  upRps: number;
  sustainMs: number;
  idleMs: number;
  maxPerAz: number;
  checkMs: number;
}

/**
 * The whole lab: a simulated load balancer (DNS, EC2 ENIs) whose nodes are real
 * HTTP proxies on loopback addresses, pre-opening connections to real backends
 * whose status pages show those connections (a Classic ELB; an ALB or NLB lab
 * pre-opens none). Listener `http` goes to the plain backends, listener `https` to
 * the TLS ones (backend leg encrypted, self-signed certificate accepted).
 */
export class Lab {
  readonly elb: LabElb;
  readonly backends: LabBackend[] = [];
  readonly proxies = new Map<string, LabProxyNode>();
  listeners: ListenerSpec[] = [];
  private preopen: boolean;
  /** Client connections passed through to a backend that send nothing (slow clients), per backend. */
  private readonly slowClients = new Map<string, Set<Socket>>();
  private requestTimes: number[] = [];
  private lastScale = 0;
  private scaler: ClockTimer | null = null;
  private readonly timers = new Set<ClockTimer>();
  readonly clock: Clock;
  /** Surge queue, spillover, LCUs and the LCU reservation: what the lab's CloudWatch and ELB API serve. */
  readonly capacity: LabCapacity;
  private cloudwatch: RunningCloudWatch | null = null;
  /** The lab's ELB API: its load balancer (and reservation), and every request it was asked. */
  readonly elbApiState = emptyElbApi();
  /**
   * What the lab's CloudWatch has served (every datapoint, by `namespace/metric/dimension`): ground truth for tests.
   */
  readonly cloudwatchState = cloudWatchState(
    (q) => this.capacity.source(q),
    () => this.clock.now(),
  );
  private elbApi: RunningElbApi | null = null;
  /** Work started and not finished (proxies starting, traffic requests): the lab is not settled while any runs. */
  private busy = 0;
  /** Times `settled()` gave up waiting (should stay 0; said in the session's log when not). */
  unsettled = 0;

  constructor(readonly options: LabOptions) {
    this.clock = options.clock ?? wallClock;
    this.elb = new LabElb({
      name: options.name,
      kind: options.kind ?? 'classic',
      region: options.region,
      nodesPerAz: options.nodesPerAz,
    });
    // Pre-opening is a Classic ELB's behaviour (the field notes); ALBs and NLBs do not.
    this.preopen = this.elb.kind === 'classic';
    this.capacity = new LabCapacity(this.elb, this.clock, options.nodeRps);
  }

  /** Count `work` as the lab being busy until it ends. */
  track<T>(work: Promise<T>): Promise<T> {
    this.busy++;
    return work.finally(() => this.busy--);
  }

  /**
   * Resolves when the lab is quiet: nothing it started is still running, no proxy
   * is opening a connection, and every backend holds exactly the connections the
   * proxies pool (a close seen on one side and not yet on the other is not quiet).
   * Bounded: after ~10 s of real time it gives up and counts it in `unsettled`.
   */
  async settled(): Promise<void> {
    const started = performance.now();
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.quiet()) return;
      if (performance.now() - started > 10_000) {
        this.unsettled++;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  private quiet(): boolean {
    if (this.busy > 0) return false;
    const proxies = [...this.proxies.values()];
    if (proxies.some((p) => p.connectingCount() > 0)) return false;
    return this.backends.every(
      (b) =>
        b.trafficConnections() ===
        proxies.reduce((n, p) => n + p.pooledFor(b.options.name), 0) +
          (this.slowClients.get(b.options.name)?.size ?? 0),
    );
  }

  /** Start DNS, EC2, CloudWatch, the ELB API, backends and a proxy per node; returns what a monitor needs. */
  async start(): Promise<LabEndpoints> {
    const { dnsServer, ec2Url } = await this.elb.start();
    this.cloudwatch = await startCloudWatch(this.cloudwatchState);
    const api = this.elbApiState;
    if (this.elb.kind === 'classic') api.classic.push({ name: this.options.name, dnsName: this.elb.dnsName });
    else
      api.v2.push({
        arn: this.elb.arn as string,
        name: this.options.name,
        dnsName: this.elb.dnsName,
        type: this.elb.kind,
        reservation: () => this.capacity.reservation,
      });
    this.elbApi = await startElbApi(api);
    const endpoints: LabEndpoints = { dnsServer, ec2Url, cloudwatchUrl: this.cloudwatch.url, elbUrl: this.elbApi.url };
    for (const spec of this.options.backends) {
      const tls = spec.tlsDays ? await labCertificate(`${spec.name}.lab.internal`, spec.tlsDays) : undefined;
      const backend = new LabBackend({
        name: spec.name,
        slots: spec.slots,
        idleTimeoutMs: this.options.idleTimeoutMs,
        clock: this.clock,
        ...(tls ? { tls } : {}),
      });
      await backend.start();
      this.backends.push(backend);
    }
    const target = (b: LabBackend) => ({
      name: b.options.name,
      host: '127.0.0.1',
      port: b.trafficPort,
      tls: Boolean(b.options.tls),
    });
    const plain = this.backends.filter((b) => !b.options.tls);
    const secure = this.backends.filter((b) => b.options.tls);
    this.listeners = [
      ...(plain.length ? [{ name: 'http', port: await freeLoopbackPort(), backends: plain.map(target) }] : []),
      ...(secure.length ? [{ name: 'https', port: await freeLoopbackPort(), backends: secure.map(target) }] : []),
    ];
    this.elb.onNodeAdded = (node) => this.track(this.startProxy(node));
    this.elb.onNodeRemoved = (node) => this.track(this.stopProxy(node));
    for (const node of this.elb.nodes) await this.startProxy(node);
    this.capacity.start();
    if (this.options.autoscale) {
      const a = this.options.autoscale;
      this.lastScale = this.clock.now();
      this.scaler = this.clock.setInterval(() => this.autoscaleStep(a), a.checkMs);
    }
    return endpoints;
  }

  /** Run `fn` after `ms` on the lab's clock (cancelled when the lab stops). */
  later(ms: number, fn: () => void): void {
    const t = this.clock.setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private autoscaleStep(a: LabAutoscale): void {
    const now = this.clock.now();
    this.requestTimes = this.requestTimes.filter((t) => t >= now - Math.max(a.sustainMs, a.idleMs));
    if (now - this.lastScale < a.sustainMs) return;
    const recent = this.requestTimes.filter((t) => t >= now - a.sustainMs).length;
    const perAz = (az: string) => this.elb.nodes.filter((n) => n.az === az).length;
    const azs = Object.keys(this.options.nodesPerAz);
    if (recent / (a.sustainMs / 1000) >= a.upRps) {
      const az = [...azs].sort((x, y) => perAz(x) - perAz(y))[0];
      if (!az || perAz(az) >= a.maxPerAz) return;
      this.lastScale = now;
      const node = this.elb.addNode(az, false); // ENI first, as AWS does; DNS follows
      this.later(a.checkMs, () => this.elb.advertise(node, true));
    } else if (this.requestTimes.filter((t) => t >= now - a.idleMs).length === 0) {
      const az = [...azs].sort(
        (x, y) => perAz(y) - (this.options.nodesPerAz[y] ?? 1) - (perAz(x) - (this.options.nodesPerAz[x] ?? 1)),
      )[0];
      if (!az || perAz(az) <= (this.options.nodesPerAz[az] ?? 1)) return;
      const node = this.elb.nodes.filter((n) => n.az === az).at(-1);
      if (!node) return;
      this.lastScale = now;
      this.elb.advertise(node, false); // out of DNS first, then gone
      this.later(a.checkMs, () => this.elb.removeNode(node));
    }
  }

  async stop(): Promise<void> {
    this.scaler?.cancel();
    for (const t of this.timers) t.cancel();
    for (const open of this.slowClients.values()) for (const socket of open) socket.destroy();
    this.elb.onNodeAdded = () => undefined;
    this.elb.onNodeRemoved = () => undefined;
    await Promise.all([...this.proxies.values()].map((p) => p.stop()));
    this.capacity.stop();
    await Promise.all(this.backends.map((b) => b.stop()));
    await Promise.all([this.elb.stop(), this.cloudwatch?.close(), this.elbApi?.close()]);
  }

  private async startProxy(node: LabNode): Promise<void> {
    const proxy = new LabProxyNode(
      node.publicIp,
      node.privateIp,
      this.listeners,
      this.options.trafficWindowMs,
      this.clock,
    );
    proxy.preopen = this.preopen;
    proxy.onRequest = () => {
      this.requestTimes.push(this.clock.now());
      this.capacity.request();
    };
    this.proxies.set(node.eniId, proxy);
    await proxy.start();
  }

  private async stopProxy(node: LabNode): Promise<void> {
    const proxy = this.proxies.get(node.eniId);
    this.proxies.delete(node.eniId);
    await proxy?.stop();
  }

  /**
   * Open `count` connections to a plain backend through the advertised nodes (from
   * their private IPs, as an NLB with IP targets passes a client's connection on)
   * that send nothing: slow clients, `R` on the backend's page. Closed after `ms`.
   */
  openSlowClients(backendName: string, count: number, ms: number): void {
    const backend = this.backend(backendName);
    if (backend.options.tls) throw new Error(`lab: slow clients need a plain-HTTP backend; ${backendName} serves TLS`);
    const nodes = this.elb.nodes.filter((n) => n.advertised);
    if (nodes.length === 0) throw new Error('lab: no advertised node to pass slow clients through');
    const open = this.slowClients.get(backendName) ?? new Set<Socket>();
    this.slowClients.set(backendName, open);
    const sockets: Socket[] = [];
    for (let i = 0; i < count; i++) {
      const node = nodes[i % nodes.length] as LabNode;
      const socket = connect({ host: '127.0.0.1', port: backend.trafficPort, localAddress: node.privateIp });
      sockets.push(socket);
      // Counted once connected and until closed (by us, or by the backend's idle timeout), so the lab settles on the
      // truth.
      this.track(
        new Promise<void>((resolve) => {
          socket.once('connect', () => {
            open.add(socket);
            resolve();
          });
          socket.once('error', () => resolve());
        }),
      );
      socket.once('close', () => open.delete(socket));
    }
    this.later(ms, () => {
      for (const socket of sockets) socket.destroy();
    });
  }

  /** Switch pre-open on or off on every node (as AWS support can). */
  setPreopen(on: boolean): void {
    this.preopen = on;
    for (const p of this.proxies.values()) p.preopen = on;
  }

  backend(name: string): LabBackend {
    const b = this.backends.find((x) => x.options.name === name);
    if (!b) throw new Error(`lab: no backend ${name}`);
    return b;
  }

  /** The port of a listener (`http` or `https`). */
  listenerPort(name: string): number {
    const l = this.listeners.find((x) => x.name === name);
    if (!l) throw new Error(`lab: no listener ${name}`);
    return l.port;
  }

  /** The elbscope configuration that watches this lab (status pages, TLS targets). */
  monitorConfig(dnsServer: string, extra: Record<string, unknown> = {}): Config {
    return parseConfig(
      {
        loadBalancers: [
          {
            dnsName: this.elb.dnsName,
            ...(this.elb.arn ? { arn: this.elb.arn } : {}),
            backends: this.backends.map((b) => ({
              name: b.options.name,
              statusUrl: `http://127.0.0.1:${b.statusPort}/server-status`,
              acceptFilterNone: true,
              ...(b.options.tls ? { tls: { target: `127.0.0.1:${b.trafficPort}` } } : {}),
            })),
          },
        ],
        // The lab's nodes live on 127.0.0.0/8, which no real node has: said here, and only here.
        dns: { servers: [dnsServer], timeoutMs: 1000, tries: 1, queries: 2, allowLoopbackNodes: true },
        // The lab's minutes are complete when they end (no late datapoints: a short trailing window, so a resolve waits
        // 2 quiet minutes, not 15), and its reservation is cheap to read.
        capacity: { cloudwatch: { settleMinutes: 0, trailingMinutes: 2 }, reservationEveryMinutes: 1 },
        ...extra,
      },
      'lab',
    );
  }
}
