import { InvalidArgumentError } from 'commander';

/** `250ms`, `5s`, `2m` (or a bare number of seconds) → milliseconds. */
export function durationArg(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not a duration such as 500ms, 5s or 2m`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  if (ms < 10 || ms > 86_400_000) throw new InvalidArgumentError(`"${value}" must be between 10ms and 24h`);
  return ms;
}
