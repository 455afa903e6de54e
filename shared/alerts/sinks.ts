import { appendFile } from 'node:fs/promises';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { ChainedEvent } from '../detect/state';
import { alertAttributes, alertBody, alertSubject, attributeBytes, fifoGroupId, SNS_LIMITS } from './format';

/** Where alerts go: SNS on AWS, the console or a file locally. */
export interface AlertSink {
  readonly description: string;
  /**
   * Publish one event; resolves with the message id (if any) or rejects. `delivered`
   * names the sinks that accepted this event in an earlier attempt: a composite sink
   * skips them, so a retry after an SNS failure does not repeat the console or file copy.
   */
  publish(event: ChainedEvent, delivered?: readonly string[]): Promise<{ messageId: string | null }>;
}

/** The Publish request elbscope sends for an event: within SNS's documented contract whatever the event holds. */
export function publishInput(topicArn: string, event: ChainedEvent) {
  const attributes = alertAttributes(event);
  return {
    TopicArn: topicArn,
    Subject: alertSubject(event),
    // The attributes count toward the 256 KB; the body gets what is left.
    Message: alertBody(event, SNS_LIMITS.messageBytes - attributeBytes(attributes)),
    MessageAttributes: attributes,
    // FIFO: the event id deduplicates a republish within SNS's 5-minute window; one ordered group per load balancer.
    ...(topicArn.endsWith('.fifo') ? { MessageDeduplicationId: event.id, MessageGroupId: fifoGroupId(event.loadBalancer) } : {}),
  };
}

/** SNS Publish to a topic (standard or FIFO). */
export function snsSink(sns: SNSClient, topicArn: string): AlertSink {
  return {
    description: `SNS ${topicArn}`,
    async publish(event) {
      const out = await sns.send(new PublishCommand(publishInput(topicArn, event)));
      // SNS always answers with a MessageId: without one the answer was not SNS's (a proxy page), so not a delivery.
      if (!out.MessageId) throw new Error(`Publish: HTTP ${out.$metadata?.httpStatusCode ?? '?'} answer has no MessageId: not an SNS Publish response`);
      return { messageId: out.MessageId };
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

/** A sink's failure, naming the sink; `cause` is what the sink threw (classified by shared/alerts/delivery.ts). */
export class SinkError extends Error {
  override name = 'SinkError';
  constructor(
    readonly sink: string,
    override readonly cause: unknown,
    message: string,
    /** The sinks that have accepted the event (this attempt or earlier): not to be sent it again. */
    readonly delivered: readonly string[] = [],
  ) {
    super(message);
  }
}

/**
 * Publish to several sinks, in order; fails if any fails, naming it and the sinks
 * that did accept (the outbox keeps those and retries only the rest).
 */
export function allSinks(sinks: AlertSink[]): AlertSink {
  return {
    description: sinks.map((s) => s.description).join(' + '),
    async publish(event, delivered = []) {
      let messageId: string | null = null;
      const accepted = [...delivered];
      for (const sink of sinks) {
        if (accepted.includes(sink.description)) continue;
        try {
          messageId = (await sink.publish(event)).messageId ?? messageId;
        } catch (err) {
          throw new SinkError(sink.description, err, `${sink.description}: ${err instanceof Error ? err.message : String(err)}`, accepted);
        }
        accepted.push(sink.description);
      }
      return { messageId };
    },
  };
}
