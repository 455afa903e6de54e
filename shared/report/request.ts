import * as z from 'zod/mini';
import { formatIssues } from '../config/load';
import { nonEmpty } from '../config/schema';
import type { ReportFormat } from './render';

const iso = z.pipe(
  z.string().check(z.refine((v) => !Number.isNaN(Date.parse(v)), 'not an ISO date-time')),
  z.transform((v) => new Date(v).toISOString()),
);

const requestSchema = z.strictObject({
  loadBalancer: nonEmpty(),
  from: z.optional(iso),
  to: z.optional(iso),
  format: z._default(z.enum(['md', 'csv', 'json', 'html']), 'md'),
});

/** Validate a report request (the report function's event); one-line error naming the field. */
export function parseReportRequest(
  event: unknown,
):
  | { ok: true; value: { loadBalancer: string; from?: string; to?: string; format: ReportFormat } }
  | { ok: false; error: string } {
  const result = requestSchema.safeParse(event);
  if (!result.success) return { ok: false, error: `report request: ${formatIssues(result.error.issues)}` };
  return { ok: true, value: result.data };
}
