import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WorkMessage } from './work';

/** SQS takes at most 10 messages per SendMessageBatch. */
const SQS_BATCH = 10;

/**
 * Put work messages on the queue, 10 per SendMessageBatch; entries SQS reports
 * as failed are sent once more, then named in the error (throttling and other
 * transient errors of whole calls are retried by the SDK).
 */
export async function enqueueWork(sqs: SQSClient, queueUrl: string, messages: WorkMessage[]): Promise<number> {
  let sent = 0;
  for (let i = 0; i < messages.length; i += SQS_BATCH) {
    let entries = messages.slice(i, i + SQS_BATCH).map((m, j) => ({ Id: String(i + j), MessageBody: JSON.stringify(m) }));
    for (let attempt = 0; attempt < 2 && entries.length > 0; attempt++) {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      sent += out.Successful?.length ?? 0;
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      if (failed.size > 0 && attempt === 1) {
        throw new Error(`SQS refused ${failed.size} work message(s): ${(out.Failed ?? []).map((f) => `${f.Id} ${f.Code}`).join(', ')}`);
      }
      entries = entries.filter((e) => failed.has(e.Id));
    }
  }
  return sent;
}
