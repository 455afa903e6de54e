/**
 * What Amazon Q Developer in chat applications (formerly AWS Chatbot) renders as a card from an SNS message: a custom
 * notification. Written from its documentation, independently of shared/alerts/chat.ts, so the lab can say whether
 * what elbscope sends a chat channel would show, or be dropped.
 *
 * Reference [C]: "Custom notifications using Amazon Q Developer in chat applications", Event schema and Parameter
 * details, https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html:
 *   { "version": String, "source": String, "id": String,
 *     "content": { "textType": String, "title": String, "description": String,
 *                  "nextSteps": [ String, ... ], "keywords": [ String, ... ] },
 *     "metadata": { "threadId": String, "summary": String, "eventType": String,
 *                   "relatedResources": [ String, ... ], "additionalContext": { "key": String, ... } } }
 * version: required, "Must be 1.0"; source: required, "Must be custom"; textType: "Only client-markdown textType is
 * currently supported". Size: the page names none beyond SNS's; the chat applications do (Slack Block Kit: header text
 * at most 150 characters, section text at most 3,000), and a custom action reads notification values of at most 1,024
 * characters (Chatbot API, CustomActionAttachment Variables). Stricter reading: a description is required (every
 * sample on the page has one: a card without it shows nothing), and the chat applications' limits are the limits.
 */

const LIMITS = { title: 150, description: 3_000, listItems: 5, contextValue: 1_024 } as const;

const isString = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Null when `text` is a custom notification the chat applications render, else what is wrong with it (one line). */
export function checkCustomNotification(text: string): string | null {
  let n: unknown;
  try {
    n = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (!isObject(n)) return 'not a JSON object';
  if (n.version !== '1.0') return 'version: must be "1.0"';
  if (n.source !== 'custom') return 'source: must be "custom"';
  if (n.id !== undefined && !isString(n.id)) return 'id: not a string';
  const content = n.content;
  if (!isObject(content)) return 'content: missing or not an object';
  if (content.textType !== undefined && content.textType !== 'client-markdown')
    return 'content.textType: only "client-markdown" is supported';
  if (content.title !== undefined && (!isString(content.title) || content.title.length > LIMITS.title))
    return `content.title: not a string of at most ${LIMITS.title} characters`;
  if (!isString(content.description) || content.description.trim() === '')
    return 'content.description: missing or empty';
  if (content.description.length > LIMITS.description)
    return `content.description: ${content.description.length} characters, more than ${LIMITS.description}`;
  for (const list of ['nextSteps', 'keywords'] as const) {
    const v = content[list];
    if (v === undefined) continue;
    if (!Array.isArray(v) || !v.every(isString)) return `content.${list}: not an array of strings`;
    if (v.length > LIMITS.listItems) return `content.${list}: ${v.length} items, more than ${LIMITS.listItems}`;
  }
  const metadata = n.metadata;
  if (metadata === undefined) return null;
  if (!isObject(metadata)) return 'metadata: not an object';
  for (const field of ['threadId', 'summary', 'eventType'] as const)
    if (metadata[field] !== undefined && !isString(metadata[field])) return `metadata.${field}: not a string`;
  const related = metadata.relatedResources;
  if (related !== undefined && (!Array.isArray(related) || !related.every(isString)))
    return 'metadata.relatedResources: not an array of strings';
  const context = metadata.additionalContext;
  if (context !== undefined) {
    if (!isObject(context)) return 'metadata.additionalContext: not an object';
    for (const [key, value] of Object.entries(context))
      if (!isString(value) || value.length > LIMITS.contextValue)
        return `metadata.additionalContext.${key}: not a string of at most ${LIMITS.contextValue} characters`;
  }
  return null;
}
