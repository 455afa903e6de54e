import { appendFile } from 'node:fs/promises';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { ChainedEvent } from '../detect/state';
import { alertAttributes, alertBody, alertSubject } from './format';

/** Where alerts go: SNS on AWS, the console or a file locally. */
export interface AlertSink {
  readonly description: string;
  /** Publish one event; resolves with the message id (if any) or rejects. */
  publish(event: ChainedEvent): Promise<{ messageId: string | null }>;
}

/**
 * SNS Publish. FIFO topics (`.fifo`) get the event id as deduplication id, so a
 * republish within SNS's 5-minute window is dropped, and the load balancer as
 * message group, so its alerts stay in order.
 */
export function snsSink(sns: SNSClient, topicArn: string): AlertSink {
  const fifo = topicArn.endsWith('.fifo');
  return {
    description: `SNS ${topicArn}`,
    async publish(event) {
      const out = await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: alertSubject(event),
          Message: alertBody(event),
          MessageAttributes: alertAttributes(event),
          ...(fifo ? { MessageDeduplicationId: event.id, MessageGroupId: event.loadBalancer } : {}),
        }),
      );
      return { messageId: out.MessageId ?? null };
    },
  };
}

/** Print each alert's subject as a line (the local twin of SNS). */
export function consoleSink(write: (line: string) => void): AlertSink {
  return {
    description: 'console',
    async publish(event) {
      write(`ALERT ${event.at} ${alertSubject(event)}`);
      return { messageId: null };
    },
  };
}

/** Append each alert as one JSON line to a file. */
export function fileSink(path: string): AlertSink {
  return {
    description: `file ${path}`,
    async publish(event) {
      await appendFile(path, `${JSON.stringify({ subject: alertSubject(event), event })}\n`);
      return { messageId: null };
    },
  };
}

/** Publish to several sinks; fails if any fails (the outbox retries the event). */
export function allSinks(sinks: AlertSink[]): AlertSink {
  return {
    description: sinks.map((s) => s.description).join(' + '),
    async publish(event) {
      let messageId: string | null = null;
      for (const sink of sinks) messageId = (await sink.publish(event)).messageId ?? messageId;
      return { messageId };
    },
  };
}
