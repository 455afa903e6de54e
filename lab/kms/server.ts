import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeHttp } from '../ports';
import { readBody } from '../http-body';
import {
  checkMacRequest,
  describeKeyAnswer,
  hmacOf,
  isRefusal,
  verifyMacAnswer,
  type KmsRefusal,
  type LabKmsKey,
} from './contract';

/** What the lab's KMS holds and saw. */
export interface KmsState {
  keys: LabKmsKey[];
  /** Each call: its operation, and the error code answered (null: served). */
  calls: { operation: string; error: string | null }[];
  /** Error codes to answer with, one per request, before serving normally (e.g. a throttled or failing KMS). */
  failNext: KmsRefusal[];
}

/** A key as the stack creates it (KeySpec HMAC_256, KeyUsage GENERATE_VERIFY_MAC), in account 123456789012. */
export function labHmacKey(overrides: Partial<LabKmsKey> = {}): LabKmsKey {
  const keyId = randomUUID();
  return {
    keyId,
    arn: `arn:aws:kms:us-east-1:123456789012:key/${keyId}`,
    aliases: [],
    keySpec: 'HMAC_256',
    keyUsage: 'GENERATE_VERIFY_MAC',
    secret: randomBytes(32),
    enabled: true,
    ...overrides,
  };
}

/**
 * A local KMS endpoint (AWS JSON 1.1) serving GenerateMac, VerifyMac and DescribeKey, held to
 * their documented contract (lab/kms/contract.ts). For `AWS_ENDPOINT_URL_KMS` or a
 * client's `endpoint`.
 */
export async function startKmsEndpoint(
  state: KmsState,
  host = '127.0.0.1',
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
    const answer = (status: number, body: unknown, error: string | null) => {
      state.calls.push({ operation, error });
      res
        .writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() })
        .end(JSON.stringify(body));
    };
    const refuse = (r: KmsRefusal) => answer(r.status, { __type: r.code, message: r.message }, r.code);
    if (req.method !== 'POST' || !String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1'))
      return refuse({ status: 400, code: 'UnknownOperationException', message: 'AWS JSON 1.1 POSTs only' });
    if (operation !== 'GenerateMac' && operation !== 'VerifyMac' && operation !== 'DescribeKey')
      return refuse({
        status: 400,
        code: 'UnknownOperationException',
        message: `${target || '(no X-Amz-Target)'} is not served here`,
      });
    const failure = state.failNext.shift();
    if (failure) return refuse(failure);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return refuse({ status: 400, code: 'SerializationException', message: 'the request body is not JSON' });
    }
    if (operation === 'DescribeKey') {
      const described = describeKeyAnswer(body, state.keys);
      return isRefusal(described) ? refuse(described) : answer(200, described, null);
    }
    const request = checkMacRequest(operation, body, state.keys);
    if (isRefusal(request)) return refuse(request);
    if (operation === 'GenerateMac')
      return answer(
        200,
        { KeyId: request.key.arn, Mac: hmacOf(request).toString('base64'), MacAlgorithm: request.algorithm },
        null,
      );
    const verified = verifyMacAnswer(request);
    return isRefusal(verified) ? refuse(verified) : answer(200, verified, null);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, close: () => closeHttp(server) };
}
