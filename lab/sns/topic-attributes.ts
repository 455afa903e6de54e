import { escapeXml } from '../xml';
import type { SnsRefusal, TopicFacts } from './publish-contract';

/**
 * The documented contract of SNS GetTopicAttributes, as the lab's SNS endpoint enforces it:
 *  [G] Amazon SNS API Reference, GetTopicAttributes:
 *      https://docs.aws.amazon.com/sns/latest/api/API_GetTopicAttributes.html
 *  [E] its Errors: AuthorizationError (403) "Indicates that the user has been denied access to the requested
 *      resource", InvalidParameter (400) "Indicates that a request parameter does not comply with the associated
 *      constraints", NotFound (404) "Indicates that the requested resource does not exist", InternalError (500).
 * Read-only: it publishes nothing, which is why `elbscope doctor` asks it.
 */

/** What the lab knows of its topics beyond their existence. */
export interface TopicAccess extends TopicFacts {
  /** Topics the caller may not read (nor publish to): AuthorizationError. */
  unauthorized?: ReadonlySet<string>;
}

// [G] TopicArn: "The ARN of the topic whose properties you want to get. Required: Yes"; a topic ARN is
// arn:<partition>:sns:<region>:<account>:<name>, names "up to 256 characters", FIFO names ending ".fifo".
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,251}(\.fifo)?$/;

/** Check a GetTopicAttributes request (Query parameters); null when SNS would answer it. */
export function checkGetTopicAttributes(params: URLSearchParams, access: TopicAccess): SnsRefusal | null {
  const topic = params.get('TopicArn');
  if (topic === null || topic === '')
    return { code: 'InvalidParameter', status: 400, message: 'Invalid parameter: TopicArn' };
  if (!TOPIC_ARN.test(topic))
    return { code: 'InvalidParameter', status: 400, message: 'Invalid parameter: Topic Name' };
  // [E] AuthorizationError before NotFound: SNS does not tell a caller without access whether a topic exists
  // (the stricter reading).
  if (access.unauthorized?.has(topic))
    return {
      code: 'AuthorizationError',
      status: 403,
      message: `User is not authorized to perform: SNS:GetTopicAttributes on resource: ${topic}`,
    };
  if (access.topics && !access.topics.has(topic))
    return { code: 'NotFound', status: 404, message: 'Topic does not exist' };
  return null;
}

/** The answer for a topic that exists: [G] "Attributes … A map of the topic's attributes" (a few of them). */
export function topicAttributesXml(topic: string, requestId: string): string {
  const [, , , , account, name] = topic.split(':');
  const attributes: Record<string, string> = {
    TopicArn: topic,
    Owner: account as string,
    DisplayName: '',
    SubscriptionsConfirmed: '1',
    SubscriptionsPending: '0',
    SubscriptionsDeleted: '0',
    ...((name as string).endsWith('.fifo') ? { FifoTopic: 'true' } : {}),
  };
  const entries = Object.entries(attributes)
    .map(([k, v]) => `<entry><key>${k}</key><value>${escapeXml(v)}</value></entry>`)
    .join('');
  return `<GetTopicAttributesResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><GetTopicAttributesResult><Attributes>${entries}</Attributes></GetTopicAttributesResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetTopicAttributesResponse>`;
}
