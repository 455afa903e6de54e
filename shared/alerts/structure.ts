import type { ChainedEvent } from '../detect/state';
import { customNotification } from './chat';
import { alertBody, alertSubject, utf8Bytes } from './format';

/**
 * One Publish, a message per protocol (SNS `MessageStructure: json`, Publish reference: "send a different message for
 * each transport protocol"): `default` and `email` the readable text with the event's JSON (what e-mail, SQS, Lambda
 * and HTTP subscribers have always had), `sms` the subject line (a text message, not 256 KB cut into 1,600-character
 * pieces), and `https`, the protocol Amazon Q Developer in chat applications subscribes with, the custom notification
 * it renders as a card in Slack or Teams. Any other HTTPS subscriber gets that custom notification too.
 */
interface MessageParts {
  default: string;
  email: string;
  sms: string;
  https: string;
}

/**
 * The Publish `Message` for `MessageStructure: json`, at most `maxBytes` of UTF-8 (SNS's 256 KB less the
 * attributes). The text bodies get what the chat card and the JSON escaping leave; escaping can only lengthen a
 * body (quotes, newlines, `\uXXXX`), so each try shrinks the budget by what overflowed, and a last resort sizes the
 * bodies for the worst case (every character escaped to six).
 */
export function structuredMessage(
  event: ChainedEvent,
  maxBytes: number,
  context: { region?: string | null } = {},
): string {
  const https = JSON.stringify(customNotification(event, context));
  const sms = alertSubject(event);
  const build = (body: string) => JSON.stringify({ default: body, email: body, sms, https } satisfies MessageParts);
  const fixed = utf8Bytes(build(''));
  let budget = Math.floor((maxBytes - fixed) / 2);
  for (let attempt = 0; attempt < 4 && budget > 0; attempt++) {
    const message = build(alertBody(event, budget));
    const over = utf8Bytes(message) - maxBytes;
    if (over <= 0) return message;
    budget -= Math.ceil(over / 2) + 16;
  }
  const worst = Math.max(0, Math.floor((maxBytes - fixed) / 12));
  return build(alertBody(event, worst));
}
