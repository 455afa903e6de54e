import type { EC2Client } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { STSClient } from '@aws-sdk/client-sts';
import { isKmsKey } from '../aws/kms-seal';
import type { CapacityDeps } from '../capacity/observe';
import { configuredRegion } from '../config/identity';
import type { Config } from '../config/schema';
import { observeConfigured, type CycleDeps } from '../cycle/observe-configured';
import { functionStatements, type PolicyRefs } from '../deploy/role-policies';
import { type CheckResult, fail } from './check';
import { checkPermissions, dryRunEnis, type RoleToCheck, simulatedPrincipalOf, simulationPlan } from './permissions';
import { checkCloudWatch, checkIdentity, checkNames, checkSealKey, checkTopic } from './reach';

/** The clients `elbscope doctor` asks, each with its deadline (built by the CLI; tests aim them at the lab). */
export interface DoctorDeps {
  sts: STSClient;
  iam: IAMClient;
  /** EC2 in a region, for the DryRun fallback. */
  ec2: (region: string) => EC2Client;
  /** DNS and ENI lookups, as a cycle makes them. */
  cycle: CycleDeps;
  metricsFor: NonNullable<CapacityDeps['metricsFor']>;
  sns: (topicArn: string) => SNSClient;
  kms: (region?: string) => KMSClient;
  /** Region for calls nothing else places (AWS_REGION). */
  defaultRegion?: string | undefined;
  now: () => Date;
}

/** The stack's own resources, which do not exist (or are not known) before the deploy: never simulated. */
const STACK = (logicalId: string) => ({ stack: logicalId });
/** The stack's resources as the doctor knows them before the deploy (none of them simulated). */
export const PREDEPLOY_REFS: PolicyRefs = {
  table: STACK('StateTable'),
  topic: STACK('AlertTopic'),
  alarms: 'arn:aws:cloudwatch:*:*:alarm:elbscope-*',
  sealKey: STACK('SealKey'),
  keyById: (id) => STACK(`KMS key ${id}`),
  failures: STACK('FailedInvocations'),
  work: STACK('WorkQueue'),
  logStreams: (fn) => ({ streams: STACK(`${fn} log group`), events: STACK(`${fn} log group`) }),
  snsService: 'sns',
};

/**
 * Every check of `elbscope doctor`, in the order printed: who the credentials are;
 * whether each role (or, with none given, the credentials themselves, as the observe
 * function) may make its function's calls; each load balancer's name and ENIs;
 * CloudWatch for each kind; the SNS topic and the KMS seal key when configured.
 * Nothing is changed anywhere: every call is a read, a simulation or a dry run.
 */
export async function runDoctor(
  config: Config,
  roles: readonly RoleToCheck[],
  deps: DoctorDeps,
): Promise<CheckResult[]> {
  const statements = functionStatements(config, PREDEPLOY_REFS);
  const region =
    config.loadBalancers.map((lb) => configuredRegion(lb, config.region)).find((r) => r !== null) ??
    deps.defaultRegion ??
    'us-east-1';

  const identity = checkIdentity(deps.sts);
  const permissions = identity.then(async ({ arn }): Promise<CheckResult[]> => {
    if (roles.length > 0)
      return Promise.all(
        roles.map((r) => checkPermissions(deps.iam, { arn: r.arn, label: r.arn, fn: r.fn }, statements[r.fn], null)),
      );
    const what = "these credentials may make the observe function's calls";
    if (arn === null)
      return [fail(what, 'not checked: who the credentials are is not known', 'fix the credentials check above')];
    const others = simulationPlan(statements.observe).groups.reduce((n, g) => n + g.actions.length, 0) - 1;
    const dryRun = (reason: string) => dryRunEnis(deps.ec2(region), 'these credentials', reason, others);
    const principal = simulatedPrincipalOf(arn);
    if (principal === null) return [await dryRun(`${arn} cannot be simulated`)];
    return [
      await checkPermissions(deps.iam, { arn: principal, label: principal, fn: 'observe' }, statements.observe, dryRun),
    ];
  });
  const names = observeConfigured(config, deps.cycle).then(async (observations) => ({
    names: checkNames(config, observations),
    cloudwatch: config.capacity.cloudwatch.enabled
      ? await checkCloudWatch(config, observations, deps.metricsFor, deps.now())
      : [],
  }));
  const topic = config.alerts.snsTopicArn
    ? checkTopic(deps.sns(config.alerts.snsTopicArn), config.alerts.snsTopicArn)
    : null;
  const key = config.store.sealKey && isKmsKey(config.store.sealKey) ? config.store.sealKey : null;
  const sealKey = key ? checkSealKey(deps.kms(key.startsWith('arn:') ? key.split(':')[3] : region), key) : null;

  // Awaited together: a rejection of one (a bug: every check catches its own failures) is never left unhandled.
  const [who, allowed, observed, topicCheck, keyCheck] = await Promise.all([
    identity,
    permissions,
    names,
    topic,
    sealKey,
  ]);
  return [
    who.check,
    ...allowed,
    ...observed.names,
    ...observed.cloudwatch,
    ...(topicCheck ? [topicCheck] : []),
    ...(keyCheck ? [keyCheck] : []),
  ];
}
