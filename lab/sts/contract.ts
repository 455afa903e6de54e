/**
 * The documented contract of STS AssumeRole, as the lab's STS endpoint enforces it:
 *  [A] AWS STS API Reference, AssumeRole:
 *      https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 * and of GetCallerIdentity:
 *  [G] AWS STS API Reference, GetCallerIdentity:
 *      https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 */

export interface StsRefusal {
  code: string;
  status: number;
  message: string;
}

// [A] RoleArn: "Length Constraints: Minimum length of 20. Maximum length of 2048."
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
// [A] RoleSessionName: "Minimum length of 2. Maximum length of 64. Pattern: [\w+=,.@-]*"
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

const invalid = (message: string): StsRefusal => ({ code: 'ValidationError', status: 400, message });

/** Check an AssumeRole request (Query parameters); null when STS would take it. */
export function checkAssumeRole(params: URLSearchParams): StsRefusal | null {
  if (params.get('Action') !== 'AssumeRole')
    return {
      code: 'InvalidAction',
      status: 400,
      message: `Could not find operation ${params.get('Action') ?? '(none)'}`,
    };
  const roleArn = params.get('RoleArn') ?? '';
  if (roleArn.length < 20 || roleArn.length > 2048 || !ROLE_ARN.test(roleArn))
    return invalid(`1 validation error detected: Value '${roleArn}' at 'roleArn' failed to satisfy constraint`);
  const session = params.get('RoleSessionName') ?? '';
  if (!SESSION_NAME.test(session))
    return invalid(
      `1 validation error detected: Value '${session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  const duration = params.get('DurationSeconds');
  // [A] DurationSeconds: "Minimum value of 900. Maximum value of 43200."
  if (duration !== null && (!/^\d+$/.test(duration) || Number(duration) < 900 || Number(duration) > 43_200))
    return invalid(
      `1 validation error detected: Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`,
    );
  return null;
}

/**
 * Check a GetCallerIdentity request; null when STS would take it. [G] "Request Parameters: For information about
 * the parameters that are common to all actions, see Common Parameters": it has none of its own, so anything
 * beyond Action and Version is refused (the stricter reading: AWS does not say it ignores them).
 */
export function checkGetCallerIdentity(params: URLSearchParams): StsRefusal | null {
  const extra = [...params.keys()].find((k) => k !== 'Action' && k !== 'Version');
  return extra === undefined
    ? null
    : { code: 'InvalidParameterValue', status: 400, message: `GetCallerIdentity takes no parameter ${extra}` };
}
