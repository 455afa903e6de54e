import { describeError, EnvironmentError, systemFailure } from '../shared/errors';

/** SDK errors that say elbscope's request was malformed: a bug, not the environment. */
const REQUEST_BUGS = new Set(['ValidationException', 'SerializationException']);

/**
 * The environment failure `err` is, when the part that met it did not name it (the
 * stores and the commands name theirs): a system failure (full disk, too many open
 * files, denied access, a refused endpoint) by its path or address, an AWS answer
 * refusing the request, or no credentials. Null for anything else: that is a bug.
 */
export function environmentFailureOf(err: unknown): EnvironmentError | null {
  if (err instanceof EnvironmentError) return err;
  const system = systemFailure('', err);
  if (system) return system;
  if (!(err instanceof Error)) return null;
  if (err.name === 'CredentialsProviderError')
    return new EnvironmentError(
      `no AWS credentials were found (${describeError(err)}): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
      err.name,
    );
  if ('$metadata' in err && !REQUEST_BUGS.has(err.name))
    return new EnvironmentError(
      `AWS refused the request (${describeError(err)}): check the credentials, the region and the endpoint`,
      err.name,
    );
  return null;
}
