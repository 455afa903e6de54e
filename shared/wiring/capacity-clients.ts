import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { createMetricsLookup } from '../capacity/cloudwatch';
import { createAlarmApi } from '../capacity/alarm-api';
import type { CapacityDeps } from '../capacity/observe';
import { createReservationLookup } from '../capacity/reservation';
import type { Config } from '../config/schema';
import { perRegionAndRole } from '../aws/per-region';
import { credentialsFor } from '../aws/credentials';
import { requestHandlerWith } from '../aws/deadlines';
import type { ElbApiClients } from '../nodes/own-name';

/**
 * CloudWatch and LCU-reservation lookups per region and role (the SDK's endpoint
 * variables apply; standard retries; elbscope's deadline per attempt), each part
 * only when the configuration reads it.
 */
export function capacityDeps(
  config: Config,
  elb: (region: string, roleArn?: string) => ElbApiClients,
  stage?: string,
): CapacityDeps {
  const client = perRegionAndRole(
    (region, roleArn) =>
      new CloudWatchClient({
        region,
        credentials: credentialsFor(roleArn, region),
        maxAttempts: 3,
        requestHandler: requestHandlerWith(),
      }),
  );
  return {
    metricsFor: config.capacity.cloudwatch.enabled
      ? (region, roleArn) => createMetricsLookup(client(region, roleArn), config.capacity.cloudwatch.metrics)
      : null,
    // capacity.mode "alarms": the alarm calls go through the same client, so another account's through its role.
    alarmsFor:
      config.capacity.cloudwatch.enabled && config.capacity.mode === 'alarms'
        ? (region, roleArn) => createAlarmApi(client(region, roleArn))
        : null,
    ...(stage ? { stage } : {}),
    reservationsFor:
      config.capacity.reservationEveryMinutes > 0
        ? (region, roleArn) => createReservationLookup(elb(region, roleArn).elbv2)
        : null,
  };
}
