import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeError, EnvironmentError, printable, systemFailure } from '../errors';
import type { RecordKey, Records } from '../ledger/records';

/**
 * What a DynamoDB error code means for the store, and what to do. The codes are the
 * DynamoDB API Reference's "Common Errors" and each operation's "Errors"; the SDK
 * names a modeled one `<Code>` or `<Code>Exception`. A ValidationException is not
 * here: it says elbscope sent a malformed request, which is a bug.
 */
const DYNAMODB_FAILURES: Readonly<Record<string, string>> = {
  ResourceNotFound:
    'not found: create it (the stack creates it on deploy), or check --table and the region (--region, AWS_REGION)',
  AccessDenied: 'access denied: check the credentials and that their policy allows this table',
  UnrecognizedClient: 'the credentials are not recognized: check AWS_PROFILE or the access key',
  InvalidSignature: 'the request signature was refused: check the secret key and the clock',
  MissingAuthenticationToken: 'no credentials were sent: set AWS_PROFILE or an access key',
  ExpiredToken: 'the credentials have expired: renew them',
  IncompleteSignature: 'the request signature was refused: check the credentials',
  ProvisionedThroughputExceeded: 'throttled (its provisioned throughput): tried again on the next write',
  Throttling: 'throttled: tried again on the next write',
  RequestLimitExceeded: "throttled (the account's request limit): tried again on the next write",
  LimitExceeded: "an account limit was reached: see the table's quotas",
  InternalServerError: 'DynamoDB failed (a 5xx): tried again on the next write',
  ServiceUnavailable: 'DynamoDB is unavailable (a 503): tried again on the next write',
  CredentialsProviderError:
    'no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
  TimeoutError: 'DynamoDB did not answer in time: check the endpoint and the network',
};

/**
 * The named error for `err` met by the store `part` (its description: "local store
 * .elbscope", "DynamoDB table elbscope") at `at` (the record's place): a system failure (full disk, too many open
 * files, denied access, a refused endpoint) or a DynamoDB error of the environment.
 * Anything else (a record that does not parse, a conflict, a bug) is `err` as it is.
 */
export function storeFailure(part: string, err: unknown, at?: string): unknown {
  const system = systemFailure(part, err, at) ?? systemFailure(part, (err as { cause?: unknown } | null)?.cause, at);
  if (system) return system;
  if (!(err instanceof Error)) return err;
  const name = err.name.endsWith('Exception') ? err.name.slice(0, -'Exception'.length) : err.name;
  const meaning = Object.hasOwn(DYNAMODB_FAILURES, name) ? DYNAMODB_FAILURES[name] : null;
  if (meaning) {
    const [what, todo] = meaning.split(/: (.*)/s);
    return new EnvironmentError(printable(`${part}: ${what} (${describeError(err)}): ${todo}`), name);
  }
  // Any other answer of the service's own failing (a 5xx): the environment's, tried again later.
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if ((err as { $fault?: string }).$fault === 'server' || (status !== undefined && status >= 500)) {
    return new EnvironmentError(
      printable(`${part}: the service failed (${describeError(err)}): tried again on the next write`),
      name,
    );
  }
  return err;
}

/**
 * Node's recursive mkdir says ENOENT where the file system is read-only (or denies
 * access) on the way: ask again without `recursive`, from the path up, for the real
 * error (at most a few levels: the store's folders are shallow). `err` when there is
 * nothing truer to say.
 */
async function trueMkdirFailure(err: unknown): Promise<unknown> {
  const { code, syscall, path } = (err ?? {}) as NodeJS.ErrnoException;
  if (code !== 'ENOENT' || syscall !== 'mkdir' || typeof path !== 'string') return err;
  for (let dir = path, level = 0; level < 4 && dirname(dir) !== dir; dir = dirname(dir), level++) {
    const found = await mkdir(dir).then(
      () => null,
      (e: unknown) => e,
    );
    const again = (found as NodeJS.ErrnoException | null)?.code;
    if (found !== null && again !== 'ENOENT' && again !== 'EEXIST') return found;
    if (found === null || again === 'EEXIST') break;
  }
  return err;
}

/**
 * `records` with every failure of the environment named (storeFailure), whatever
 * method met it: the ledger and everything above it see one EnvironmentError
 * naming the store, the path or table, and what to do, never a bare `EMFILE` or
 * `ResourceNotFoundException`. Methods added to Records later are covered as well.
 */
export function withNamedFailures<R extends Records & { locate?(key: RecordKey): string }>(records: R): R {
  const part = records.description;
  /** The record a call is about, when its first argument is a key (a write's error may name no file). */
  const placeOf = (args: unknown[]): string | undefined => {
    const key = args[0] as Partial<RecordKey> | undefined;
    return typeof key === 'object' && key !== null && typeof key.kind === 'string' && typeof key.id === 'string'
      ? records.locate?.(key as RecordKey)
      : undefined;
  };
  return new Proxy(records, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'locate') return value;
      return (...args: unknown[]) => {
        try {
          const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          return out instanceof Promise
            ? out.catch(async (err: unknown) =>
                Promise.reject(storeFailure(part, await trueMkdirFailure(err), placeOf(args))),
              )
            : out;
        } catch (err) {
          throw storeFailure(part, err, placeOf(args));
        }
      };
    },
  });
}
