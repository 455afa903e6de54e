/**
 * A list an AWS API always sends, empty or not (`<networkInterfaceSet/>`,
 * `<LoadBalancerDescriptions/>`). When it is missing, the answer was not that
 * API's (an HTML proxy page, an empty 200, another document): an error naming the
 * call, never an empty result that would read as "none".
 */
export function apiList<T>(list: T[] | undefined, call: string, field: string): T[] {
  if (list === undefined) throw new Error(`${call}: the answer has no ${field}: not that API's response`);
  return list;
}
