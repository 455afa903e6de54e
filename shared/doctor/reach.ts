import { DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetTopicAttributesCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { observeCapacity, type CapacityDeps } from '../capacity/observe';
import type { Config } from '../config/schema';
import { isNote, nameResolved, type Observation } from '../nodes/observation';
import { printable } from '../errors';
import { type CheckResult, errorCode, fail, pass, why } from './check';

/** A caller's ARN: an IAM user or role, an STS session (assumed role, federated user), the root user; its account. */
const CALLER_ARN = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):(?:root$|user\/|role\/|assumed-role\/|federated-user\/)/;

/** Who the credentials are (STS GetCallerIdentity: "No permissions are required to perform this operation"). */
export async function checkIdentity(sts: STSClient): Promise<{ check: CheckResult; arn: string | null }> {
  const what = 'credentials';
  try {
    const answer = await sts.send(new GetCallerIdentityCommand({}));
    // [GetCallerIdentity] Arn: "The Amazon Web Services ARN associated with the calling entity" — an IAM user or role,
    // an STS session, or the root user, in the account the answer names; anything else is not STS's answer.
    const account = typeof answer.Arn === 'string' ? CALLER_ARN.exec(answer.Arn)?.[1] : undefined;
    if (typeof answer.Account !== 'string' || !/^\d{12}$/.test(answer.Account) || account !== answer.Account)
      return {
        check: fail(
          what,
          `the answer names no caller ARN of its account (Arn ${printable(String(answer.Arn ?? '(none)')).slice(0, 200)}, Account ${printable(String(answer.Account ?? '(none)')).slice(0, 20)}): not STS's`,
          'check AWS_ENDPOINT_URL_STS and the network',
        ),
        arn: null,
      };
    return {
      check: pass(`${what}: ${printable(answer.Arn as string)} (account ${answer.Account})`),
      arn: answer.Arn as string,
    };
  } catch (err) {
    return {
      check: fail(
        what,
        `STS GetCallerIdentity failed: ${why(err)}`,
        'set credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID …) and AWS_REGION, and check they are not expired',
      ),
      arn: null,
    };
  }
}

/** Per load balancer: its DNS name resolves to nodes, and (ENI lookups on) its ENIs were found. */
export function checkNames(config: Config, observations: readonly Observation[]): CheckResult[] {
  return observations.flatMap((o, i) => {
    const at = `loadBalancers[${i}]`;
    const failures = o.errors.filter((e) => !isNote(e));
    const dns = nameResolved(o)
      ? pass(`${o.loadBalancer} resolves (${o.nodes.filter((n) => n.sources.includes('dns')).length} node addresses)`)
      : fail(
          `${o.loadBalancer} resolves`,
          failures.find((e) => e.source === 'dns' || e.source === 'cycle')?.message ?? 'no A or AAAA records',
          `check ${at}.dnsName (the load balancer's DNS name, or a name of yours that leads to it) and "dns.servers"`,
        );
    if (!config.eni.enabled) return [dns];
    const enis = Object.values(o.azs).reduce((n, az) => n + az.provisioned, 0);
    const eniError = failures.find((e) => e.source === 'eni' || e.source === 'config');
    const eniCheck = eniError
      ? fail(
          `${o.loadBalancer}'s ENIs found`,
          eniError.message,
          `allow ec2:DescribeNetworkInterfaces, and check ${at}'s region (or "region", AWS_REGION) and its "roleArn"`,
        )
      : enis === 0
        ? fail(
            `${o.loadBalancer}'s ENIs found`,
            'DescribeNetworkInterfaces describes none for it',
            `check ${at}: its name (or "name"/"arn"), its region and account (a role of the account it lives in)`,
          )
        : pass(`${o.loadBalancer}'s ENIs found (${enis} in ${Object.keys(o.azs).sort().join(', ')})`);
    return [dns, eniCheck];
  });
}

/**
 * CloudWatch readable for each kind configured: one load balancer of each kind its
 * observation found, its essential metrics over the last minutes (one GetMetricData per
 * kind, through the cycle's own reader and its answer checks).
 */
export async function checkCloudWatch(
  config: Config,
  observations: readonly Observation[],
  metricsFor: NonNullable<CapacityDeps['metricsFor']>,
  now: Date,
): Promise<CheckResult[]> {
  const picked = new Map<string, number>();
  observations.forEach((o, i) => {
    if (o.kind && !picked.has(o.kind)) picked.set(o.kind, i);
  });
  const unknown = observations.filter((o) => !o.kind).map((o) => o.loadBalancer);
  const checks: CheckResult[] = unknown.map((name) =>
    fail(
      `CloudWatch readable for ${name}`,
      'its kind (Classic, ALB, NLB) is not known: its ENIs were not found',
      'fix the ENI check above, or set its "arn"',
    ),
  );
  const indexes = [...picked.values()];
  if (indexes.length === 0) return checks;
  const narrowed: Config = {
    ...config,
    loadBalancers: indexes.map((i) => config.loadBalancers[i] as Config['loadBalancers'][number]),
    capacity: {
      ...config.capacity,
      reservationEveryMinutes: 0,
      cloudwatch: { ...config.capacity.cloudwatch, everyMinutes: 1, metrics: 'essential' },
    },
  };
  const read = await observeCapacity(
    narrowed,
    indexes.map((i) => observations[i] as Observation),
    now,
    { metricsFor, reservationsFor: null },
  );
  read.forEach((r, n) => {
    const o = observations[indexes[n] as number] as Observation;
    const what = `CloudWatch readable for ${o.kind} load balancers (GetMetricData, ${o.loadBalancer})`;
    const error = r.errors.find((e) => e.source === 'cloudwatch');
    checks.push(
      error
        ? fail(
            what,
            error.message,
            'allow cloudwatch:GetMetricData on *, and check the region (and "arn" of an ALB/NLB)',
          )
        : pass(what),
    );
  });
  return checks;
}

/** The SNS topic exists and these credentials reach it (GetTopicAttributes: read-only, nothing is published). */
export async function checkTopic(sns: SNSClient, topicArn: string): Promise<CheckResult> {
  const what = `SNS topic ${topicArn} reachable`;
  try {
    const answer = await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    if (answer.Attributes?.TopicArn !== topicArn)
      return fail(what, 'the answer is not about that topic', 'check AWS_ENDPOINT_URL_SNS and the network');
    return pass(what);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'NotFound' || code === 'NotFoundException')
      return fail(
        what,
        `no such topic (${why(err)})`,
        'create it, or correct "alerts.snsTopicArn" (region and account too)',
      );
    if (code === 'AuthorizationError' || code === 'AuthorizationErrorException')
      return fail(
        what,
        `not allowed (${why(err)})`,
        "allow sns:GetTopicAttributes to these credentials, and check the topic's access policy lets the functions' roles publish",
      );
    if (code === 'InvalidParameter' || code === 'InvalidParameterException')
      return fail(what, `refused (${why(err)})`, 'correct "alerts.snsTopicArn"');
    return fail(what, `GetTopicAttributes failed: ${why(err)}`, 'retry; check the SNS endpoint and the network');
  }
}

/** The seal key is usable: DescribeKey says it is enabled and an HMAC key (KeyUsage GENERATE_VERIFY_MAC). */
export async function checkSealKey(kms: KMSClient, keyId: string): Promise<CheckResult> {
  const what = `KMS seal key ${keyId} usable`;
  try {
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    if (!meta) return fail(what, 'the answer has no KeyMetadata', 'check AWS_ENDPOINT_URL_KMS and the network');
    if (meta.KeyUsage !== 'GENERATE_VERIFY_MAC')
      return fail(
        what,
        `its KeyUsage is ${meta.KeyUsage ?? '(none)'}, not GENERATE_VERIFY_MAC`,
        'use an HMAC key (KeySpec HMAC_256): "store.sealKey", or leave it unset for the stack\'s own',
      );
    // [DescribeKey] KeyState: only `Enabled` is usable (PendingDeletion, Disabled, PendingImport, Unavailable … are
    // not); Enabled alone is not trusted where the state says otherwise, or says nothing.
    if (meta.Enabled !== true || meta.KeyState !== 'Enabled')
      return fail(
        what,
        `it is not enabled (KeyState ${meta.KeyState ?? 'unknown'})`,
        'enable the key, or choose another',
      );
    return pass(`${what} (${meta.KeySpec ?? 'HMAC'}, enabled)`);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'NotFoundException')
      return fail(
        what,
        `no such key (${why(err)})`,
        'correct "store.sealKey" (a key ARN, alias ARN, alias/NAME or key id)',
      );
    if (code === 'AccessDeniedException')
      return fail(what, `not allowed (${why(err)})`, 'allow kms:DescribeKey on the key to these credentials');
    return fail(what, `DescribeKey failed: ${why(err)}`, 'retry; check the KMS endpoint and the network');
  }
}
