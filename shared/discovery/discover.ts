import { apiList } from '../answer';
import { describeError } from '../errors';
import {
  DescribeTagsCommand as DescribeClassicTagsCommand,
  type ElasticLoadBalancingClient,
  paginateDescribeLoadBalancers as paginateClassic,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  paginateDescribeLoadBalancers,
  paginateDescribeTargetGroups,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { paginateDescribeInstances, type EC2Client } from '@aws-sdk/client-ec2';
import type { BackendConfig, Config, LoadBalancerConfig } from '../config/schema';
import { compareText } from '../compare';

/** The clients discovery needs in one region of one account. */
export interface DiscoveryClients {
  elb: ElasticLoadBalancingClient;
  elbv2: ElasticLoadBalancingV2Client;
  ec2: EC2Client;
}

type DiscoveryOptions = NonNullable<Config['discovery']>;

/** Tag matching: every wanted tag present, with its value or any value for "*". */
function tagsMatch(tags: { Key?: string; Value?: string }[] | undefined, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([k, v]) =>
    (tags ?? []).some((t) => t.Key === k && (v === '*' || t.Value === v)),
  );
}

const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/**
 * Find the load balancers of one region (and account) that carry the wanted
 * tags, Classic and v2, with their registered backends: instances' private IPs
 * (or IP targets) turned into status URLs and TLS targets by the templates.
 */
async function discoverRegion(
  clients: DiscoveryClients,
  region: string,
  options: DiscoveryOptions,
  roleArn?: string,
): Promise<LoadBalancerConfig[]> {
  const found: LoadBalancerConfig[] = [];

  // Classic: every page, then tags 20 names at a time.
  const classic: { name: string; dnsName: string; instances: string[] }[] = [];
  for await (const page of paginateClassic({ client: clients.elb, pageSize: 400 }, {})) {
    for (const d of apiList(
      page.LoadBalancerDescriptions,
      'DescribeLoadBalancers (Classic)',
      'LoadBalancerDescriptions',
    )) {
      if (d.LoadBalancerName && d.DNSName)
        classic.push({
          name: d.LoadBalancerName,
          dnsName: d.DNSName,
          instances: (d.Instances ?? []).flatMap((i) => (i.InstanceId ? [i.InstanceId] : [])),
        });
    }
  }
  const classicTagged = new Set<string>();
  for (const names of chunks(
    classic.map((c) => c.name),
    20,
  )) {
    const out = await clients.elb.send(new DescribeClassicTagsCommand({ LoadBalancerNames: names }));
    for (const d of apiList(out.TagDescriptions, 'DescribeTags (Classic)', 'TagDescriptions'))
      if (d.LoadBalancerName && tagsMatch(d.Tags, options.tags)) classicTagged.add(d.LoadBalancerName);
  }

  // v2 (ALB, NLB): every page, tags 20 ARNs at a time, targets per target group.
  const v2: { arn: string; name: string; dnsName: string }[] = [];
  for await (const page of paginateDescribeLoadBalancers({ client: clients.elbv2, pageSize: 400 }, {})) {
    for (const lb of apiList(page.LoadBalancers, 'DescribeLoadBalancers', 'LoadBalancers'))
      if (lb.LoadBalancerArn && lb.DNSName && lb.LoadBalancerName && lb.Type !== 'gateway')
        v2.push({ arn: lb.LoadBalancerArn, name: lb.LoadBalancerName, dnsName: lb.DNSName });
  }
  const v2Tagged = new Set<string>();
  for (const arns of chunks(
    v2.map((l) => l.arn),
    20,
  )) {
    const out = await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: arns }));
    for (const d of apiList(out.TagDescriptions, 'DescribeTags', 'TagDescriptions'))
      if (d.ResourceArn && tagsMatch(d.Tags, options.tags)) v2Tagged.add(d.ResourceArn);
  }

  // Backends: instance ids (Classic registrations, instance targets) → private IPs in one DescribeInstances per 200.
  const v2Targets = new Map<string, { instances: string[]; ips: string[]; groups: string[] }>();
  for (const lb of v2.filter((l) => v2Tagged.has(l.arn))) {
    const targets = { instances: [] as string[], ips: [] as string[], groups: [] as string[] };
    const groups = [];
    for await (const page of paginateDescribeTargetGroups({ client: clients.elbv2 }, { LoadBalancerArn: lb.arn }))
      groups.push(...apiList(page.TargetGroups, 'DescribeTargetGroups', 'TargetGroups'));
    for (const group of groups) {
      // Every target group gets a target-health alarm (capacity.mode "alarms"); at most 100, as the schema holds.
      if (group.TargetGroupArn && TARGET_GROUP_ARN.test(group.TargetGroupArn) && targets.groups.length < 100)
        targets.groups.push(group.TargetGroupArn);
      if (!group.TargetGroupArn || group.TargetType === 'lambda' || group.TargetType === 'alb') continue;
      const health = await clients.elbv2.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: group.TargetGroupArn }),
      );
      for (const t of apiList(health.TargetHealthDescriptions, 'DescribeTargetHealth', 'TargetHealthDescriptions')) {
        const id = t.Target?.Id;
        if (!id) continue;
        if (group.TargetType === 'ip') targets.ips.push(id);
        else targets.instances.push(id);
      }
    }
    v2Targets.set(lb.arn, targets);
  }
  const instanceIds = [
    ...new Set([
      ...classic.filter((c) => classicTagged.has(c.name)).flatMap((c) => c.instances),
      ...[...v2Targets.values()].flatMap((t) => t.instances),
    ]),
  ];
  const privateIp = new Map<string, string>();
  for (const ids of chunks(instanceIds, 200)) {
    for await (const page of paginateDescribeInstances({ client: clients.ec2 }, { InstanceIds: ids })) {
      for (const r of apiList(page.Reservations, 'DescribeInstances', 'Reservations'))
        for (const i of r.Instances ?? [])
          if (i.InstanceId && i.PrivateIpAddress) privateIp.set(i.InstanceId, i.PrivateIpAddress);
    }
  }

  const backend = (name: string, ip: string): BackendConfig => ({
    name,
    ...(options.statusUrlTemplate ? { statusUrl: options.statusUrlTemplate.replaceAll('{ip}', ip) } : {}),
    ...(options.tlsTargetTemplate ? { tls: { target: options.tlsTargetTemplate.replaceAll('{ip}', ip) } } : {}),
    acceptFilterNone: false,
    statusTlsVerify: true,
  });
  const withTemplates = Boolean(options.statusUrlTemplate || options.tlsTargetTemplate);
  for (const c of classic.filter((x) => classicTagged.has(x.name))) {
    found.push({
      dnsName: c.dnsName,
      name: c.name,
      region,
      ...(roleArn ? { roleArn } : {}),
      backends: withTemplates
        ? c.instances.flatMap((id) => (privateIp.has(id) ? [backend(id, privateIp.get(id) as string)] : []))
        : [],
    });
  }
  for (const lb of v2.filter((l) => v2Tagged.has(l.arn))) {
    const t = v2Targets.get(lb.arn) ?? { instances: [], ips: [], groups: [] };
    found.push({
      dnsName: lb.dnsName,
      name: lb.name,
      arn: lb.arn,
      region,
      ...(roleArn ? { roleArn } : {}),
      ...(t.groups.length > 0 ? { targetGroups: t.groups } : {}),
      backends: withTemplates
        ? [
            ...t.instances.flatMap((id) => (privateIp.has(id) ? [backend(id, privateIp.get(id) as string)] : [])),
            ...t.ips.map((ip) => backend(ip, ip)),
          ]
        : [],
    });
  }
  return found;
}

/** A target group ARN as the configuration takes one (shared/config/schema.ts). */
const TARGET_GROUP_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/;

/** One region of one account: what discovery found there, or why it could not say. */
export interface DiscoveryScope {
  /** `region` or `region as roleArn`: the scope's key and how messages name it. */
  key: string;
  region: string;
  roleArn?: string;
  loadBalancers: LoadBalancerConfig[] | null;
  error: string | null;
}

/**
 * Discover across every configured region and account; a region that fails is
 * reported, not fatal (the others are still watched). `scopes` says, per region and
 * account, what was found or why not, so a caller can keep a failing region's last
 * good list instead of dropping its load balancers.
 */
export async function discover(
  options: DiscoveryOptions,
  clientsFor: (region: string, roleArn?: string) => DiscoveryClients,
): Promise<{ loadBalancers: LoadBalancerConfig[]; errors: string[]; scopes: DiscoveryScope[] }> {
  const accounts = options.accounts.length > 0 ? options.accounts.map((a) => a.roleArn) : [undefined];
  const scopes = await Promise.all(
    accounts.flatMap((roleArn) =>
      options.regions.map(async (region): Promise<DiscoveryScope> => {
        const key = `${region}${roleArn ? ` as ${roleArn}` : ''}`;
        try {
          return {
            key,
            region,
            ...(roleArn ? { roleArn } : {}),
            loadBalancers: await discoverRegion(clientsFor(region, roleArn), region, options, roleArn),
            error: null,
          };
        } catch (err) {
          // describeError: an SDK error's message can be an object (markup in the answer's <Message>), never split as a
          // string.
          return {
            key,
            region,
            ...(roleArn ? { roleArn } : {}),
            loadBalancers: null,
            error: `discovery in ${key}: ${describeError(err)}`,
          };
        }
      }),
    ),
  );
  return {
    loadBalancers: sortDiscovered(scopes.flatMap((s) => s.loadBalancers ?? [])),
    errors: scopes.flatMap((s) => (s.error ? [s.error] : [])),
    scopes,
  };
}

/** Discovered load balancers in a stable order: by region, then name. */
export function sortDiscovered(loadBalancers: LoadBalancerConfig[]): LoadBalancerConfig[] {
  return loadBalancers.sort(
    (a, b) => compareText(a.region ?? '', b.region ?? '') || compareText(a.name ?? '', b.name ?? ''),
  );
}
