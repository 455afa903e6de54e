import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WorkMessage } from './work';

/**
 * SendMessageBatch limits (Amazon SQS API Reference): at most 10 messages, and
 * 256 KiB (262,144 bytes) for the sum of their bodies. SQS has since allowed
 * 1 MiB, but a queue's MaximumMessageSize can be lower: elbscope keeps to 256 KiB.
 */
const SQS_BATCH = { entries: 10, bytes: 262_144 } as const;

/**
 * Group bodies into SendMessageBatch calls within both limits, in order; a body over the byte limit alone is an error
 * naming it.
 */
export function packBatches(
  bodies: string[],
  limits: { entries: number; bytes: number } = SQS_BATCH,
): { index: number; body: string }[][] {
  const calls: { index: number; body: string }[][] = [];
  let current: { index: number; body: string }[] = [];
  let size = 0;
  bodies.forEach((body, index) => {
    const bytes = Buffer.byteLength(body, 'utf8');
    if (bytes > limits.bytes)
      throw new Error(`work message ${index} is ${bytes} bytes, over SQS's ${limits.bytes}: lower fanout.batchSize`);
    if (current.length === limits.entries || size + bytes > limits.bytes) {
      calls.push(current);
      current = [];
      size = 0;
    }
    current.push({ index, body });
    size += bytes;
  });
  if (current.length > 0) calls.push(current);
  return calls;
}

/**
 * Put work messages on the queue, packed into SendMessageBatch calls within
 * SQS's limits; entries SQS reports as failed are sent once more, then named in
 * the error (throttling and other transient errors of whole calls are retried by the SDK).
 */
export async function enqueueWork(sqs: SQSClient, queueUrl: string, messages: WorkMessage[]): Promise<number> {
  let sent = 0;
  for (const call of packBatches(messages.map((m) => JSON.stringify(m)))) {
    let entries = call.map(({ index, body }) => ({ Id: String(index), MessageBody: body }));
    for (let attempt = 0; attempt < 2 && entries.length > 0; attempt++) {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      // SQS accounts for every entry, as sent or failed: anything less was not SQS's answer, and nothing may go missing
      // silently.
      if ((out.Successful?.length ?? 0) + (out.Failed?.length ?? 0) !== entries.length) {
        throw new Error(
          `SendMessageBatch: the answer accounts for ${(out.Successful?.length ?? 0) + (out.Failed?.length ?? 0)} of ${entries.length} work messages: not an SQS response`,
        );
      }
      sent += out.Successful?.length ?? 0;
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      if (failed.size > 0 && attempt === 1) {
        throw new Error(
          `SQS refused ${failed.size} work message(s): ${(out.Failed ?? []).map((f) => `${f.Id} ${f.Code}`).join(', ')}`,
        );
      }
      entries = entries.filter((e) => failed.has(e.Id));
    }
  }
  return sent;
}
