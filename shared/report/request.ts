import { z } from 'zod';
import { formatIssues } from '../config/load';
import type { ReportFormat } from './render';

const iso = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'not an ISO date-time').transform((v) => new Date(v).toISOString());

const requestSchema = z.strictObject({
  loadBalancer: z.string().min(1),
  from: iso.optional(),
  to: iso.optional(),
  format: z.enum(['md', 'csv', 'json', 'html']).default('md'),
});

/** Validate a report request (the report function's event); one-line error naming the field. */
export function parseReportRequest(event: unknown): { ok: true; value: { loadBalancer: string; from?: string; to?: string; format: ReportFormat } } | { ok: false; error: string } {
  const result = requestSchema.safeParse(event);
  if (!result.success) return { ok: false, error: `report request: ${formatIssues(result.error.issues)}` };
  return { ok: true, value: result.data };
}
