import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { requestHandlerWith } from '../shared/aws/deadlines';
import { systemFailure, UsageError } from '../shared/errors';
import { dynamoDbStore } from '../shared/store/dynamodb';
import { localStore } from '../shared/store/local';
import type { Store } from '../shared/ledger/store';
import { isKmsKey, macPortFor } from '../shared/aws/kms-seal';
import { defaultKeyFile, type MacPort } from '../shared/ledger/seal';

/** The default local store: `.elbscope/` in the working directory. */
const DEFAULT_STORE_DIR = '.elbscope';

/**
 * The store a command reads and writes: a DynamoDB table when `--table` is given,
 * else a local directory. The flags are checked first, each with one clear line:
 * empty values, both at once, a `--store` that is not a directory. A command that
 * writes (`write`) also makes sure the directory can be written now, creating its
 * two top folders without `recursive` (Node's recursive mkdir spins for ever on
 * paths such as `/proc/1/x`).
 */
export function openStore(
  flags: { store?: string; table?: string; region?: string; sealKey?: string },
  options: { write?: boolean; sealKey?: string; env?: NodeJS.ProcessEnv } = {},
): Store {
  if (flags.store !== undefined && flags.store.trim() === '')
    throw new UsageError('--store: empty (give a directory, or leave it out for .elbscope)');
  if (flags.table !== undefined && flags.table.trim() === '') throw new UsageError('--table: empty');
  if (flags.store !== undefined && flags.table !== undefined)
    throw new UsageError('--table cannot be used with --store: give one store');
  let opened: Store | null = null;
  const seal = storeSeal(flags, options, flags.table ? null : (flags.store ?? DEFAULT_STORE_DIR), () => opened);
  if (flags.table)
    return (opened = dynamoDbStore(
      new DynamoDBClient({ ...(flags.region ? { region: flags.region } : {}), requestHandler: requestHandlerWith() }),
      flags.table,
      { seal },
    ));
  const dir = flags.store ?? DEFAULT_STORE_DIR;
  const flag = flags.store === undefined ? `store ${dir}` : `--store ${dir}`;
  const kind = statSync(dir, { throwIfNoEntry: false });
  if (kind && !kind.isDirectory()) throw new UsageError(`${flag}: not a directory`);
  if (options.write) {
    try {
      if (!kind) {
        const parent = statSync(dirname(resolve(dir)), { throwIfNoEntry: false });
        if (!parent?.isDirectory()) throw new UsageError(`${flag}: its parent directory does not exist`);
        mkdirSync(dir);
      }
      for (const top of ['loadbalancers', 'outbox']) {
        if (!statSync(join(dir, top), { throwIfNoEntry: false })?.isDirectory()) mkdirSync(join(dir, top));
      }
    } catch (err) {
      if (err instanceof UsageError) throw err;
      // Read-only, denied, full: the environment's (exit 1), named; a path that cannot be a directory is usage (exit
      // 2).
      const environment = systemFailure(`${flag}: cannot write there`, err);
      if (environment) throw environment;
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`${flag}: cannot write there (${code ?? String(err)})`);
    }
  }
  return (opened = localStore(dir, { seal }));
}

/**
 * The key a command's store is sealed with: `--seal-key`, else ELBSCOPE_SEAL_KEY,
 * else the configuration's `store.sealKey`, else (a local store) the default key
 * file, ~/.config/elbscope/seal.key. A key file inside the store directory is
 * refused (whoever can write the store could read it). A writer creates a missing
 * key file — unless the store already holds sealed records: a new key would make
 * every one of them read as forged, so it says to restore the old one. `verify`
 * and other readers never create one: without it they say they cannot check.
 */
function storeSeal(
  flags: { sealKey?: string; region?: string },
  options: { write?: boolean; sealKey?: string; env?: NodeJS.ProcessEnv },
  dir: string | null,
  store: () => Store | null,
): MacPort {
  const env = options.env ?? process.env;
  if (flags.sealKey !== undefined && flags.sealKey.trim() === '')
    throw new UsageError('--seal-key: empty (give a key file, or a KMS key ARN or alias)');
  const key =
    flags.sealKey ??
    (env.ELBSCOPE_SEAL_KEY || undefined) ??
    options.sealKey ??
    (dir !== null ? defaultKeyFile(env) : null);
  if (key !== null && dir !== null && !isKmsKey(key)) {
    // Through symlinks too: a link outside the store to a key within it (or a store reached by a link) is still within.
    const within = relative(realPath(dir), realPath(key));
    if (within === '' || (!within.startsWith('..') && !isAbsolute(within)))
      throw new UsageError(
        `seal key ${key}: it is inside the store ${dir}; keep it outside (whoever can write the store must not read the key)`,
      );
  }
  const guard = async () =>
    (await (store() as { holdsSeals?: () => Promise<boolean> } | null)?.holdsSeals?.())
      ? 'the store holds records sealed with a key: restore that key file (a new key would make every sealed record read as forged)'
      : null;
  return macPortFor(key, {
    create: options.write ? guard : false,
    ...(flags.region ? { region: flags.region } : {}),
    why: 'seal: no key configured (--seal-key, ELBSCOPE_SEAL_KEY or "store.sealKey"; a DynamoDB table is sealed with its stack\'s KMS key)',
  });
}

/** A path with every symlink resolved; one not there yet: its nearest existing folder's real path, then the rest. */
function realPath(path: string): string {
  const full = resolve(path);
  try {
    return realpathSync(full);
  } catch {
    const parent = dirname(full);
    return parent === full ? full : join(realPath(parent), basename(full));
  }
}
