/**
 * The documented contract of EC2 DescribeNetworkInterfaces, as the lab's EC2
 * endpoint enforces it (so what EC2 refuses fails here too):
 *  [D] Amazon EC2 API Reference, DescribeNetworkInterfaces:
 *      https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNetworkInterfaces.html
 *  [E] Amazon EC2 API Reference, "Error codes for the Amazon EC2 API".
 *  [R] the DryRun request parameter every EC2 action takes (DescribeNetworkInterfaces' "DryRun", Type: Boolean).
 * Where AWS's behaviour is uncertain, the stricter reading is coded and says so.
 */

/** How EC2 refuses a request. */
export interface Ec2Refusal {
  code: string;
  status: number;
  message: string;
}

// [D] "Filter.N": the filters this call documents (a filter EC2 does not know is an error).
const FILTERS = new Set([
  'association.allocation-id',
  'association.association-id',
  'association.ip-owner-id',
  'association.public-ip',
  'association.public-dns-name',
  'attachment.attachment-id',
  'attachment.attach-time',
  'attachment.delete-on-termination',
  'attachment.device-index',
  'attachment.instance-id',
  'attachment.instance-owner-id',
  'attachment.status',
  'availability-zone',
  'description',
  'group-id',
  'group-name',
  'ipv6-addresses.ipv6-address',
  'interface-type',
  'mac-address',
  'network-interface-id',
  'owner-id',
  'private-dns-name',
  'private-ip-address',
  'requester-id',
  'requester-managed',
  'source-dest-check',
  'status',
  'subnet-id',
  'vpc-id',
  'addresses.private-ip-address',
  'addresses.primary',
  'addresses.association.public-ip',
  'addresses.association.owner-id',
]);

/**
 * EC2 answers `FilterLimitExceeded: The maximum number of filter values specified
 * on a single call is 200` ([E]: "The request uses too many filters or too many
 * filter values"). AWS does not document whether 200 counts per filter or per
 * call; its message says per call, so the stricter reading is coded: 200 values
 * across all filters of one request.
 */
const MAX_FILTER_VALUES_PER_CALL = 200;

const invalidValue = (message: string): Ec2Refusal => ({ code: 'InvalidParameterValue', status: 400, message });

/** Check a DescribeNetworkInterfaces request (Query parameters); null when EC2 would serve it. */
export function checkDescribeNetworkInterfaces(params: Record<string, string>): Ec2Refusal | null {
  if (params.MaxResults !== undefined) {
    // [D] MaxResults: "Valid Range: Minimum value of 5. Maximum value of 1000."
    const n = Number(params.MaxResults);
    if (!/^\d+$/.test(params.MaxResults) || n < 5 || n > 1000)
      return invalidValue(
        `Value ( ${params.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
      );
    // [D] "You cannot specify this parameter and the network interface IDs parameter in the same request."
    if (Object.keys(params).some((k) => k.startsWith('NetworkInterfaceId.')))
      return {
        code: 'InvalidParameterCombination',
        status: 400,
        message: 'The parameter NetworkInterfaceIds cannot be used with the parameter MaxResults',
      };
  }
  // [R] DryRun: "Type: Boolean": the Query API writes one as true or false, nothing else.
  if (params.DryRun !== undefined && params.DryRun !== 'true' && params.DryRun !== 'false')
    return invalidValue(`Value (${params.DryRun}) for parameter dryRun is invalid. Expected: 'true' or 'false'.`);
  let values = 0;
  for (const [key, name] of Object.entries(params)) {
    const m = /^Filter\.(\d+)\.Name$/.exec(key);
    if (!m) continue;
    if (!FILTERS.has(name) && !name.startsWith('tag:') && name !== 'tag-key')
      return invalidValue(`The filter '${name}' is invalid`);
    const own = Object.keys(params).filter((k) => k.startsWith(`Filter.${m[1]}.Value.`)).length;
    if (own === 0) return invalidValue(`The filter '${name}' has no values`);
    values += own;
  }
  if (values > MAX_FILTER_VALUES_PER_CALL)
    return {
      code: 'FilterLimitExceeded',
      status: 400,
      message: `The maximum number of filter values specified on a single call is ${MAX_FILTER_VALUES_PER_CALL}`,
    };
  if (params.NextToken !== undefined && !/^\d+$/.test(params.NextToken))
    return invalidValue(`Invalid value '${params.NextToken}' for nextToken`);
  return null;
}
