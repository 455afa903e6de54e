import type { IncomingMessage } from 'node:http';

/** The whole body of a request to one of the lab's AWS endpoints, as text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
