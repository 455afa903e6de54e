import type {
  DeserializeHandler,
  DeserializeHandlerArguments,
  DeserializeHandlerOutput,
  HandlerExecutionContext,
  MetadataBearer,
  MiddlewareStack,
} from '@smithy/types';

/**
 * A list an AWS API always sends, empty or not (`<networkInterfaceSet/>`,
 * `<LoadBalancerDescriptions/>`). When it is missing, the answer was not that
 * API's (an HTML proxy page, an empty 200, another document): an error naming the
 * call, never an empty result that would read as "none".
 */
export function apiList<T>(list: T[] | undefined, call: string, field: string): T[] {
  if (list === undefined) throw new Error(`${call}: the answer has no ${field}: not that API's response`);
  if (!Array.isArray(list)) throw new Error(`${call}: the answer's ${field} is not a list: not that API's response`);
  return list;
}

/**
 * A string member of an answer. The SDK's XML reader hands back whatever the
 * element held: markup inside it (`<DNSName>a<b>c</b></DNSName>`) arrives as an
 * object, an unknown entity (`&az;`) as "". Anything but a non-empty string is an
 * error naming the call and the member, never a value.
 */
export function apiString(value: unknown, call: string, member: string): string {
  if (typeof value !== 'string')
    throw new Error(`${call}: ${member} is ${value === undefined ? 'missing' : 'not text'}: not that API's response`);
  if (value === '') throw new Error(`${call}: ${member} is empty: not that API's response`);
  return value;
}

/**
 * A value from an answer, for an error line: a string quoted and cut at `max`
 * characters, its markup escaped (`\u003c`), so nothing of the answer reaches a
 * log or an alert raw; anything else said by its kind.
 */
export function quoted(value: unknown, max = 64): string {
  if (typeof value === 'string')
    return JSON.stringify(value.slice(0, max)).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
  if (value === undefined) return '(missing)';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return value instanceof Date ? '(an invalid date)' : '(not text)';
}

/**
 * The one description an answer holds of what was asked (by name or ARN): more
 * than one, none, or another load balancer is not the answer (the ELB APIs answer
 * an unknown name or ARN with LoadBalancerNotFound, never an empty list). Names
 * compare case-insensitively: the stricter reading could flag a real answer that
 * spells the name AWS's way.
 */
export function theOneAsked<T>(list: T[], keyOf: (d: T) => unknown, asked: string, call: string, member: string): [T] {
  if (list.length !== 1)
    throw new Error(`${call}: the answer describes ${list.length} load balancers, not the one asked`);
  const key = keyOf(list[0] as T);
  if (typeof key !== 'string' || key.toLowerCase() !== asked.toLowerCase()) {
    throw new Error(`${call}: the answer describes another load balancer (${member} ${quoted(key, 80)})`);
  }
  return [list[0] as T];
}

/** An answer that is not the one asked for: not XML, another document, a DTD. */
class NotTheAnswerError extends Error {
  override name = 'NotTheAnswer';
}

/**
 * The two Query-family protocols elbscope's clients speak:
 * - `query` (ELB 2012-06-01, ELBv2 2015-12-01): "the response is an XML document
 *   whose root element is `<ActionResponse>`, holding `<ActionResult>` and
 *   `<ResponseMetadata>`" (the Query API references' sample responses);
 * - `ec2` (EC2): the root is `<ActionResponse>` too, its members directly inside
 *   it (no Result wrapper), with `<requestId>` (the EC2 API reference's responses).
 */
export type QueryProtocol = 'query' | 'ec2';

/** Entity references XML itself defines; any other needs a DTD, and no AWS answer has one. */
const XML_ENTITIES = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

/**
 * What makes a 2xx body not the answer to `action`, or null when it is one. Never quotes the body beyond an element's
 * name.
 */
function queryAnswerProblem(body: string, action: string, protocol: QueryProtocol): string | null {
  const not = `not a ${action} response`;
  if (body.trim() === '') return `${not}: it is empty`;
  // A DTD can define entities (and expand them, billions of times); AWS sends none.
  if (/<!(DOCTYPE|ENTITY)/i.test(body))
    return `${not}: it carries a DTD (DOCTYPE or ENTITY declarations), which no AWS answer does`;
  // Without a DTD only XML's own entities exist; the SDK reads any other as "" (an AZ of "" is no AZ).
  for (const m of body.matchAll(/&([A-Za-z_][\w.-]*);/g)) {
    if (!XML_ENTITIES.has(m[1] as string))
      return `${not}: it refers to an entity XML does not define (&${(m[1] as string).slice(0, 32)};)`;
  }
  // The prolog: a byte-order mark, an XML declaration, comments and white space.
  const rest = body.replace(/^\uFEFF?(\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*/, '');
  const root = /^<([A-Za-z_][\w.:-]{0,63})[\s/>]/.exec(rest)?.[1];
  if (root === undefined)
    return `${not}: it is not XML${rest.startsWith('{') || rest.startsWith('[') ? ' (JSON?)' : ''}`;
  if (root !== `${action}Response`) return `${not}: its root element is "${root}"`;
  // The SDK reads a Query answer's members from inside <ActionResult> only: without it every member would read as
  // absent.
  if (protocol === 'query' && !new RegExp(`<${action}Result[\\s/>]`).test(rest))
    return `${not}: it has no ${action}Result element`;
  return null;
}

/** The Query action a request asks for (its `Action=` form field), else the command's name. */
function actionOf(args: DeserializeHandlerArguments<object>, context: HandlerExecutionContext): string {
  const body = (args.request as { body?: unknown } | undefined)?.body;
  const asked = typeof body === 'string' ? new URLSearchParams(body).get('Action') : null;
  // An action is a name: letters and digits only (it goes into a pattern and an error line).
  return (asked ?? String(context.commandName ?? '').replace(/Command$/, '')).replace(/[^A-Za-z0-9]/g, '');
}

async function bytesOf(body: unknown): Promise<Uint8Array | null> {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>)
      chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
    return Buffer.concat(chunks);
  }
  return null;
}

/**
 * A deserialize-step middleware that reads a 2xx answer's body before the SDK
 * does and refuses one that is not `<{Action}Response>` (see queryAnswerProblem),
 * then hands the same bytes on. Without it the SDK's Query deserializer reads an
 * HTML page, an empty 200 or another call's answer as an output with no members:
 * "no reservation", "no load balancers". Error answers (3xx-5xx) are the SDK's.
 */
function queryAnswerGuard(protocol: QueryProtocol) {
  return <Output extends object>(
    next: DeserializeHandler<object, Output>,
    context: HandlerExecutionContext,
  ): DeserializeHandler<object, Output> =>
    async (args: DeserializeHandlerArguments<object>): Promise<DeserializeHandlerOutput<Output>> => {
      const result = await next(args);
      const response = result.response as { statusCode?: number; body?: unknown };
      if (typeof response?.statusCode !== 'number' || response.statusCode < 200 || response.statusCode >= 300)
        return result;
      const bytes = await bytesOf(response.body);
      if (bytes === null) return result;
      response.body = bytes; // read once here, read again by the SDK's deserializer
      const problem = queryAnswerProblem(
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
        actionOf(args, context),
        protocol,
      );
      if (problem !== null)
        throw new NotTheAnswerError(`${problem} (HTTP ${response.statusCode}, ${bytes.byteLength} bytes)`);
      return result;
    };
}

/** The guard's name in a client's middleware stack. */
const GUARD = 'elbscopeQueryAnswerGuard';

/**
 * Put the Query answer guard on a client (once; adding it again replaces it): it
 * sits just inside the SDK's deserializer, so it sees the raw answer first.
 */
export function guardQueryAnswers<C extends { middlewareStack: MiddlewareStack<object, MetadataBearer> }>(
  client: C,
  protocol: QueryProtocol,
): C {
  const placement = { relation: 'after', toMiddleware: 'deserializerMiddleware', name: GUARD, override: true } as const;
  client.middlewareStack.addRelativeTo(queryAnswerGuard(protocol) as never, placement);
  return client;
}
