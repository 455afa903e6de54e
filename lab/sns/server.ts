import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { closeHttp } from '../ports';
import { readBody } from '../http-body';
import type { AddressInfo } from 'node:net';
import { checkPublish, publishFromQuery, type SnsRefusal } from './publish-contract';
import { checkGetTopicAttributes, topicAttributesXml, type TopicAccess } from './topic-attributes';

/** One message as the local SNS endpoint received it. */
interface ReceivedMessage {
  topicArn: string;
  subject: string | null;
  /** The Publish `Message` as sent (with `MessageStructure: json`, the JSON of a message per protocol). */
  message: string;
  /** With `MessageStructure: json`: the message per protocol key, as the contract accepted it; else null. */
  structure: Record<string, string> | null;
  attributes: Record<string, string>;
  deduplicationId: string | null;
  groupId: string | null;
  messageId: string;
}

export interface SnsState extends TopicAccess {
  /** Messages accepted and delivered (a FIFO duplicate is accepted but not delivered, as SNS does). */
  messages: ReceivedMessage[];
  /** Error codes to answer with, one per request, before serving normally. */
  failNext: SnsRefusal[];
  /**
   * Requests to hold unanswered, one per request, after `failNext` (a hanging SNS): each
   * held request is told to `onHang`; `close()` drops them, as does a client that gives up.
   */
  hangNext?: number;
  onHang?: () => void;
  /** Requests refused by the Publish contract, with the refusal (for assertions). */
  refused?: { request: Record<string, string>; refusal: SnsRefusal }[];
  /** Clock for FIFO deduplication windows (default: the wall clock). */
  now?: () => number;
}

/**
 * What a subscriber of `protocol` (email, https, sqs, …) is sent: its own key of a `MessageStructure: json` message,
 * else `default` (Publish: "default" is what protocols without a key of their own get), else the message itself.
 */
export function deliveredTo(message: ReceivedMessage, protocol: string): string {
  return message.structure ? (message.structure[protocol] ?? (message.structure.default as string)) : message.message;
}

/**
 * [P] "subsequent messages … with the same MessageDeduplicationId, are accepted successfully but aren't delivered"
 * within 5 minutes.
 */
const DEDUPLICATION_MS = 5 * 60_000;
const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

function errorXml(refusal: SnsRefusal, requestId: string): string {
  const type = refusal.status >= 500 ? 'Receiver' : 'Sender';
  const text = refusal.message.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] as string);
  return `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${refusal.code}</Code><Message>${text}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

/**
 * A local SNS Query-API endpoint answering Publish, for `AWS_ENDPOINT_URL_SNS`:
 * the real SDK serialises, sends and parses, and the test reads what arrived.
 * Every request is held to SNS's documented Publish contract
 * (lab/sns/publish-contract.ts) and refused as SNS refuses it.
 */
export async function startSnsEndpoint(
  state: SnsState,
  host = '127.0.0.1',
): Promise<{ url: string; close(): Promise<void> }> {
  const seen = new Map<string, number>(); // topic + deduplication id -> accepted at
  const server = createServer(async (req, res) => {
    const params = new URLSearchParams(await readBody(req));
    const requestId = randomUUID();
    res.setHeader('content-type', 'text/xml');
    const refuse = (refusal: SnsRefusal) => res.writeHead(refusal.status).end(errorXml(refusal, requestId));
    const failure = state.failNext.shift();
    if (failure) return refuse(failure);
    if ((state.hangNext ?? 0) > 0) {
      state.hangNext = (state.hangNext ?? 0) - 1;
      state.onHang?.();
      return;
    }
    if (params.get('Action') === 'GetTopicAttributes') {
      // Held to its documented contract (lab/sns/topic-attributes.ts).
      const refusal = checkGetTopicAttributes(params, state);
      if (refusal) return refuse(refusal);
      return res.writeHead(200).end(topicAttributesXml(params.get('TopicArn') as string, requestId));
    }
    if (params.get('Action') !== 'Publish')
      return refuse({
        code: 'InvalidAction',
        status: 400,
        message: `The action ${params.get('Action') ?? '(none)'} is not valid for this endpoint.`,
      });
    const input = publishFromQuery(params);
    const refusal = checkPublish(input, state);
    if (refusal) {
      state.refused?.push({ request: Object.fromEntries(params), refusal });
      return refuse(refusal);
    }
    const messageId = randomUUID();
    const topicArn = input.TopicArn as string;
    const now = state.now?.() ?? Date.now();
    const dedupKey = input.MessageDeduplicationId ? `${topicArn}\n${input.MessageDeduplicationId}` : null;
    const duplicate = dedupKey !== null && now - (seen.get(dedupKey) ?? Number.NEGATIVE_INFINITY) < DEDUPLICATION_MS;
    if (dedupKey && !duplicate) seen.set(dedupKey, now);
    if (!duplicate) {
      state.messages.push({
        topicArn,
        subject: input.Subject ?? null,
        message: input.Message as string,
        structure:
          input.MessageStructure === 'json' ? (JSON.parse(input.Message as string) as Record<string, string>) : null,
        attributes: Object.fromEntries(
          Object.entries(input.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? '']),
        ),
        deduplicationId: input.MessageDeduplicationId ?? null,
        groupId: input.MessageGroupId ?? null,
        messageId,
      });
    }
    res
      .writeHead(200)
      .end(
        `<PublishResponse xmlns="${XMLNS}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
      );
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () => closeHttp(server),
  };
}
