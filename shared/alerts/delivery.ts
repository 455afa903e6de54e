import { describeError } from '../errors';
import { SinkError } from './sinks';

/**
 * SNS Publish errors that no retry can fix (Amazon SNS API Reference, Publish,
 * "Errors"): the request or the topic is wrong, access is denied, or the topic's
 * KMS key cannot be used. KMSThrottling is not among them: it passes.
 */
const PERMANENT = new Set([
  'InvalidParameter',
  'InvalidParameterValue',
  'ParameterValueInvalid', // InvalidParameterValue's code on the wire
  'ValidationException',
  'AuthorizationError',
  'InvalidSecurity',
  'NotFound',
  'EndpointDisabled',
  'PlatformApplicationDisabled',
  'KMSAccessDenied',
  'KMSDisabled',
  'KMSInvalidState',
  'KMSNotFound',
  'KMSOptInRequired',
]);

/** What a failed delivery means for the outbox. */
export interface DeliveryFailure {
  /** True: the event is marked undeliverable (kept, shown, counted), never retried by itself. */
  permanent: boolean;
  /** One line naming the sink and the error, for the audit trail and logs. */
  reason: string;
  /** The service's error code where there is one (`InvalidParameter`), else the error's name. */
  code: string;
}

/**
 * Classify a publish failure. Throttling, 5xx, timeouts and network errors (and
 * anything unknown) are transient: retried with backoff. A documented permanent
 * SNS error is permanent. The SDK names modeled errors `<Code>Exception`
 * (`InvalidParameterException`); both spellings are understood. The reason
 * names the sink that failed (`sink`, or the one inside a combined sink).
 */
export function classifyDeliveryError(err: unknown, sink: string): DeliveryFailure {
  const cause = err instanceof SinkError ? err.cause : err;
  const name = cause instanceof Error ? cause.name : '';
  const code = name.endsWith('Exception') && name !== 'ValidationException' ? name.slice(0, -'Exception'.length) : name;
  const fault = (cause as { $fault?: string } | null)?.$fault;
  const permanent = PERMANENT.has(code) && fault !== 'server';
  const reason = `${err instanceof SinkError ? err.sink : sink}: ${describeError(cause)}`;
  return { permanent, reason, code: code || 'Error' };
}

/**
 * When a transiently failed event is tried again: after 1, 2, 4 … minutes,
 * at most `maxMs` (15 minutes) apart, so an outage costs a few calls, not one per cycle.
 */
export function retryDelayMs(attempts: number, maxMs = 15 * 60_000): number {
  return Math.min(maxMs, 60_000 * 2 ** Math.max(0, Math.min(attempts - 1, 20)));
}
