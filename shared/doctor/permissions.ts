import { DescribeNetworkInterfacesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { type EvaluationResult, type IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { FUNCTION_NAMES, type FunctionName, type PolicyStatement } from '../deploy/role-policies';
import { ROLE_ARN } from '../config/schema';
import { printable } from '../errors';
import { type CheckResult, errorCode, fail, pass, why } from './check';

/**
 * Whether a principal may make the calls a function makes: IAM SimulatePrincipalPolicy
 * with the actions of that function's statements (shared/deploy/role-policies.ts, what
 * the deploy grants), or, where simulation is refused, EC2's DryRun of the one call
 * every cycle makes.
 */

/** A role to check and the function whose calls it must allow. */
export interface RoleToCheck {
  arn: string;
  fn: FunctionName;
}

/** The logical ids of the stack's roles (deploy/roles.cjs): CloudFormation names a role `<stack>-<LogicalId>-<suffix>`. */
const LOGICAL_IDS: Record<FunctionName, string> = {
  observe: 'ObserveRole',
  'tls-probe': 'TlsProbeRole',
  dispatch: 'DispatchRole',
  worker: 'WorkerRole',
  report: 'ReportRole',
};

/** A value from the command line in a one-line message: quoted, escaped as every console line is, at most 100 characters. */
function shown(value: string): string {
  return printable(JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value));
}

/**
 * `--role ARN` (a role of the deployed stack, its function read from its name) or
 * `--role FUNCTION=ARN`; an Error saying what is wrong otherwise.
 */
export function roleToCheck(arg: string): RoleToCheck | Error {
  const m = /^([a-z-]+)=(.*)$/.exec(arg);
  const arn = m ? (m[2] as string) : arg;
  if (!ROLE_ARN.test(arn)) return new Error(`${shown(arg)} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`);
  if (m) {
    const fn = FUNCTION_NAMES.find((f) => f === m[1]);
    return fn ? { arn, fn } : new Error(`${shown(m[1] as string)} is not a function (${FUNCTION_NAMES.join(', ')})`);
  }
  const name = arn.split('/').at(-1) as string;
  const fn = FUNCTION_NAMES.find((f) => name.includes(`-${LOGICAL_IDS[f]}-`));
  return fn
    ? { arn, fn }
    : new Error(`${arn}: its name says no function (${Object.values(LOGICAL_IDS).join(', ')}); give FUNCTION=ARN`);
}

/**
 * The principal SimulatePrincipalPolicy takes for the caller ("a user, group, or role"):
 * a user's ARN as it is, an assumed role's session as its role (its path, which the
 * session ARN does not carry, is lost: a role with a path is then not found). Null for
 * anything else (the root user, a federated user).
 */
export function simulatedPrincipalOf(callerArn: string): string | null {
  if (/^arn:aws[a-z-]*:iam::\d{12}:user\//.test(callerArn)) return callerArn;
  const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(callerArn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : null;
}

/** The actions to simulate, grouped by the resources they are granted on; what cannot be simulated, counted. */
export function simulationPlan(statements: readonly PolicyStatement[]): {
  groups: { resources: string[]; actions: string[] }[];
  skipped: number;
} {
  const groups = new Map<string, { resources: string[]; actions: Set<string> }>();
  let skipped = 0;
  for (const s of statements) {
    const resources = [s.Resource].flat();
    // A statement on the stack's own resources (table, queues, its key and topic, log groups: intrinsics until deploy)
    // is written by the same deploy that creates them; one with a condition (the topic key via SNS) needs the
    // request's context. Neither can be simulated from here.
    if (s.Condition || resources.some((r) => typeof r !== 'string')) {
      skipped += s.Action.length;
      continue;
    }
    const arns = (resources as string[]).filter((r) => r !== '*');
    const key = arns.join('\n');
    const group = groups.get(key) ?? { resources: arns, actions: new Set<string>() };
    for (const a of s.Action) group.actions.add(a);
    groups.set(key, group);
  }
  return { groups: [...groups.values()].map((g) => ({ resources: g.resources, actions: [...g.actions] })), skipped };
}

/** Pages one simulation may take (each up to 1,000 results): far beyond the few dozen actions a function has. */
const MAX_PAGES = 20;

/** Every evaluation result of one simulation (each page, by Marker). */
async function simulate(iam: IAMClient, principal: string, actions: string[], resources: string[]) {
  const results: EvaluationResult[] = [];
  let marker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: principal,
        ActionNames: actions,
        ...(resources.length > 0 ? { ResourceArns: resources } : {}),
        MaxItems: 1000,
        ...(marker ? { Marker: marker } : {}),
      }),
    );
    if (!Array.isArray(answer.EvaluationResults))
      throw new Error("SimulatePrincipalPolicy: the answer has no EvaluationResults: not that API's response");
    results.push(...answer.EvaluationResults);
    if (!answer.IsTruncated) return results;
    if (!answer.Marker || answer.Marker === marker)
      throw new Error('SimulatePrincipalPolicy: IsTruncated without a new Marker; stopped');
    marker = answer.Marker;
  }
  throw new Error(`SimulatePrincipalPolicy: still paging after ${MAX_PAGES} pages; stopped`);
}

/**
 * Check that `principal` may make `fn`'s calls. Simulation refused (AccessDenied) or not
 * possible: `fallback`, when given (the caller's own DryRun), else a failure saying so.
 */
export async function checkPermissions(
  iam: IAMClient,
  principal: { arn: string; label: string; fn: FunctionName },
  statements: readonly PolicyStatement[],
  fallback: ((reason: string) => Promise<CheckResult>) | null,
): Promise<CheckResult> {
  const what = `${principal.label} may make the ${principal.fn} function's calls`;
  const plan = simulationPlan(statements);
  const denied: string[] = [];
  let count = 0;
  try {
    // Nothing of this function's can be simulated from here (its calls are all on the stack's own resources, or
    // conditional): the role is still asked about (its first action, on *), so one that does not exist, or that
    // cannot be simulated, fails; one that exists passes as existing, never as allowed.
    if (plan.groups.length === 0) {
      await simulate(iam, principal.arn, [statements.flatMap((s) => s.Action)[0] ?? 'sts:GetCallerIdentity'], []);
      return pass(
        `${principal.label} exists (the ${principal.fn} function's ${plan.skipped} actions were not simulated: all on the stack's own resources, or conditional; the deploy grants them)`,
      );
    }
    for (const group of plan.groups) {
      const results = await simulate(iam, principal.arn, group.actions, group.resources);
      // [SimulatePrincipalPolicy] "Each API in the ActionNames parameter is evaluated for each resource": a result
      // missing for an action asked is no "allowed".
      for (const action of group.actions) {
        const mine = results.filter((r) => r.EvalActionName === action);
        if (mine.length === 0) denied.push(`${action} (no result)`);
        for (const r of mine)
          if (r.EvalDecision !== 'allowed')
            denied.push(
              `${action} ${r.EvalDecision ?? '(no decision)'}${r.EvalResourceName && r.EvalResourceName !== '*' ? ` on ${r.EvalResourceName}` : ''}`,
            );
        count++;
      }
    }
  } catch (err) {
    const code = errorCode(err);
    if ((code === 'AccessDenied' || code === 'AccessDeniedException') && fallback)
      return fallback(`iam:SimulatePrincipalPolicy on ${principal.arn} refused`);
    if (code === 'AccessDenied' || code === 'AccessDeniedException')
      return fail(
        what,
        `simulation refused (${why(err)})`,
        `allow iam:SimulatePrincipalPolicy on ${principal.arn} to the credentials running doctor, or run doctor with that role's credentials`,
      );
    if (code === 'NoSuchEntity')
      return fail(
        what,
        `${principal.arn} does not exist (${why(err)})`,
        'check the role ARN (deploy first, or give FUNCTION=ARN)',
      );
    return fail(what, `simulation failed: ${why(err)}`, 'retry; check the IAM endpoint and the network');
  }
  if (denied.length > 0)
    return fail(
      what,
      `denied: ${denied.join(', ')}`,
      `grant them to ${principal.arn} (the deploy grants its roles what shared/deploy/role-policies.ts lists; a permissions boundary or an SCP may deny them)`,
    );
  // Those the deploy writes beside the resources they name: only a permissions boundary or an SCP could deny them.
  const rest = plan.skipped > 0 ? `; ${plan.skipped} not: on the stack's own resources, or conditional` : '';
  return pass(`${what} (${count} actions simulated${rest})`);
}

/**
 * The caller's own permission for the call every cycle makes, by EC2's DryRun: "If you
 * have the required permissions, the error response is DryRunOperation. Otherwise, it is
 * UnauthorizedOperation." What else the function needs is not checked this way (said).
 */
export async function dryRunEnis(ec2: EC2Client, label: string, reason: string, others: number): Promise<CheckResult> {
  const what = `${label} may call ec2:DescribeNetworkInterfaces (DryRun, as ${reason})`;
  try {
    await ec2.send(new DescribeNetworkInterfacesCommand({ DryRun: true, MaxResults: 5 }));
    return fail(
      what,
      "the call succeeded although DryRun was set: not EC2's answer",
      'check AWS_ENDPOINT_URL_EC2 and the network',
    );
  } catch (err) {
    const code = errorCode(err);
    if (code === 'DryRunOperation')
      return pass(
        `${what}; the other ${others} actions were not checked: allow iam:SimulatePrincipalPolicy to check them`,
      );
    if (code === 'UnauthorizedOperation')
      return fail(what, `denied (${why(err)})`, 'grant ec2:DescribeNetworkInterfaces on * to these credentials');
    return fail(what, `the dry run failed: ${why(err)}`, 'retry; check the EC2 endpoint and the network');
  }
}
