/**
 * One `make(region, roleArn)` per region and role, made on first use and kept: the
 * SDK clients and the lookups over them live as long as the process (a warm Lambda).
 */
export function perRegionAndRole<T>(
  make: (region: string, roleArn?: string) => T,
): (region: string, roleArn?: string) => T {
  const made = new Map<string, T>();
  return (region, roleArn) => {
    const key = `${region}|${roleArn ?? ''}`;
    let value = made.get(key);
    if (value === undefined) made.set(key, (value = make(region, roleArn)));
    return value;
  };
}
