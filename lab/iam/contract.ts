/**
 * The documented contract of IAM SimulatePrincipalPolicy, as the lab's IAM endpoint enforces it:
 *  [S] AWS IAM API Reference, SimulatePrincipalPolicy:
 *      https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
 *      (the SDK's model, @aws-sdk/client-iam SimulatePrincipalPolicyCommand, says the same)
 *  [E] its Errors: InvalidInput (400), NoSuchEntity (404), PolicyEvaluation (500); and AccessDenied (403),
 *      common to every call a principal is not allowed ("Common Errors").
 * Protocol: AWS Query (`Action=SimulatePrincipalPolicy&Version=2010-05-08`, lists as `Name.member.N`).
 * Where AWS's behaviour is uncertain, the stricter reading is coded and says so.
 */

export interface IamRefusal {
  code: string;
  status: number;
  message: string;
}

/** A simulation request as read from the Query parameters. */
export interface SimulationRequest {
  policySourceArn: string;
  actionNames: string[];
  resourceArns: string[];
  maxItems: number;
  /** Where the page starts (from `Marker`). */
  offset: number;
}

// [S] PolicySourceArn: "Required: Yes"; "Length Constraints: Minimum length of 20. Maximum length of 2048."
// "The Amazon Resource Name (ARN) of a user, group, or role": an IAM ARN of one of those three.
const POLICY_SOURCE = /^arn:aws[a-z-]*:iam::\d{12}:(user|group|role)\/[\w+=,.@/-]{1,512}$/;
// [S] ActionNames: "Required: Yes"; each "Minimum length of 3. Maximum length of 128"; "Each operation must include
// the service identifier, such as iam:CreateUser".
const ACTION_NAME = /^[a-z0-9-]+:[A-Za-z0-9*?]+$/;
// [S] MaxItems: "Valid Range: Minimum value of 1. Maximum value of 1000."; "If you do not include this parameter,
// the number of items defaults to 100."
const DEFAULT_MAX_ITEMS = 100;
// [S] Marker: "Minimum length of 1. Maximum length of 320. Pattern: [\u0020-\u00FF]+" — and only "the value of the
// Marker element in the response that you received": the lab's markers are `lab-<offset>`; any other is refused
// (stricter reading: AWS says nothing of a forged one).
const MARKER = /^lab-(\d{1,9})$/;

const invalid = (message: string): IamRefusal => ({ code: 'InvalidInput', status: 400, message });

/** The `Name.member.N` list of a Query request, in order; null when its numbering has a gap. */
function memberList(params: URLSearchParams, name: string): string[] | null {
  const found: string[] = [];
  for (let i = 1; params.has(`${name}.member.${i}`); i++) found.push(params.get(`${name}.member.${i}`) as string);
  const total = [...params.keys()].filter((k) => k.startsWith(`${name}.member.`)).length;
  return total === found.length ? found : null;
}

/** Check a SimulatePrincipalPolicy request; the request as read, or how IAM refuses it. */
export function checkSimulatePrincipalPolicy(params: URLSearchParams): SimulationRequest | IamRefusal {
  const source = params.get('PolicySourceArn');
  if (source === null)
    return invalid(
      "1 validation error detected: Value null at 'policySourceArn' failed to satisfy constraint: Member must not be null",
    );
  if (source.length < 20 || source.length > 2048 || !POLICY_SOURCE.test(source))
    return invalid(`Invalid ARN: ${source.slice(0, 100)} is not the ARN of a user, group or role`);
  const actions = memberList(params, 'ActionNames');
  // [S] ActionNames "Required: Yes": a request with none (an empty list is sent as no member at all) is invalid.
  if (actions === null || actions.length === 0)
    return invalid(
      "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null",
    );
  for (const action of actions)
    if (action.length < 3 || action.length > 128 || !ACTION_NAME.test(action))
      return invalid(`Action name ${action.slice(0, 130)} is not a service-prefixed action name`);
  const resources = memberList(params, 'ResourceArns');
  if (resources === null) return invalid('ResourceArns: the member list is not numbered 1, 2, 3 …');
  // [S] ResourceArns: each "Minimum length of 1. Maximum length of 2048"; "If you do not specify a value for this
  // parameter, then the value defaults to * (all resources)".
  for (const resource of resources)
    if (resource.length < 1 || resource.length > 2048) return invalid('ResourceArns: each must be 1-2048 characters');
  const maxText = params.get('MaxItems');
  if (maxText !== null && (!/^\d{1,4}$/.test(maxText) || Number(maxText) < 1 || Number(maxText) > 1000))
    return invalid(
      `1 validation error detected: Value '${maxText.slice(0, 20)}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`,
    );
  const marker = params.get('Marker');
  const offset = marker === null ? 0 : MARKER.exec(marker)?.[1];
  if (offset === undefined) return invalid(`Invalid Marker: ${String(marker).slice(0, 40)} was not given by IAM`);
  return {
    policySourceArn: source,
    actionNames: actions,
    resourceArns: resources.length > 0 ? resources : ['*'],
    maxItems: maxText === null ? DEFAULT_MAX_ITEMS : Number(maxText),
    offset: Number(offset),
  };
}

/** How the lab's IAM decides one action for a principal (set by a test). */
export interface LabPrincipal {
  /** Actions no policy allows: `implicitDeny`. */
  notAllowed?: ReadonlySet<string>;
  /** Actions a statement denies: `explicitDeny`. */
  denied?: ReadonlySet<string>;
}

/** [S] EvaluationResult.EvalDecision: "Valid Values: allowed | explicitDeny | implicitDeny". */
export type EvalDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

/** The decision for an action: an explicit deny wins over everything, no allow is an implicit deny. */
export function decide(principal: LabPrincipal, action: string): EvalDecision {
  if (principal.denied?.has(action)) return 'explicitDeny';
  if (principal.notAllowed?.has(action)) return 'implicitDeny';
  return 'allowed';
}

/** Whether a value is a refusal (not a request). */
export function isIamRefusal(value: SimulationRequest | IamRefusal): value is IamRefusal {
  return 'code' in value;
}
