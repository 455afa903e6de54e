import { describeError } from '../errors';

/** One check of `elbscope doctor`: what was checked, whether it passed, and on failure why and what to do. */
export interface CheckResult {
  ok: boolean;
  /** What was checked (and on success what was found). */
  what: string;
  /** On failure: what went wrong. */
  why?: string;
  /** On failure: what to do about it. */
  fix?: string;
}

export const pass = (what: string): CheckResult => ({ ok: true, what });
export const fail = (what: string, why: string, fix: string): CheckResult => ({ ok: false, what, why, fix });

/** A check as one line: `✓ what`, or `✗ what: why — fix`. */
export function checkLine(check: CheckResult): string {
  return check.ok ? `✓ ${check.what}` : `✗ ${check.what}: ${check.why} — ${check.fix}`;
}

/** An AWS SDK error's code (its name), for deciding what a refusal means. */
export function errorCode(err: unknown): string {
  return err instanceof Error ? (((err as { Code?: unknown }).Code as string | undefined) ?? err.name) : '';
}

/** One line for a failure met while checking. */
export function why(err: unknown): string {
  return describeError(err);
}
