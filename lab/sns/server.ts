import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { readBody } from '../http-body';
import type { AddressInfo } from 'node:net';

/** One message as the local SNS endpoint received it. */
export interface ReceivedMessage {
  topicArn: string;
  subject: string | null;
  message: string;
  attributes: Record<string, string>;
  deduplicationId: string | null;
  messageId: string;
}

export interface SnsState {
  messages: ReceivedMessage[];
  /** Error codes to answer with, one per request, before serving normally. */
  failNext: { code: string; status: number; message: string }[];
}

/**
 * A local SNS Query-API endpoint answering Publish, for `AWS_ENDPOINT_URL_SNS`:
 * the real SDK serialises, sends and parses, and the test reads what arrived.
 */
export async function startSnsEndpoint(state: SnsState, host = '127.0.0.1'): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const params = new URLSearchParams(await readBody(req));
    const failure = state.failNext.shift();
    res.setHeader('content-type', 'text/xml');
    if (failure) {
      res.writeHead(failure.status).end(`<ErrorResponse><Error><Type>Sender</Type><Code>${failure.code}</Code><Message>${failure.message}</Message></Error><RequestId>lab</RequestId></ErrorResponse>`);
      return;
    }
    if (params.get('Action') !== 'Publish') {
      res.writeHead(400).end(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>only Publish</Message></Error></ErrorResponse>`);
      return;
    }
    const attributes: Record<string, string> = {};
    for (let i = 1; params.has(`MessageAttributes.entry.${i}.Name`); i++) {
      attributes[params.get(`MessageAttributes.entry.${i}.Name`) as string] = params.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? '';
    }
    const messageId = randomUUID();
    state.messages.push({
      topicArn: params.get('TopicArn') ?? '',
      subject: params.get('Subject'),
      message: params.get('Message') ?? '',
      attributes,
      deduplicationId: params.get('MessageDeduplicationId'),
      messageId,
    });
    res.writeHead(200).end(`<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>lab</RequestId></ResponseMetadata></PublishResponse>`);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
