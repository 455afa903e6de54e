import {
  DescribeKeyCommand,
  GenerateMacCommand,
  type GenerateMacCommandOutput,
  KMSClient,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { describeError } from '../errors';
import { keyFilePort, SealUnavailableError, type KeyFileOptions, type MacPort } from '../ledger/seal';
import { requestHandlerWith } from './deadlines';

/** HMAC-SHA256: what an HMAC_256 key (the stack's) supports, and a 32-byte MAC. */
const ALGORITHM = 'HMAC_SHA_256';
const MAC_BYTES = 32;

/** A KMS client with elbscope's deadlines (AWS_ENDPOINT_URL_KMS applies, as for every client). */
export function kmsClient(region?: string): KMSClient {
  return new KMSClient({ ...(region ? { region } : {}), requestHandler: requestHandlerWith() });
}

/**
 * The seal on AWS: GenerateMac / VerifyMac with an HMAC KMS key (the stack's
 * SealKey, KeySpec HMAC_256, KeyUsage GENERATE_VERIFY_MAC). The key never leaves
 * KMS; each call is billed and takes a round trip, so callers seal digests per
 * commit and wrap this in cachedMacs. A KMS that refuses or cannot be reached is
 * `unknown` for a check (never a verdict) and SealUnavailableError for a seal.
 */
export function kmsMacPort(client: KMSClient, keyId: string): MacPort {
  let problem: string | null = null;
  let created: Promise<string> | null = null;
  const failed = (call: string, err: unknown) => {
    problem = `seal: KMS ${call} with ${keyId} failed (${describeError(err)})`;
    return problem;
  };
  return {
    description: `KMS key ${keyId}`,
    problem: () => problem,
    // The key's start (DescribeKey's KeyMetadata.CreationDate, once per process): a record after it without a seal was
    // stripped or forged, never "before keys". Not known (refused, unreachable): null, asked again next time.
    since: () => {
      created ??= client.send(new DescribeKeyCommand({ KeyId: keyId })).then((answer) => {
        const at = answer.KeyMetadata?.CreationDate;
        if (!(at instanceof Date) || !Number.isFinite(at.getTime()))
          throw new Error('the answer carries no KeyMetadata.CreationDate');
        return at.toISOString();
      });
      return created.catch((err: unknown) => {
        created = null;
        failed('DescribeKey', err);
        return null;
      });
    },
    async mac(data) {
      let answer: GenerateMacCommandOutput;
      try {
        answer = await client.send(
          new GenerateMacCommand({ KeyId: keyId, MacAlgorithm: ALGORITHM, Message: Buffer.from(data, 'utf8') }),
        );
      } catch (err) {
        throw new SealUnavailableError(failed('GenerateMac', err));
      }
      // GenerateMac returns "the standard, raw HMAC defined in RFC 2104": 32 bytes for HMAC_SHA_256.
      const mac = answer.Mac;
      if (
        !(mac instanceof Uint8Array) ||
        mac.length !== MAC_BYTES ||
        (answer.MacAlgorithm !== undefined && answer.MacAlgorithm !== ALGORITHM)
      ) {
        throw new SealUnavailableError(
          failed('GenerateMac', new Error(`the answer carries no ${MAC_BYTES}-byte ${ALGORITHM} Mac`)),
        );
      }
      problem = null;
      return Buffer.from(mac).toString('base64');
    },
    async verify(data, mac) {
      const bytes = Buffer.from(mac, 'base64');
      // Not a MAC this key could have made: no call needed to say so.
      if (bytes.length !== MAC_BYTES || bytes.toString('base64') !== mac) return false;
      try {
        const answer = await client.send(
          new VerifyMacCommand({
            KeyId: keyId,
            MacAlgorithm: ALGORITHM,
            Message: Buffer.from(data, 'utf8'),
            Mac: bytes,
          }),
        );
        // "If the HMAC is not verified, the VerifyMac operation fails with a KMSInvalidMacException": MacValid true is
        // the only yes.
        // (A success does not clear `problem`: checks run side by side, and the audit names the failure it met.)
        if (answer.MacValid === true) return true;
        failed('VerifyMac', new Error('the answer has no MacValid true and no error'));
        return 'unknown';
      } catch (err) {
        if ((err as { name?: unknown }).name === 'KMSInvalidMacException') return false;
        failed('VerifyMac', err);
        return 'unknown';
      }
    },
  };
}

/** A KMS key as a person names it: a key ARN or alias ARN, `alias/NAME`, or a key id. */
const KMS_KEY =
  /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w/-]+|alias\/[\w/-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;

/** Whether a configured seal key names a KMS key (else it is a key file's path). */
export function isKmsKey(key: string): boolean {
  return KMS_KEY.test(key);
}

/**
 * The seal port a configured key names: a KMS key (GenerateMac/VerifyMac), or a
 * key file (created on first use when `create` allows). No key at all: a port that
 * seals nothing and checks nothing (`why`), so the audit says it cannot check seals
 * rather than pass them.
 */
export function macPortFor(
  key: string | null,
  options: { create: KeyFileOptions['create']; region?: string; why?: string },
): MacPort {
  if (key === null)
    return noKey(options.why ?? 'seal: no key configured (ELBSCOPE_SEAL_KEY, --seal-key, or "store.sealKey")');
  return isKmsKey(key) ? kmsMacPort(kmsClient(options.region), key) : keyFilePort(key, { create: options.create });
}

/** A port without a key: every seal fails, every check is unknown. */
function noKey(why: string): MacPort {
  return {
    description: 'seal key (none configured)',
    problem: () => why,
    since: async () => null,
    mac: async () => {
      throw new SealUnavailableError(why);
    },
    verify: async () => 'unknown',
  };
}
