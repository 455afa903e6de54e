import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { closeHttp } from '../ports';
import { readBody } from '../http-body';
import { checkSendMessageBatch } from './contract';
import type { AddressInfo } from 'node:net';

const QUERY_PREFIXED = new Set([
  'BatchEntryIdsNotDistinct',
  'BatchRequestTooLong',
  'EmptyBatchRequest',
  'InvalidBatchEntryId',
  'TooManyEntriesInBatchRequest',
]);

/** A message as the local SQS endpoint received it. */
export interface QueuedMessage {
  queueUrl: string;
  messageId: string;
  body: string;
}

/**
 * A local SQS endpoint answering SendMessageBatch in the JSON protocol the SDK
 * speaks (`X-Amz-Target: AmazonSQS.SendMessageBatch`), with real MD5 digests so
 * the SDK's checksum validation runs, refusing what SQS's documented contract
 * refuses (lab/sqs/contract.ts). For `AWS_ENDPOINT_URL_SQS`.
 */
export async function startSqsEndpoint(
  messages: QueuedMessage[],
  host = '127.0.0.1',
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const input = JSON.parse((await readBody(req)) || '{}') as {
      QueueUrl?: string;
      Entries?: { Id: string; MessageBody: string }[];
    };
    res.setHeader('content-type', 'application/x-amz-json-1.0');
    if (target !== 'AmazonSQS.SendMessageBatch') {
      res.writeHead(400).end(
        JSON.stringify({
          __type: 'com.amazonaws.sqs#InvalidAction',
          message: `only SendMessageBatch, not ${target}`,
        }),
      );
      return;
    }
    // Held to SendMessageBatch's documented contract (lab/sqs/contract.ts).
    const refusal = checkSendMessageBatch(input);
    if (refusal) {
      // The query-compatible error code SQS sends beside the JSON error (the SDK's model names which carry the prefix).
      const queryCode = QUERY_PREFIXED.has(refusal.code) ? `AWS.SimpleQueueService.${refusal.code}` : refusal.code;
      res.setHeader('x-amzn-query-error', `${queryCode};Sender`);
      res
        .writeHead(refusal.status)
        .end(JSON.stringify({ __type: `com.amazonaws.sqs#${refusal.code}`, message: refusal.message }));
      return;
    }
    const successful = (input.Entries ?? []).map((e) => {
      const messageId = randomUUID();
      messages.push({ queueUrl: input.QueueUrl ?? '', messageId, body: e.MessageBody });
      return {
        Id: e.Id,
        MessageId: messageId,
        MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex'),
      };
    });
    res.writeHead(200).end(JSON.stringify({ Successful: successful, Failed: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, close: () => closeHttp(server) };
}
