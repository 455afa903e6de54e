import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { ChainedEvent } from '../detect/state';
import { guardedSink, type SinkCallOptions } from './sink-calls';
import { alertAttributes, alertSubject, attributeBytes, fifoGroupId, SNS_LIMITS } from './format';
import { structuredMessage } from './structure';

/** What a sink call is given besides the event. */
interface PublishOptions {
  /** Aborted when the call's deadline passes: a sink that can stop its work (an HTTP request) does. */
  signal?: AbortSignal;
}

/** Where alerts go: SNS on AWS, the console or a file locally. */
export interface AlertSink {
  /** Names the sink in messages, and keys its delivery state on an outbox entry: unique among the sinks of one run. */
  readonly description: string;
  /** Publish one event to this sink alone; resolves with the message id (if any) or rejects. */
  publish(event: ChainedEvent, options?: PublishOptions): Promise<{ messageId: string | null }>;
  /** The sinks a combined sink (allSinks) stands for: the outbox delivers to each on its own. */
  readonly members?: readonly AlertSink[];
}

/** What an SNS sink knows beyond the event: the region of a load balancer by its key (chat keywords), where known. */
export interface SnsSinkContext {
  regionOf?: (loadBalancer: string) => string | null;
}

/**
 * The Publish request elbscope sends for an event: within SNS's documented contract whatever the event holds, a
 * message per protocol (shared/alerts/structure.ts: plain text for e-mail, a custom notification for chat).
 */
export function publishInput(topicArn: string, event: ChainedEvent, context: SnsSinkContext = {}) {
  const attributes = alertAttributes(event);
  return {
    TopicArn: topicArn,
    Subject: alertSubject(event),
    MessageStructure: 'json',
    // The attributes count toward the 256 KB; the messages get what is left.
    Message: structuredMessage(event, SNS_LIMITS.messageBytes - attributeBytes(attributes), {
      region: context.regionOf?.(event.loadBalancer) ?? null,
    }),
    MessageAttributes: attributes,
    // FIFO: the event id deduplicates a republish within SNS's 5-minute window; one ordered group per load balancer.
    ...(topicArn.endsWith('.fifo')
      ? { MessageDeduplicationId: event.id, MessageGroupId: fifoGroupId(event.loadBalancer) }
      : {}),
  };
}

/** SNS Publish to a topic (standard or FIFO). */
export function snsSink(sns: SNSClient, topicArn: string, context: SnsSinkContext = {}): AlertSink {
  return {
    description: `SNS ${topicArn}`,
    async publish(event, options) {
      const out = await sns.send(
        new PublishCommand(publishInput(topicArn, event, context)),
        options?.signal ? { abortSignal: options.signal } : {},
      );
      // SNS always answers with a MessageId: without one the answer was not SNS's (a proxy page), so not a delivery.
      if (!out.MessageId)
        throw new Error(
          `Publish: HTTP ${out.$metadata?.httpStatusCode ?? '?'} answer has no MessageId: not an SNS Publish response`,
        );
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
 * Opened non-blocking: a FIFO nobody reads fails at once (ENXIO) instead of holding
 * a thread for ever; a FIFO or a device is never read back (reading a pipe would
 * take lines meant for its reader).
 */
export function fileSink(path: string): AlertSink {
  return {
    description: `file ${path}`,
    async publish(event) {
      const file = await open(
        path,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK,
        0o666,
      );
      try {
        if ((await file.stat()).isFile() && (await tailHolds(path, `"id":${JSON.stringify(event.id)}`)))
          return { messageId: null };
        await file.appendFile(`${JSON.stringify({ subject: alertSubject(event), event })}\n`);
      } finally {
        await file.close();
      }
      return { messageId: null };
    },
  };
}

/** How much of an alert file's end the file sink reads to find a line it appended already. */
const FILE_TAIL_BYTES = 64 * 1024;

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
 * Several sinks that deliver each on its own: the outbox keeps a delivery state per
 * member (delivered, failing with its own backoff, or given up) and never lets one
 * wait for another. Each member's call has a deadline (`options`; see sink-calls.ts).
 * Publishing through the combination itself (outside the outbox) tries every member
 * and fails, naming the first failure and the members that accepted, if any failed.
 */
export function allSinks(sinks: AlertSink[], options: SinkCallOptions = {}): AlertSink {
  const members = sinks.map((s) => guardedSink(s, options));
  return {
    description: sinks.map((s) => s.description).join(' + '),
    members,
    async publish(event) {
      let messageId: string | null = null;
      const accepted: string[] = [];
      let failed: { sink: string; err: unknown } | null = null;
      for (const sink of members) {
        try {
          messageId = (await sink.publish(event)).messageId ?? messageId;
          accepted.push(sink.description);
        } catch (err) {
          failed ??= { sink: sink.description, err };
        }
      }
      if (failed)
        throw new SinkError(
          failed.sink,
          failed.err,
          `${failed.sink}: ${failed.err instanceof Error ? failed.err.message : String(failed.err)}`,
          accepted,
        );
      return { messageId };
    },
  };
}
