import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The documented contract of KMS GenerateMac and VerifyMac, as the lab's KMS endpoint enforces it:
 *  [G] AWS KMS API Reference, GenerateMac: https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html
 *  [V] AWS KMS API Reference, VerifyMac: https://docs.aws.amazon.com/kms/latest/APIReference/API_VerifyMac.html
 *  [E] AWS KMS API Reference, Common Errors / each operation's Errors section.
 *  [D] AWS KMS API Reference, DescribeKey: https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html
 *  [K] AWS KMS Developer Guide, HMAC keys: https://docs.aws.amazon.com/kms/latest/developerguide/hmac.html
 * Protocol: AWS JSON 1.1 — POST /, `X-Amz-Target: TrentService.<Operation>`, blobs as base64
 * strings; an error is HTTP 400 with `{"__type": "<Code>", "message": …}` (what the SDK reads).
 */

/** A key the lab's KMS holds. */
export interface LabKmsKey {
  keyId: string;
  arn: string;
  aliases: string[];
  /** [K] HMAC key specs: HMAC_224, HMAC_256, HMAC_384, HMAC_512; anything else is not an HMAC key. */
  keySpec: string;
  /** [K] "The key usage of an HMAC KMS key is GENERATE_VERIFY_MAC." */
  keyUsage: 'GENERATE_VERIFY_MAC' | 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY';
  secret: Buffer;
  enabled: boolean;
  /** [D] KeyMetadata.CreationDate: "The date and time when the KMS key was created" (absent: when the lab made it). */
  createdAt?: Date;
}

/** An answer refused: its HTTP status, the `__type` code, the message. */
export interface KmsRefusal {
  status: number;
  code: string;
  message: string;
}

// [G][V] MacAlgorithm: "Valid Values: HMAC_SHA_224 | HMAC_SHA_256 | HMAC_SHA_384 | HMAC_SHA_512".
const ALGORITHMS: Record<string, { hash: string; spec: string }> = {
  HMAC_SHA_224: { hash: 'sha224', spec: 'HMAC_224' },
  HMAC_SHA_256: { hash: 'sha256', spec: 'HMAC_256' },
  HMAC_SHA_384: { hash: 'sha384', spec: 'HMAC_384' },
  HMAC_SHA_512: { hash: 'sha512', spec: 'HMAC_512' },
};

const refuse = (code: string, message: string): KmsRefusal => ({ status: 400, code, message });
const validation = (message: string) => refuse('ValidationException', `1 validation error detected: ${message}`);

/** A base64 blob of a JSON request, its bytes; null when it is not one. */
function blob(value: unknown): Buffer | null {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return null;
  return Buffer.from(value, 'base64');
}

/** The key a KeyId names: a key id, a key ARN, an alias name (`alias/x`) or an alias ARN. */
function keyFor(keys: LabKmsKey[], keyId: string): LabKmsKey | undefined {
  return keys.find(
    (k) =>
      k.keyId === keyId ||
      k.arn === keyId ||
      k.aliases.includes(keyId) ||
      k.aliases.some((a) => keyId.endsWith(`:${a}`)),
  );
}

/** What a GenerateMac or VerifyMac request carries once it holds to the contract. */
export interface MacRequest {
  key: LabKmsKey;
  algorithm: string;
  message: Buffer;
  mac: Buffer | null;
}

/** Check a GenerateMac or VerifyMac request's body; the request, or the refusal KMS would answer. */
export function checkMacRequest(
  operation: 'GenerateMac' | 'VerifyMac',
  body: unknown,
  keys: LabKmsKey[],
): MacRequest | KmsRefusal {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return refuse('SerializationException', 'the request body is not a JSON object');
  const b = body as Record<string, unknown>;
  // [G][V] KeyId: "Required: Yes", "Length Constraints: Minimum length of 1. Maximum length of 2048."
  if (typeof b.KeyId !== 'string' || b.KeyId.length < 1 || b.KeyId.length > 2048)
    return validation("Value at 'keyId' failed to satisfy constraint: Member must have length between 1 and 2048");
  // [G][V] Message: "Required: Yes"; "Specify a message of up to 4,096 bytes" ("Minimum length of 1. Maximum length of
  // 4096.").
  const message = blob(b.Message);
  if (message === null || message.length < 1 || message.length > 4096)
    return validation("Value at 'message' failed to satisfy constraint: Member must have length between 1 and 4096");
  // [G][V] MacAlgorithm: "Required: Yes", one of the four values.
  const algorithm = typeof b.MacAlgorithm === 'string' ? ALGORITHMS[b.MacAlgorithm] : undefined;
  if (!algorithm)
    return validation(
      `Value '${String(b.MacAlgorithm)}' at 'macAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, HMAC_SHA_512]`,
    );
  // [V] Mac: "Required: Yes", "Length Constraints: Minimum length of 1. Maximum length of 6144."
  let mac: Buffer | null = null;
  if (operation === 'VerifyMac') {
    mac = blob(b.Mac);
    if (mac === null || mac.length < 1 || mac.length > 6144)
      return validation("Value at 'mac' failed to satisfy constraint: Member must have length between 1 and 6144");
  }
  // [E] NotFoundException: "The request was rejected because the specified entity or resource could not be found."
  const key = keyFor(keys, b.KeyId);
  if (!key) return refuse('NotFoundException', `Key '${b.KeyId}' does not exist`);
  // [E] DisabledException: "The request was rejected because the specified KMS key is not enabled."
  if (!key.enabled) return refuse('DisabledException', `${key.arn} is disabled.`);
  // [E] InvalidKeyUsageException: "For generating and verifying message authentication codes (MACs), the KeyUsage must
  // be
  // GENERATE_VERIFY_MAC"; also when the algorithm "is incompatible with the type of key material in the KMS key
  // (KeySpec)"
  // ([K]: an HMAC_256 key supports HMAC_SHA_256 only).
  if (key.keyUsage !== 'GENERATE_VERIFY_MAC')
    return refuse(
      'InvalidKeyUsageException',
      `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`,
    );
  if (algorithm.spec !== key.keySpec)
    return refuse(
      'InvalidKeyUsageException',
      `Algorithm ${String(b.MacAlgorithm)} is incompatible with key spec ${key.keySpec}.`,
    );
  return { key, algorithm: b.MacAlgorithm as string, message, mac };
}

/** The HMAC of a checked request (RFC 2104, as [G] says GenerateMac returns: "the standard, raw HMAC"). */
export function hmacOf(request: MacRequest): Buffer {
  return createHmac(ALGORITHMS[request.algorithm]!.hash, request.key.secret).update(request.message).digest();
}

/**
 * [V] "If the HMAC is not verified, the VerifyMac operation fails with a KMSInvalidMacException exception":
 * a MAC that does not match is an error, never `MacValid: false`.
 */
export function verifyMacAnswer(
  request: MacRequest,
): { KeyId: string; MacValid: true; MacAlgorithm: string } | KmsRefusal {
  const want = hmacOf(request);
  const got = request.mac as Buffer;
  if (got.length !== want.length || !timingSafeEqual(got, want))
    return refuse('KMSInvalidMacException', 'The HMAC verification failed.');
  return { KeyId: request.key.arn, MacValid: true, MacAlgorithm: request.algorithm };
}

/** Whether a value is a refusal. */
export function isRefusal(value: unknown): value is KmsRefusal {
  return typeof value === 'object' && value !== null && 'code' in value && 'status' in value;
}

/**
 * [D] DescribeKey: "Provides detailed information about a KMS key", including "the key ARN, creation date …, the key
 * state"; KeyId "Required: Yes", length 1 to 2048; NotFoundException (HTTP 400) when no key has that id, ARN or alias.
 * A disabled key is described too (its KeyState says so: DescribeKey has no DisabledException).
 * Timestamps in AWS JSON 1.1 are epoch seconds.
 */
export function describeKeyAnswer(
  body: unknown,
  keys: LabKmsKey[],
): { KeyMetadata: Record<string, unknown> } | KmsRefusal {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return refuse('SerializationException', 'the request body is not a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.KeyId !== 'string' || b.KeyId.length < 1 || b.KeyId.length > 2048)
    return validation("Value at 'keyId' failed to satisfy constraint: Member must have length between 1 and 2048");
  const key = keyFor(keys, b.KeyId);
  if (!key) return refuse('NotFoundException', `Key '${b.KeyId}' does not exist`);
  const created = (key.createdAt ??= new Date());
  return {
    KeyMetadata: {
      AWSAccountId: key.arn.split(':')[4],
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: created.getTime() / 1000,
      Enabled: key.enabled,
      KeyState: key.enabled ? 'Enabled' : 'Disabled',
      KeyUsage: key.keyUsage,
      KeySpec: key.keySpec,
      KeyManager: 'CUSTOMER',
      Origin: 'AWS_KMS',
      ...(key.keyUsage === 'GENERATE_VERIFY_MAC'
        ? {
            MacAlgorithms: Object.entries(ALGORITHMS)
              .filter(([, a]) => a.spec === key.keySpec)
              .map(([name]) => name),
          }
        : {}),
    },
  };
}
