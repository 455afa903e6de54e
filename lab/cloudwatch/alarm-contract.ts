/**
 * The documented contract of CloudWatch's alarm calls, as the lab's CloudWatch endpoint enforces it (what CloudWatch
 * refuses fails here too). Quoted from the Amazon CloudWatch API Reference (and the SDK model, which carries it):
 *  [P] PutMetricAlarm: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
 *  [D] DescribeAlarms: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
 *  [X] DeleteAlarms: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html
 *  [T] TagResource: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_TagResource.html
 *  [Q] CloudWatch service quotas: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html
 *  [E] the SDK's error shapes (awsQueryError code and HTTP status): LimitExceeded 400, InvalidNextToken 400,
 *      ResourceNotFound 404 (DeleteAlarms), ResourceNotFoundException 404 (TagResource), InvalidParameterValue,
 *      InvalidParameterCombination and MissingParameter 400.
 * Where AWS is silent or vague, the stricter reading is coded and says so.
 */
import type { CloudWatchRefusal } from './contract';

/** An alarm refusal (the GetMetricData codes and the alarm calls' own). */
export interface AlarmRefusal {
  code: CloudWatchRefusal['code'] | 'LimitExceeded' | 'ResourceNotFound' | 'ResourceNotFoundException';
  status: number;
  message: string;
}

/** PutMetricAlarm as the JSON 1.0 protocol carries it. */
export interface PutMetricAlarmRequest {
  AlarmName?: string;
  AlarmDescription?: string;
  ActionsEnabled?: boolean;
  OKActions?: string[];
  AlarmActions?: string[];
  InsufficientDataActions?: string[];
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  ExtendedStatistic?: string;
  Dimensions?: { Name?: string; Value?: string }[];
  Period?: number;
  Unit?: string;
  EvaluationPeriods?: number;
  DatapointsToAlarm?: number;
  Threshold?: number;
  ComparisonOperator?: string;
  TreatMissingData?: string;
  EvaluateLowSampleCountPercentile?: string;
  Metrics?: unknown[];
  Tags?: { Key?: string; Value?: string }[];
  ThresholdMetricId?: string;
}

export interface DescribeAlarmsRequest {
  AlarmNames?: string[];
  AlarmNamePrefix?: string;
  AlarmTypes?: string[];
  ChildrenOfAlarmName?: string;
  ParentsOfAlarmName?: string;
  StateValue?: string;
  ActionPrefix?: string;
  MaxRecords?: number;
  NextToken?: string;
}

export interface DeleteAlarmsRequest {
  AlarmNames?: string[];
}

export interface TagResourceRequest {
  ResourceARN?: string;
  Tags?: { Key?: string; Value?: string }[];
}

/** [P] AlarmName: "Length Constraints: Minimum length of 1. Maximum length of 255." */
const MAX_ALARM_NAME = 255;
/**
 * [Q] "Alarms: 5,000 per Region per account" is the figure this lab holds to (AWS has since raised the default
 * quota; the lower, older figure is the stricter reading, and the one elbscope must stay under).
 */
export const MAX_ALARMS_PER_ACCOUNT_REGION = 5000;
/** [D] MaxRecords: "The maximum number of alarm descriptions to retrieve." Valid Range: 1-100 (default 50). */
const MAX_RECORDS = 100;
const DEFAULT_RECORDS = 50;
/** [X] "You can delete up to 100 alarms in one operation." */
const MAX_DELETE = 100;
/** [T] Tags: up to 50 per resource; a Key 1-128 characters, a Value 0-256. */
const MAX_TAGS = 50;

/** [P] ComparisonOperator: Valid Values (the last three are for anomaly detection models only). */
const OPERATORS = new Set([
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
  'LessThanLowerOrGreaterThanUpperThreshold',
  'LessThanLowerThreshold',
  'GreaterThanUpperThreshold',
]);
const ANOMALY_OPERATORS = new Set([
  'LessThanLowerOrGreaterThanUpperThreshold',
  'LessThanLowerThreshold',
  'GreaterThanUpperThreshold',
]);
/** [P] TreatMissingData: "Valid Values: breaching | notBreaching | ignore | missing". */
const MISSING_DATA = new Set(['breaching', 'notBreaching', 'ignore', 'missing']);
/** [P] Statistic: "SampleCount | Average | Sum | Minimum | Maximum". */
const STATISTICS = new Set(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']);
/** [D] StateValue: "OK | ALARM | INSUFFICIENT_DATA". */
const STATES = new Set(['OK', 'ALARM', 'INSUFFICIENT_DATA']);
/** [P] Period: "Valid values are 10, 20, 30, and any multiple of 60." */
const SUB_MINUTE_PERIODS = new Set([10, 20, 30]);
/**
 * [P] "An alarm's total current evaluation period can be no longer than seven days … For alarms with a period of less
 * than one hour (3,600 seconds), the total evaluation period can't be longer than one day (86,400 seconds)."
 */
const ONE_DAY = 86_400;
const SEVEN_DAYS = 604_800;

const bad = (message: string): AlarmRefusal => ({ code: 'InvalidParameterValue', status: 400, message });
const missing = (message: string): AlarmRefusal => ({ code: 'MissingParameter', status: 400, message });
const combination = (message: string): AlarmRefusal => ({ code: 'InvalidParameterCombination', status: 400, message });
const whole = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;
/** [P] names "must contain only UTF-8 characters, and can't contain ASCII control characters". */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Half a UTF-16 surrogate pair: no UTF-8 character (what a name cut through an emoji holds). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** An alarm name within [P]'s rules, or the refusal. */
function checkAlarmName(name: unknown, what = 'AlarmName'): AlarmRefusal | null {
  if (typeof name !== 'string' || name.length === 0) return missing(`The parameter ${what} is required.`);
  if (name.length > MAX_ALARM_NAME)
    return bad(`The parameter ${what} must be ${MAX_ALARM_NAME} characters or fewer (${name.length}).`);
  if (CONTROL.test(name)) return bad(`The parameter ${what} must not contain ASCII control characters.`);
  if (LONE_SURROGATE.test(name)) return bad(`The parameter ${what} must contain only UTF-8 characters.`);
  return null;
}

function checkTags(tags: unknown): AlarmRefusal | null {
  if (tags === undefined) return null;
  if (!Array.isArray(tags)) return bad('Tags must be a list.');
  if (tags.length > MAX_TAGS) return bad(`At most ${MAX_TAGS} tags.`);
  for (const t of tags as { Key?: unknown; Value?: unknown }[]) {
    if (typeof t?.Key !== 'string' || t.Key.length < 1 || t.Key.length > 128)
      return bad('A tag Key must be 1-128 characters.');
    if (typeof t.Value !== 'string' || t.Value.length > 256) return bad('A tag Value must be 0-256 characters.');
  }
  return null;
}

/** Check a PutMetricAlarm request (a metric alarm on one metric, or on a Metrics array); null when accepted. */
export function checkPutMetricAlarm(req: PutMetricAlarmRequest): AlarmRefusal | null {
  const name = checkAlarmName(req.AlarmName);
  if (name) return name;
  // [P] AlarmDescription: "Length Constraints: Minimum length of 0. Maximum length of 1024."
  if (
    req.AlarmDescription !== undefined &&
    (typeof req.AlarmDescription !== 'string' || req.AlarmDescription.length > 1024)
  )
    return bad('AlarmDescription must be at most 1024 characters.');
  // [P] EvaluationPeriods: "Required: Yes", "Valid Range: Minimum value of 1."
  if (req.EvaluationPeriods === undefined) return missing('The parameter EvaluationPeriods is required.');
  if (!whole(req.EvaluationPeriods, 1)) return bad('EvaluationPeriods must be a whole number, at least 1.');
  // [P] ComparisonOperator: "Required: Yes".
  if (req.ComparisonOperator === undefined) return missing('The parameter ComparisonOperator is required.');
  if (!OPERATORS.has(req.ComparisonOperator))
    return bad(`ComparisonOperator ${JSON.stringify(req.ComparisonOperator)} is not one of the valid values.`);
  // [P] DatapointsToAlarm: "Valid Range: Minimum value of 1"; it is the M of "M out of N", EvaluationPeriods the N.
  if (req.DatapointsToAlarm !== undefined) {
    if (!whole(req.DatapointsToAlarm, 1)) return bad('DatapointsToAlarm must be a whole number, at least 1.');
    if (req.DatapointsToAlarm > req.EvaluationPeriods)
      return bad(
        `DatapointsToAlarm (${req.DatapointsToAlarm}) must be less than or equal to EvaluationPeriods (${req.EvaluationPeriods}).`,
      );
  }
  if (req.TreatMissingData !== undefined && !MISSING_DATA.has(req.TreatMissingData))
    return bad(
      `TreatMissingData ${JSON.stringify(req.TreatMissingData)} is not breaching, notBreaching, ignore or missing.`,
    );
  for (const list of ['OKActions', 'AlarmActions', 'InsufficientDataActions'] as const) {
    const actions = req[list];
    // [P] "Array Members: Maximum number of 5 items"; each "Length Constraints: Minimum length of 1. Maximum length of 1024."
    if (
      actions !== undefined &&
      (!Array.isArray(actions) ||
        actions.length > 5 ||
        actions.some((a) => typeof a !== 'string' || a.length < 1 || a.length > 1024))
    )
      return bad(`${list} must hold at most 5 ARNs of 1-1024 characters.`);
  }
  const tags = checkTags(req.Tags);
  if (tags) return tags;
  const single = req.MetricName !== undefined;
  const math = req.Metrics !== undefined;
  // [P] "you must specify either MetricName, a Metrics array, or an EvaluationCriteria"; with Metrics "you cannot
  // include the Namespace, MetricName, Dimensions, Period, Unit, Statistic, or ExtendedStatistic parameters".
  if (single && math) return combination('MetricName and Metrics cannot both be given.');
  if (!single && !math) return missing('Either MetricName or Metrics is required.');
  if (math) {
    for (const p of ['Namespace', 'Dimensions', 'Period', 'Unit', 'Statistic', 'ExtendedStatistic'] as const)
      if (req[p] !== undefined)
        return combination(`${p} cannot be given with Metrics (give it inside the Metrics array).`);
    if (!Array.isArray(req.Metrics) || req.Metrics.length === 0) return bad('Metrics must be a non-empty list.');
    // One query returns the data the alarm watches ([P], "ReturnData to true for this object").
    const returning = (req.Metrics as { ReturnData?: unknown }[]).filter((m) => m?.ReturnData !== false);
    if (returning.length !== 1) return bad('Exactly one item of Metrics must have ReturnData true.');
  } else {
    if (typeof req.MetricName !== 'string' || req.MetricName.length < 1 || req.MetricName.length > 255)
      return bad('MetricName must be 1-255 characters.');
    if (typeof req.Namespace !== 'string' || req.Namespace.length < 1 || req.Namespace.length > 255)
      return missing('The parameter Namespace is required with MetricName (1-255 characters).');
    // [P] "you must specify either Statistic or ExtendedStatistic, but not both".
    if ((req.Statistic === undefined) === (req.ExtendedStatistic === undefined))
      return combination('Exactly one of Statistic and ExtendedStatistic must be given.');
    if (req.Statistic !== undefined && !STATISTICS.has(req.Statistic))
      return bad(`Statistic ${JSON.stringify(req.Statistic)} is not SampleCount, Average, Sum, Minimum or Maximum.`);
    const dims = req.Dimensions ?? [];
    // [P] Dimensions: "Maximum number of 30 items"; a Dimension's Name and Value 1-255 characters.
    if (!Array.isArray(dims) || dims.length > 30) return bad('At most 30 Dimensions.');
    if (
      dims.some(
        (d) =>
          typeof d?.Name !== 'string' ||
          !d.Name ||
          d.Name.length > 255 ||
          typeof d.Value !== 'string' ||
          !d.Value ||
          d.Value.length > 1024,
      )
    )
      return bad('A dimension needs a Name (1-255 characters) and a Value (1-1024).');
    // [P] "Period is required for alarms based on static thresholds"; "Valid values are 10, 20, 30, and any multiple of 60."
    if (req.Period === undefined) return missing('The parameter Period is required.');
    if (!whole(req.Period, 1) || !(SUB_MINUTE_PERIODS.has(req.Period) || req.Period % 60 === 0))
      return bad(`Period ${req.Period} is not valid: 10, 20, 30 or a multiple of 60.`);
    const total = req.Period * req.EvaluationPeriods;
    if (total > (req.Period < 3600 ? ONE_DAY : SEVEN_DAYS))
      return bad(
        `Period (${req.Period}) × EvaluationPeriods (${req.EvaluationPeriods}) = ${total} s is longer than ${req.Period < 3600 ? 'one day (86,400 s) for a period under an hour' : 'seven days (604,800 s)'}.`,
      );
  }
  // [P] Threshold "is required for alarms based on static thresholds"; the anomaly operators need a ThresholdMetricId.
  if (ANOMALY_OPERATORS.has(req.ComparisonOperator)) {
    if (req.ThresholdMetricId === undefined)
      return combination(`${req.ComparisonOperator} is for anomaly detection models (ThresholdMetricId).`);
  } else if (typeof req.Threshold !== 'number' || !Number.isFinite(req.Threshold))
    return missing('The parameter Threshold is required for a static threshold.');
  return null;
}

/** Check a DescribeAlarms request; null when accepted. `MaxRecords` defaults as [D] says. */
export function checkDescribeAlarms(req: DescribeAlarmsRequest): AlarmRefusal | null {
  // [D] AlarmNamePrefix: "If this parameter is specified, you cannot specify AlarmNames."
  if (req.AlarmNamePrefix !== undefined && req.AlarmNames !== undefined)
    return combination('AlarmNamePrefix and AlarmNames cannot both be given.');
  if (req.AlarmNamePrefix !== undefined) {
    const refusal = checkAlarmName(req.AlarmNamePrefix, 'AlarmNamePrefix');
    if (refusal) return refusal;
  }
  if (req.AlarmNames !== undefined) {
    // [D] AlarmNames: "Array Members: Maximum number of 100 items."
    if (!Array.isArray(req.AlarmNames) || req.AlarmNames.length > 100)
      return bad('AlarmNames holds at most 100 names.');
    for (const n of req.AlarmNames) {
      const refusal = checkAlarmName(n, 'AlarmNames member');
      if (refusal) return refusal;
    }
  }
  if (req.StateValue !== undefined && !STATES.has(req.StateValue))
    return bad(`StateValue ${JSON.stringify(req.StateValue)} is not OK, ALARM or INSUFFICIENT_DATA.`);
  if (req.MaxRecords !== undefined && (!whole(req.MaxRecords, 1) || req.MaxRecords > MAX_RECORDS))
    return bad(`MaxRecords must be from 1 to ${MAX_RECORDS}.`);
  if (
    req.AlarmTypes !== undefined &&
    (!Array.isArray(req.AlarmTypes) || req.AlarmTypes.some((t) => t !== 'CompositeAlarm' && t !== 'MetricAlarm'))
  )
    return bad('AlarmTypes holds CompositeAlarm or MetricAlarm.');
  // [D] with ChildrenOfAlarmName / ParentsOfAlarmName "you cannot specify any other parameters … except for
  // MaxRecords and NextToken"; the lab has no composite alarms: refused as a combination it does not serve.
  if (req.ChildrenOfAlarmName !== undefined || req.ParentsOfAlarmName !== undefined)
    return combination('ChildrenOfAlarmName / ParentsOfAlarmName: the lab serves no composite alarms.');
  return null;
}

/** Records a DescribeAlarms page holds. */
export function recordsOf(req: DescribeAlarmsRequest): number {
  return req.MaxRecords ?? DEFAULT_RECORDS;
}

/** Check a DeleteAlarms request; null when accepted. */
export function checkDeleteAlarms(req: DeleteAlarmsRequest): AlarmRefusal | null {
  // [X] AlarmNames: "Required: Yes", "Array Members: Maximum number of 100 items".
  if (!Array.isArray(req.AlarmNames)) return missing('The parameter AlarmNames is required.');
  if (req.AlarmNames.length > MAX_DELETE)
    return bad(`AlarmNames holds at most ${MAX_DELETE} names (${req.AlarmNames.length}).`);
  for (const n of req.AlarmNames) {
    const refusal = checkAlarmName(n, 'AlarmNames member');
    if (refusal) return refusal;
  }
  return null;
}

/** Check a TagResource request's shape (whether the resource exists is the server's to say); null when accepted. */
export function checkTagResource(req: TagResourceRequest): AlarmRefusal | null {
  // [T] ResourceARN and Tags: "Required: Yes"; ResourceARN 1-1024 characters.
  if (typeof req.ResourceARN !== 'string' || req.ResourceARN.length < 1 || req.ResourceARN.length > 1024)
    return missing('The parameter ResourceARN is required (1-1024 characters).');
  if (!Array.isArray(req.Tags)) return missing('The parameter Tags is required.');
  return checkTags(req.Tags);
}
