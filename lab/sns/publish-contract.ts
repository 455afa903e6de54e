/**
 * The documented contract of SNS Publish, enforced by the lab's SNS endpoint and
 * by the test suite's mocked SNS client, so an alert real SNS would refuse is
 * refused here too. Written from AWS's documentation, independently of the
 * formatting code in shared/alerts (a shared misreading would prove nothing).
 *
 * References (quoted beside each rule):
 *  [P]  Amazon SNS API Reference, Publish:
 *       https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 *  [MA] Amazon SNS Developer Guide, "Amazon SNS message attributes":
 *       https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html
 *  [J]  Publish, Message, "JSON-specific constraints" (MessageStructure json), as the API reference lists them.
 *  [E]  Publish, "Errors": InvalidParameter / InvalidParameterValue (400),
 *       NotFound (404), AuthorizationError (403), KMS* (400), Throttled (429),
 *       InternalError (500).
 * Where AWS's behaviour is uncertain, the stricter reading is coded and says so.
 */

/** A Publish request, as the SDK's PublishCommand input or as decoded from the Query API. */
export interface PublishRequest {
  TopicArn?: string;
  TargetArn?: string;
  PhoneNumber?: string;
  Message?: string;
  Subject?: string;
  MessageStructure?: string;
  MessageAttributes?: Record<string, { DataType?: string; StringValue?: string; BinaryValue?: Uint8Array | string }>;
  MessageDeduplicationId?: string;
  MessageGroupId?: string;
}

/** How SNS refuses a request: its error code, HTTP status and message. */
export interface SnsRefusal {
  code: string;
  status: number;
  message: string;
}

/** What the contract knows about topics beyond the request (the lab's topics). */
export interface TopicFacts {
  /** Topics that exist; when set, any other ARN is NotFound. */
  topics?: ReadonlySet<string>;
  /** FIFO topics with ContentBasedDeduplication on (else a deduplication id is required). */
  contentBasedDeduplication?: ReadonlySet<string>;
}

/** [P] "must be UTF-8 encoded strings and at most 256 KB in size (262,144 bytes, not 262,144 characters)". */
const MAX_MESSAGE_BYTES = 262_144;
/** [MA] raw delivery to SQS carries at most 10 attributes; stricter reading: refuse more at Publish. */
const MAX_ATTRIBUTES = 10;

// [P] Subject: "must be ASCII text that begins with a letter, number, or punctuation
// mark; must not include line breaks or control characters; and must be less than
// 100 characters long".
const SUBJECT = /^[A-Za-z0-9!-/:-@[-`{-~][ -~]{0,98}$/;
// [P] MessageGroupId / MessageDeduplicationId: "up to 128 alphanumeric characters
// (a-z, A-Z, 0-9) and punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)".
const FIFO_ID = /^[A-Za-z0-9!-/:-@[-`{-~]{1,128}$/;
// [MA] Name: "A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) … can be up to 256 characters".
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
// Topic ARN: arn:<partition>:sns:<region>:<12-digit account>:<name>; [P] names are
// "up to 256 characters … alphanumeric characters, hyphens (-), and underscores (_)", FIFO names end ".fifo".
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,251}(\.fifo)?$/;

const invalid = (parameter: string, reason?: string): SnsRefusal => ({
  code: 'InvalidParameter',
  status: 400,
  message: `Invalid parameter: ${parameter}${reason ? ` Reason: ${reason}` : ''}`,
});
// [E] InvalidParameterValue travels as the Query error code `ParameterValueInvalid`
// (the SDK's model: awsQueryError "ParameterValueInvalid", 400).
const invalidValue = (message: string): SnsRefusal => ({ code: 'ParameterValueInvalid', status: 400, message });

/** UTF-8 bytes of a string (lone surrogates counted as the 3-byte replacement they would become). */
function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Check a Publish request against the documented contract; null when SNS would
 * accept it, else the refusal SNS would answer with.
 */
export function checkPublish(req: PublishRequest, facts: TopicFacts = {}): SnsRefusal | null {
  // [P] TopicArn: "If you don't specify a value for the TopicArn parameter, you must specify a value for the
  // PhoneNumber or TargetArn parameters."
  if (!req.TopicArn && !req.TargetArn && !req.PhoneNumber)
    return invalid('TopicArn or TargetArn', 'no value for required parameter');
  if (req.TargetArn || req.PhoneNumber) return invalid('TargetArn', 'the lab serves topics only');
  const topic = req.TopicArn as string;
  if (!TOPIC_ARN.test(topic)) return invalid('TopicArn');
  // [E] NotFound (404): "Indicates that the requested resource does not exist."
  if (facts.topics && !facts.topics.has(topic))
    return { code: 'NotFound', status: 404, message: 'Topic does not exist' };

  // [P] Message is required; [MA] "the message body should not be empty or null".
  if (req.Message === undefined || req.Message === '') return invalid('Message', 'Empty message');
  // [P] "must be UTF-8 encoded strings": a lone surrogate has no UTF-8 encoding.
  if (!req.Message.isWellFormed()) return invalid('Message', 'not valid UTF-8');
  if (req.MessageStructure !== undefined) {
    const refusal = checkMessageStructure(req.MessageStructure, req.Message);
    if (refusal) return refusal;
  }

  if (req.Subject !== undefined && !SUBJECT.test(req.Subject)) return invalid('Subject');

  // [MA] attributes: "Name, type, and value must not be empty or null"; all parts count toward the size limit.
  let total = bytes(req.Message);
  const attributes = Object.entries(req.MessageAttributes ?? {});
  if (attributes.length > MAX_ATTRIBUTES)
    return invalid(
      'MessageAttributes',
      `Number of message attributes [${attributes.length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`,
    );
  for (const [name, value] of attributes) {
    // [MA] "must not start or end with a period (.), and it should not have periods in succession (..)"; "can't start
    // with AWS. or Amazon. (or any casing variants)".
    if (
      !ATTRIBUTE_NAME.test(name) ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      name.includes('..') ||
      /^(aws|amazon)\./i.test(name)
    ) {
      return invalidValue(`The message attribute name '${name}' is invalid.`);
    }
    const type = value.DataType ?? '';
    // [MA] "The supported message attribute data types are String, String.Array, Number, and Binary"; type up to 256
    // bytes.
    if (!/^(String|String\.Array|Number|Binary)$/.test(type))
      return invalidValue(
        `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
      );
    if (type === 'Binary') {
      const binary = value.BinaryValue;
      if (binary === undefined || binary.length === 0)
        return invalidValue(
          `The message attribute '${name}' must contain non-empty message attribute value for message attribute type 'Binary'.`,
        );
      total += bytes(name) + bytes(type) + (typeof binary === 'string' ? bytes(binary) : binary.length);
      continue;
    }
    const text = value.StringValue;
    if (text === undefined || text === '')
      return invalidValue(
        `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${type}'.`,
      );
    // [MA] "For the String data type, the value attribute has the same restrictions on the content as the message
    // body."
    if (!text.isWellFormed())
      return invalidValue(`The message attribute '${name}' has a value that is not valid UTF-8.`);
    if (type === 'Number' && !Number.isFinite(Number(text)))
      return invalidValue(`The message attribute '${name}' with type 'Number' must contain a numeric value.`);
    if (type === 'String.Array') {
      try {
        if (!Array.isArray(JSON.parse(text))) throw new Error('not an array');
      } catch {
        return invalidValue(`The message attribute '${name}' with type 'String.Array' must be a JSON array.`);
      }
    }
    total += bytes(name) + bytes(type) + bytes(text);
  }
  if (total > MAX_MESSAGE_BYTES)
    return invalid('Message', `Message too long: ${total} bytes with attributes; the limit is ${MAX_MESSAGE_BYTES}`);

  const fifo = topic.endsWith('.fifo');
  if (fifo) {
    // [P] MessageGroupId: "This parameter applies only to FIFO … topics … required for FIFO topics".
    if (req.MessageGroupId === undefined)
      return invalid('MessageGroupId', 'The request must contain the parameter MessageGroupId.');
    if (!FIFO_ID.test(req.MessageGroupId)) return invalid('MessageGroupId');
    // [P] "If you don't provide a MessageDeduplicationId and the topic doesn't have ContentBasedDeduplication set, the
    // action fails with an error."
    if (req.MessageDeduplicationId === undefined) {
      if (!facts.contentBasedDeduplication?.has(topic))
        return invalid(
          'MessageDeduplicationId',
          'The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
    } else if (!FIFO_ID.test(req.MessageDeduplicationId)) return invalid('MessageDeduplicationId');
  } else {
    // [P] both ids "apply only to FIFO topics". SNS has since let standard topics carry a group id
    // (for SQS fair queues); stricter reading: a standard topic refuses both.
    if (req.MessageDeduplicationId !== undefined)
      return invalid(
        'MessageDeduplicationId',
        'The request includes MessageDeduplicationId parameter that is not valid for this topic type',
      );
    if (req.MessageGroupId !== undefined)
      return invalid(
        'MessageGroupId',
        'The request includes MessageGroupId parameter that is not valid for this topic type',
      );
  }
  return null;
}

/**
 * The protocols a `MessageStructure: json` key can name: Subscribe's protocols (http, https, email, email-json, sms,
 * sqs, application, lambda, firehose) and the mobile push platforms an `application` endpoint reads its own key from.
 */
const MESSAGE_PROTOCOLS: ReadonlySet<string> = new Set([
  'default',
  'http',
  'https',
  'email',
  'email-json',
  'sms',
  'sqs',
  'application',
  'lambda',
  'firehose',
  'APNS',
  'APNS_SANDBOX',
  'APNS_VOIP',
  'APNS_VOIP_SANDBOX',
  'MACOS',
  'MACOS_SANDBOX',
  'GCM',
  'ADM',
  'BAIDU',
  'MPNS',
  'WNS',
]);

/**
 * The top-level keys of a JSON object text, in order, duplicates kept (JSON.parse keeps the last of a duplicate and
 * says nothing). Assumes `text` parsed as an object; one linear pass.
 */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

/**
 * [P] [J] `MessageStructure`: only `json`, and then the Message must be a JSON object with a string `default`, every
 * protocol's value a string, no key twice. Where [J] has SNS ignore a key (a non-string value: "Non-string values will
 * cause the key to be ignored"; a key no protocol reads: "Keys that do not correspond to supported transport
 * protocols are ignored"), the message it stood for is lost without an error: stricter reading, refused here, so a
 * typo in a protocol's key fails a test instead of silencing a channel.
 */
function checkMessageStructure(structure: string, message: string): SnsRefusal | null {
  // [P] "Valid value: json".
  if (structure !== 'json') return invalid('MessageStructure');
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return invalid('Message', 'Message Structure - JSON message body failed to parse');
  }
  // [P] "be a syntactically valid JSON object".
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return invalid('Message', 'Message Structure - JSON message body failed to parse');
  // [P] "contain at least a top-level JSON key of "default" with a value that is a string".
  if (typeof (parsed as { default?: unknown }).default !== 'string')
    return invalid('Message', 'Message Structure - No default entry in JSON message body');
  // [J] "Duplicate keys are not allowed."
  const keys = topLevelKeys(message);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) return invalid('Message', `Message Structure - duplicate key ${JSON.stringify(key)}`);
    seen.add(key);
  }
  for (const [key, value] of Object.entries(parsed)) {
    if (!MESSAGE_PROTOCOLS.has(key))
      return invalid('Message', `Message Structure - ${JSON.stringify(key)} is not a transport protocol`);
    // [J] "Keys in the JSON object that correspond to supported transport protocols must have simple JSON string
    // values." ("Values have a minimum length of 0": an empty string is allowed.)
    if (typeof value !== 'string')
      return invalid('Message', `Message Structure - the value of ${JSON.stringify(key)} is not a string`);
    // [P] "messages must be UTF-8 encoded strings": a value's escapes may spell a lone surrogate.
    if (!value.isWellFormed()) return invalid('Message', `Message Structure - ${JSON.stringify(key)} is not UTF-8`);
  }
  return null;
}

/** Decode a Query-API Publish request (`MessageAttributes.entry.N.*`) into the SDK's input shape. */
export function publishFromQuery(params: URLSearchParams): PublishRequest {
  const get = (k: string) => params.get(k) ?? undefined;
  const attributes: NonNullable<PublishRequest['MessageAttributes']> = {};
  for (let i = 1; params.has(`MessageAttributes.entry.${i}.Name`); i++) {
    const p = `MessageAttributes.entry.${i}`;
    attributes[params.get(`${p}.Name`) as string] = {
      DataType: get(`${p}.Value.DataType`),
      StringValue: get(`${p}.Value.StringValue`),
      BinaryValue: get(`${p}.Value.BinaryValue`),
    };
  }
  return {
    TopicArn: get('TopicArn'),
    TargetArn: get('TargetArn'),
    PhoneNumber: get('PhoneNumber'),
    Message: get('Message'),
    Subject: get('Subject'),
    MessageStructure: get('MessageStructure'),
    MessageAttributes: Object.keys(attributes).length > 0 ? attributes : undefined,
    MessageDeduplicationId: get('MessageDeduplicationId'),
    MessageGroupId: get('MessageGroupId'),
  };
}
