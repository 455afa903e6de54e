import { emptyZone, startDnsServer, type DnsZone, type RunningDnsServer } from './dns/server';
import { startEc2Endpoint, type Ec2State, type LabEni, type RunningEc2Endpoint } from './ec2/server';

/**
 * One simulated load balancer node. Both addresses are loopback: the "public" one
 * is what DNS advertises, the "private" one is the source address of the node's
 * connections to backends (what a backend's status page shows as the client).
 */
export interface LabNode {
  az: string;
  publicIp: string;
  privateIp: string;
  eniId: string;
  /** Whether DNS advertises it (a new node gets its ENI first, then DNS). */
  advertised: boolean;
}

/** The three kinds of load balancer the lab simulates (DNS name shape, ENI descriptions, node rules). */
export type LabElbKind = 'classic' | 'application' | 'network';

export interface LabElbOptions {
  name: string;
  /** Default classic. A network load balancer has exactly one (static) node per AZ. */
  kind?: LabElbKind;
  region: string;
  /** Nodes per AZ at start, e.g. `{ 'us-east-1a': 1, 'us-east-1b': 1 }`. */
  nodesPerAz: Record<string, number>;
}

/** The id part of the lab's ALB/NLB ARNs and ENI descriptions (hex, as AWS's). */
const LAB_V2_ID = '50dc6c495c0c9188';
/** The lab's account (the ARN of an ALB/NLB names one). */
const LAB_ACCOUNT = '123456789012';

/**
 * A simulated load balancer on loopback: a DNS server that answers its name,
 * `all.<name>` and EC2-style PTR names, and an EC2 endpoint that lists its ENIs.
 * Classic by default; `kind` makes it an ALB (same DNS shape, `ELB app/…` ENIs) or
 * an NLB (`<name>-<hex>.elb.<region>` name, `ELB net/…` ENIs, one node per AZ).
 * Node addresses are in 127.0.0.0/8 so nothing ever leaves the machine.
 */
export class LabElb {
  readonly dnsName: string;
  readonly nodes: LabNode[] = [];
  readonly zone: DnsZone = emptyZone();
  readonly ec2: Ec2State = { enis: [], failNext: [], requests: [] };
  /** ENIs of other load balancers in the same account (decoys: a same-named ALB or NLB), kept across changes. */
  private readonly otherEnis: LabEni[] = [];
  dnsServer: RunningDnsServer | null = null;
  ec2Endpoint: RunningEc2Endpoint | null = null;
  private serial = 0;
  private readonly azs: string[];
  private dnsFailing = false;
  /** Called when a node is added or removed, so the lab can start or stop its proxy. */
  onNodeAdded: (node: LabNode) => Promise<void> | void = () => undefined;
  onNodeRemoved: (node: LabNode) => Promise<void> | void = () => undefined;

  readonly kind: LabElbKind;

  constructor(readonly options: LabElbOptions) {
    this.kind = options.kind ?? 'classic';
    this.dnsName =
      this.kind === 'network'
        ? `${options.name}-${LAB_V2_ID}.elb.${options.region}.amazonaws.com`
        : `${options.name}-738445577.${options.region}.elb.amazonaws.com`;
    this.azs = Object.keys(options.nodesPerAz);
    for (const [az, n] of Object.entries(options.nodesPerAz)) for (let i = 0; i < n; i++) this.addNode(az, true);
  }

  /** Start the DNS server and EC2 endpoint; returns what a monitor needs to reach them. */
  async start(): Promise<{ dnsServer: string; ec2Url: string }> {
    this.dnsServer = await startDnsServer(this.zone);
    this.ec2Endpoint = await startEc2Endpoint(this.ec2);
    return { dnsServer: this.dnsServer.address, ec2Url: this.ec2Endpoint.url };
  }

  async stop(): Promise<void> {
    await Promise.all([this.dnsServer?.close(), this.ec2Endpoint?.close()]);
    this.dnsServer = null;
    this.ec2Endpoint = null;
  }

  /** The ARN of an ALB/NLB (null for a Classic ELB, which has none in its ENIs or DNS). */
  get arn(): string | null {
    if (this.kind === 'classic') return null;
    return `arn:aws:elasticloadbalancing:${this.options.region}:${LAB_ACCOUNT}:loadbalancer/${this.kind === 'application' ? 'app' : 'net'}/${this.options.name}/${LAB_V2_ID}`;
  }

  /** The description AWS gives this load balancer's ENIs. */
  get eniDescription(): string {
    if (this.kind === 'classic') return `ELB ${this.options.name}`;
    return `ELB ${this.kind === 'application' ? 'app' : 'net'}/${this.options.name}/${LAB_V2_ID}`;
  }

  /** Add ENIs of other load balancers of the account (kept across node changes); returns their removal. */
  addOtherEnis(...enis: LabEni[]): () => void {
    this.otherEnis.push(...enis);
    this.sync();
    return () => {
      this.otherEnis.splice(0, this.otherEnis.length, ...this.otherEnis.filter((e) => !enis.includes(e)));
      this.sync();
    };
  }

  /** Add a node to an AZ; `advertised: false` models a node whose ENI exists before DNS lists it. */
  addNode(az: string, advertised: boolean): LabNode {
    // An NLB has one static node (and IP) per AZ it is enabled in; it never scales out.
    if (this.kind === 'network' && this.nodes.some((n) => n.az === az))
      throw new Error(`lab NLB ${this.options.name}: ${az} has its node already (an NLB has one per AZ)`);
    if (!this.azs.includes(az)) this.azs.push(az);
    const azIndex = this.azs.indexOf(az);
    const n = ++this.serial;
    const node: LabNode = {
      az,
      publicIp: `127.1.${azIndex}.${n}`,
      privateIp: `127.2.${azIndex}.${n}`,
      eniId: `eni-0lab${String(n).padStart(12, '0')}`,
      advertised,
    };
    this.nodes.push(node);
    this.sync();
    void this.onNodeAdded(node);
    return node;
  }

  /** Make DNS advertise (or stop advertising) a node. */
  advertise(node: LabNode, advertised: boolean): void {
    node.advertised = advertised;
    this.sync();
  }

  /** Remove a node entirely (ENI and DNS). */
  removeNode(node: LabNode): void {
    const i = this.nodes.indexOf(node);
    if (i < 0) return; // already gone (splice(-1) would remove another node)
    this.nodes.splice(i, 1);
    this.sync();
    void this.onNodeRemoved(node);
  }

  /** Make the DNS server answer SERVFAIL for the load balancer's name (or stop). */
  failDns(failing: boolean): void {
    this.dnsFailing = failing;
    this.sync();
  }

  /** Nodes per AZ that DNS advertises: the ground truth a test compares with. */
  advertisedPerAz(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const node of this.nodes) if (node.advertised) counts[node.az] = (counts[node.az] ?? 0) + 1;
    return counts;
  }

  private sync(): void {
    const advertised = this.nodes.filter((n) => n.advertised).map((n) => n.publicIp);
    this.zone.hosts.set(this.dnsName, this.dnsFailing ? { fail: 'servfail' } : { a: advertised });
    this.zone.hosts.set(`all.${this.dnsName}`, { a: advertised, maxAnswers: 1000 });
    this.zone.ptr.clear();
    for (const node of this.nodes) {
      this.zone.ptr.set(node.publicIp, `ec2-${node.publicIp.replaceAll('.', '-')}.${ptrDomain(this.options.region)}`);
    }
    const enis: LabEni[] = this.nodes.map((n) => ({
      eniId: n.eniId,
      az: n.az,
      description: this.eniDescription,
      privateIp: n.privateIp,
      publicIp: n.publicIp,
    }));
    this.ec2.enis.splice(0, this.ec2.enis.length, ...enis, ...this.otherEnis);
  }
}

function ptrDomain(region: string): string {
  return region === 'us-east-1' ? 'compute-1.amazonaws.com' : `${region}.compute.amazonaws.com`;
}
