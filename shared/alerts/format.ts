import type { ChainedEvent } from '../detect/state';

/** SNS limits a subject to under 100 characters, with no line breaks or control characters. */
export const MAX_SUBJECT = 99;

/** "elbscope: test us-east-1a scaled 1 → 3 nodes" (resolved conditions say so). */
export function alertSubject(event: ChainedEvent): string {
  const prefix = event.status === 'resolved' ? 'elbscope: resolved: ' : event.details.repeat ? 'elbscope: still: ' : 'elbscope: ';
  // eslint-disable-next-line no-control-regex
  const clean = `${prefix}${event.summary}`.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean.length <= MAX_SUBJECT ? clean : `${clean.slice(0, MAX_SUBJECT - 1)}…`;
}

/** A readable message body, then the full event as JSON (for machines and support cases). */
export function alertBody(event: ChainedEvent): string {
  const lines = [
    event.summary,
    '',
    `what:          ${event.kind}${event.status === 'event' ? '' : ` (${event.status})`}`,
    `load balancer: ${event.loadBalancer}`,
    ...(event.az ? [`AZ:            ${event.az}`] : []),
    ...(event.backend ? [`backend:       ${event.backend}`] : []),
    ...(event.from !== null || event.to !== null ? [`change:        ${event.from ?? '-'} → ${event.to ?? '-'}`] : []),
    `when:          ${event.at}`,
    `severity:      ${event.severity}`,
    `event id:      ${event.id} (audit record #${event.seq})`,
    '',
    '--- event (JSON) ---',
    JSON.stringify(event, null, 2),
  ];
  return lines.join('\n');
}

/** SNS message attributes, so subscribers can filter (`loadBalancer`, `kind`, `severity`, `az`). */
export function alertAttributes(event: ChainedEvent): Record<string, { DataType: 'String'; StringValue: string }> {
  const attrs: Record<string, { DataType: 'String'; StringValue: string }> = {
    loadBalancer: { DataType: 'String', StringValue: event.loadBalancer },
    kind: { DataType: 'String', StringValue: event.kind },
    severity: { DataType: 'String', StringValue: event.severity },
    status: { DataType: 'String', StringValue: event.status },
    eventId: { DataType: 'String', StringValue: event.id },
  };
  if (event.az) attrs.az = { DataType: 'String', StringValue: event.az };
  if (event.backend) attrs.backend = { DataType: 'String', StringValue: event.backend };
  return attrs;
}
