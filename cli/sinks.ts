import type { SNSClient } from '@aws-sdk/client-sns';
import { consoleSink, fileSink, snsSink, type AlertSink, type SnsSinkContext } from '../shared/alerts/sinks';
import { snsClient } from '../shared/aws/sns';
import { printable } from '../shared/errors';
import type { CliIo } from './io';

/** The alert sinks of a local run: the console always, a file with `--alert-file`, SNS when a topic is set. */
export function cliSinks(
  io: CliIo,
  options: { snsTopicArn?: string; alertFile?: string } & SnsSinkContext,
): { sinks: AlertSink[]; close(): void } {
  // An alert's line names a load balancer and a backend: escaped (printable), never a forged or reordered line.
  const sinks: AlertSink[] = [
    consoleSink((line) => io.out(printable(line))),
    ...(options.alertFile ? [fileSink(options.alertFile)] : []),
  ];
  let client: SNSClient | null = null;
  if (options.snsTopicArn) {
    client = snsClient(options.snsTopicArn);
    sinks.push(snsSink(client, options.snsTopicArn, { ...(options.regionOf ? { regionOf: options.regionOf } : {}) }));
  }
  return { sinks, close: () => client?.destroy() };
}
