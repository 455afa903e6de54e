/**
 * The documented contract of CloudWatch GetMetricData, as the lab's CloudWatch
 * endpoint enforces it (what CloudWatch refuses fails here too):
 *  [G] Amazon CloudWatch API Reference, GetMetricData:
 *      https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
 *  [Q] MetricDataQuery; [S] MetricStat; [M] Metric; [D] Dimension (same reference).
 *  [E] "Common Errors": InvalidParameterValue, MissingParameter (400).
 * Where AWS's behaviour is uncertain, the stricter reading is coded and says so.
 */

/** How CloudWatch refuses a request. */
export interface CloudWatchRefusal {
  code: 'InvalidParameterValue' | 'MissingParameter' | 'InvalidParameterCombination' | 'InvalidNextToken';
  status: number;
  message: string;
}

/** A GetMetricData request as the JSON 1.0 protocol carries it (times in epoch seconds). */
export interface GetMetricDataRequest {
  MetricDataQueries?: {
    Id?: string;
    MetricStat?: {
      Metric?: { Namespace?: string; MetricName?: string; Dimensions?: { Name?: string; Value?: string }[] };
      Period?: number;
      Stat?: string;
      Unit?: string;
    };
    Expression?: string;
    ReturnData?: boolean;
    Period?: number;
    Label?: string;
  }[];
  StartTime?: number;
  EndTime?: number;
  NextToken?: string;
  ScanBy?: string;
  MaxDatapoints?: number;
}

/** A GetMetricData answer as the JSON 1.0 protocol carries it (timestamps in epoch seconds), [G] Response Elements. */
export interface GetMetricDataAnswer {
  MetricDataResults: {
    Id: string;
    Label: string;
    Timestamps: number[];
    Values: number[];
    StatusCode: 'Complete' | 'PartialData' | 'InternalError' | 'Forbidden';
    Messages?: { Code?: string; Value?: string }[];
  }[];
  NextToken?: string;
  Messages: { Code?: string; Value?: string }[];
}

/** [G] "A single GetMetricData call can include as many as 500 MetricDataQuery structures." */
const MAX_QUERIES = 500;
/** [G] "a total of as many as 100,800 data points" per call. */
const MAX_DATAPOINTS = 100_800;
/**
 * [S] Period: "Valid Range: Minimum value of 1"; for metrics stored at 1-minute resolution "any multiple of 60" (1, 5,
 * 10, 30 only for high resolution).
 */
const HIGH_RESOLUTION_PERIODS = new Set([1, 5, 10, 20, 30]);
/** [S] Stat: the statistics and extended ones; elbscope's are the basic ones. */
const BASIC_STATS = new Set(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']);
const EXTENDED_STAT = /^(p|tm|wm|tc|ts|PR|TM|TC|TS|WM)\(?[\d.:%]+\)?$/;

const bad = (message: string): CloudWatchRefusal => ({ code: 'InvalidParameterValue', status: 400, message });
const missing = (message: string): CloudWatchRefusal => ({ code: 'MissingParameter', status: 400, message });

/** Check a GetMetricData request; null when CloudWatch would serve it. */
export function checkGetMetricData(req: GetMetricDataRequest): CloudWatchRefusal | null {
  // [G] MetricDataQueries, StartTime, EndTime: "Required: Yes".
  if (!Array.isArray(req.MetricDataQueries)) return missing('The parameter MetricDataQueries is required.');
  if (typeof req.StartTime !== 'number') return missing('The parameter StartTime is required.');
  if (typeof req.EndTime !== 'number') return missing('The parameter EndTime is required.');
  if (req.MetricDataQueries.length === 0) return bad('The collection MetricDataQueries must not be empty.');
  if (req.MetricDataQueries.length > MAX_QUERIES)
    return bad(`The collection MetricDataQueries must not have a size greater than ${MAX_QUERIES}.`);
  // [G] "The value of StartTime must be earlier than the value of EndTime."
  if (req.StartTime >= req.EndTime) return bad('The parameter StartTime must be less than the parameter EndTime.');
  if (req.ScanBy !== undefined && req.ScanBy !== 'TimestampDescending' && req.ScanBy !== 'TimestampAscending')
    return bad(`ScanBy must be TimestampDescending or TimestampAscending, not ${JSON.stringify(req.ScanBy)}.`);
  const ids = new Set<string>();
  let datapoints = 0;
  for (const q of req.MetricDataQueries) {
    // [Q] Id: "The first character must be a lowercase letter"; letters, numbers and underscore; 1-255.
    if (typeof q.Id !== 'string' || !/^[a-z][A-Za-z0-9_]{0,254}$/.test(q.Id))
      return bad(
        `Invalid metric data query Id ${JSON.stringify(q.Id)}: it must start with a lowercase letter and hold only letters, numbers and underscores (1-255).`,
      );
    // The Ids name the results: a repeated one could not be told apart (the stricter reading; AWS refuses duplicates).
    if (ids.has(q.Id)) return bad(`The metric data query Id ${q.Id} is used more than once.`);
    ids.add(q.Id);
    // [Q] "Within one MetricDataQuery object, you must specify either Expression or MetricStat but not both."
    if ((q.MetricStat === undefined) === (q.Expression === undefined))
      return {
        code: 'InvalidParameterCombination',
        status: 400,
        message: `Metric data query ${q.Id}: exactly one of MetricStat and Expression must be given.`,
      };
    if (!q.MetricStat) continue;
    const { Metric, Period, Stat } = q.MetricStat;
    if (!Metric?.Namespace || !Metric.MetricName)
      return missing(`Metric data query ${q.Id}: MetricStat.Metric needs Namespace and MetricName.`);
    // [M] Dimensions: "Array Members: Maximum number of 30 items"; [D] Name and Value 1-255 (Name), 1-1024 (Value).
    const dims = Metric.Dimensions ?? [];
    if (dims.length > 30) return bad(`Metric data query ${q.Id}: more than 30 dimensions.`);
    if (dims.some((d) => !d.Name || d.Name.length > 255 || !d.Value || d.Value.length > 1024))
      return bad(`Metric data query ${q.Id}: a dimension needs a Name (1-255) and a Value (1-1024).`);
    if (typeof Period !== 'number' || !Number.isInteger(Period) || Period < 1)
      return bad(`Metric data query ${q.Id}: Period must be a whole number of seconds, at least 1.`);
    // AWS/ELB metrics are standard resolution: a period under 60 is accepted only for high-resolution
    // custom metrics; the stricter reading refuses it for AWS namespaces.
    if (Period % 60 !== 0 && !(HIGH_RESOLUTION_PERIODS.has(Period) && !Metric.Namespace.startsWith('AWS/')))
      return bad(
        `Metric data query ${q.Id}: Period ${Period} must be a multiple of 60 for ${Metric.Namespace} metrics.`,
      );
    if (typeof Stat !== 'string' || !(BASIC_STATS.has(Stat) || EXTENDED_STAT.test(Stat)))
      return bad(`Metric data query ${q.Id}: ${JSON.stringify(Stat)} is not a statistic.`);
    datapoints += Math.ceil((req.EndTime - req.StartTime) / Period);
  }
  if (datapoints > MAX_DATAPOINTS)
    return bad(`The request would return ${datapoints} data points, more than ${MAX_DATAPOINTS}.`);
  if (req.MaxDatapoints !== undefined && (!Number.isInteger(req.MaxDatapoints) || req.MaxDatapoints < 1))
    return bad('MaxDatapoints must be a positive whole number.');
  return null;
}
