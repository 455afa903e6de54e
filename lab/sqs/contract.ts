/**
 * The documented contract of SQS SendMessageBatch, as the lab's SQS endpoint
 * enforces it:
 *  [B] Amazon SQS API Reference, SendMessageBatch:
 *      https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
 *  [M] SendMessage, MessageBody: "A message can include only XML, JSON, and unformatted text.
 *      The following Unicode characters are allowed … #x9 | #xA | #xD | #x20 to #xD7FF |
 *      #xE000 to #xFFFD | #x10000 to #x10FFFF".
 * Where AWS's behaviour is uncertain, the stricter reading is coded and says so.
 */

export interface SqsRefusal {
  code: string;
  status: number;
  message: string;
}

/**
 * [B] "The maximum allowed individual message size and the maximum total payload
 * size (the sum of the individual lengths of all of the batched messages) are both
 * 256 KiB (262,144 bytes)". SQS raised its limit to 1 MiB in 2025, but a queue's
 * MaximumMessageSize may be set lower and older documents say 256 KiB: the stricter
 * reading is coded.
 */
const MAX_BATCH_BYTES = 262_144;
/** [B] "You can send up to 10 messages" (TooManyEntriesInBatchRequest). */
const MAX_BATCH_ENTRIES = 10;

// [B] Id: "can contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."
const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
// [M] the characters a body may hold.
// eslint-disable-next-line no-control-regex
const FORBIDDEN =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const refuse = (code: string, message: string): SqsRefusal => ({ code, status: 400, message });

/** Check a SendMessageBatch request (JSON protocol input); null when SQS would take it. */
export function checkSendMessageBatch(input: {
  QueueUrl?: string;
  Entries?: { Id?: string; MessageBody?: string }[];
}): SqsRefusal | null {
  if (!input.QueueUrl) return refuse('MissingParameter', 'The request must contain the parameter QueueUrl.');
  const entries = input.Entries ?? [];
  if (entries.length === 0)
    return refuse('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
  if (entries.length > MAX_BATCH_ENTRIES)
    return refuse(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`,
    );
  const ids = new Set<string>();
  let bytes = 0;
  for (const e of entries) {
    if (!e.Id || !ENTRY_ID.test(e.Id))
      return refuse(
        'InvalidBatchEntryId',
        `A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.`,
      );
    if (ids.has(e.Id)) return refuse('BatchEntryIdsNotDistinct', `Id ${e.Id} repeated.`);
    ids.add(e.Id);
    if (!e.MessageBody)
      return refuse('MissingParameter', `The request must contain the parameter MessageBody for entry ${e.Id}.`);
    // Stricter reading: a body with a forbidden character fails the whole call, not only its entry.
    if (FORBIDDEN.test(e.MessageBody))
      return refuse('InvalidMessageContents', `Invalid characters found in the message body of entry ${e.Id}.`);
    bytes += Buffer.byteLength(e.MessageBody, 'utf8');
  }
  if (bytes > MAX_BATCH_BYTES)
    return refuse(
      'BatchRequestTooLong',
      `Batch requests cannot be longer than ${MAX_BATCH_BYTES} bytes. You have sent ${bytes} bytes.`,
    );
  return null;
}
