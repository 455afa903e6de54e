import { describeError } from '../errors';
import { parseWork, type WorkMessage } from './work';

/** An SQS record as the worker needs it. */
export interface QueueRecord {
  messageId: string;
  body: string;
}

/**
 * Process a batch of queue records one by one and report the ones that failed
 * (SQS partial batch response): a failed record returns to the queue and is
 * retried, then goes to the dead-letter queue; the others are deleted.
 */
export async function processWork(
  records: QueueRecord[],
  handle: (work: WorkMessage) => Promise<void>,
  warn: (message: string, data: Record<string, unknown>) => void,
): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of records) {
    const work = parseWork(record.body);
    if (!work.ok) {
      warn(work.error, { messageId: record.messageId });
      batchItemFailures.push({ itemIdentifier: record.messageId });
      continue;
    }
    try {
      await handle(work.value);
    } catch (err) {
      warn(`work message ${record.messageId} failed: ${describeError(err)}`, { messageId: record.messageId });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
