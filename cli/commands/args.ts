import { InvalidArgumentError } from 'commander';
import { dnsNameSchema, dnsServerSchema, hostPortSchema, regionSchema } from '../../shared/config/schema';

/** Commander argument parsers: each rejects a bad value with one line naming it. */

export function intArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

export function dnsNameArg(value: string, previous: string[] | undefined): string[] {
  if (!dnsNameSchema.safeParse(value).success) throw new InvalidArgumentError(`"${value}" is not a valid DNS name`);
  return [...(previous ?? []), value];
}

export function hostPortArg<T>(then: (value: string, previous: T) => T) {
  return (value: string, previous: T): T => {
    if (!hostPortSchema.safeParse(value).success) throw new InvalidArgumentError(`"${value}" is not HOST or HOST:PORT`);
    return then(value, previous);
  };
}

/** `--dns-server`: an IP address with an optional port (node:dns takes no host names). */
export function dnsServerArg(value: string, previous: string[]): string[] {
  const parsed = dnsServerSchema.safeParse(value);
  if (!parsed.success)
    throw new InvalidArgumentError(`"${value}": ${parsed.error.issues[0]?.message ?? 'not IP:PORT'}`);
  return [...previous, value];
}

/** A value that must not be empty (`--store ''` would silently mean the working directory). */
export function nonEmptyArg(flag: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`${flag}: empty`);
    return value;
  };
}

export function regionArg(value: string): string {
  if (!regionSchema.safeParse(value).success)
    throw new InvalidArgumentError(`"${value}" is not an AWS region such as us-east-1`);
  return value;
}

/** An http(s) status page URL (repeatable). */
export function statusUrlArg(value: string, previous: string[]): string[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`"${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError(`"${value}" is not an http(s) URL`);
  return [...previous, value];
}

/** Accumulate a repeatable option. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--metrics-listen HOST:PORT`: where to serve OpenMetrics (`127.0.0.1:9464`, `[::1]:9464`); the port is required. */
export function listenArg(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535)
    throw new InvalidArgumentError(`"${value}" is not HOST:PORT (such as 127.0.0.1:9464)`);
  return { host: (m[1] ?? m[2]) as string, port };
}
