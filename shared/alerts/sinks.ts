import { appendFile, open, type FileHandle } from 'node:fs/promises';
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
   * `onAccepted` is told (and awaited) each time a sink accepts while others remain:
   * the outbox keeps the list, so a crash before the next sink repeats none of them.
   */
  publish(event: ChainedEvent, delivered?: readonly string[], onAccepted?: (delivered: readonly string[]) => Promise<void>): Promise<{ messageId: string | null }>;
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

/**
 * Append each alert as one JSON line to a file — once: an event whose line is
 * already at the file's end (a process killed after appending it, before the outbox
 * noted the delivery) is not appended again. Only the last FILE_TAIL_BYTES are
 * read (an event line longer than that could be repeated; elbscope's are ~2 KB).
 */
export function fileSink(path: string): AlertSink {
  return {
    description: `file ${path}`,
    async publish(event) {
      if (await tailHolds(path, `"id":${JSON.stringify(event.id)}`)) return { messageId: null };
      await appendFile(path, `${JSON.stringify({ subject: alertSubject(event), event })}\n`);
      return { messageId: null };
    },
  };
}

/** How much of an alert file's end the file sink reads to find a line it appended already. */
export const FILE_TAIL_BYTES = 64 * 1024;

/** Whether the last FILE_TAIL_BYTES of `path` hold `needle` (no file: no). */
async function tailHolds(path: string, needle: string): Promise<boolean> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const { size } = await file.stat();
    const length = Math.min(size, FILE_TAIL_BYTES);
    const { buffer, bytesRead } = await file.read(Buffer.alloc(length), 0, length, size - length);
    return buffer.subarray(0, bytesRead).toString('utf8').includes(needle);
  } finally {
    await file.close();
  }
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
    async publish(event, delivered = [], onAccepted) {
      let messageId: string | null = null;
      const accepted = [...delivered];
      const remaining = sinks.filter((s) => !accepted.includes(s.description));
      for (const [i, sink] of remaining.entries()) {
        try {
          messageId = (await sink.publish(event)).messageId ?? messageId;
        } catch (err) {
          throw new SinkError(sink.description, err, `${sink.description}: ${err instanceof Error ? err.message : String(err)}`, accepted);
        }
        accepted.push(sink.description);
        // After the last one the receipt follows: no mark needed.
        if (i < remaining.length - 1) await onAccepted?.(accepted);
      }
      return { messageId };
    },
  };
}
