import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { requestHandlerWith } from '../shared/aws/deadlines';
import { UsageError } from '../shared/errors';
import { DynamoDbStore } from '../shared/store/dynamodb';
import { LocalStore } from '../shared/store/local';
import type { Store } from '../shared/store/store';

/** The default local store: `.elbscope/` in the working directory. */
export const DEFAULT_STORE_DIR = '.elbscope';

/**
 * The store a command reads and writes: a DynamoDB table when `--table` is given,
 * else a local directory. The flags are checked first, each with one clear line:
 * empty values, both at once, a `--store` that is not a directory. A command that
 * writes (`write`) also makes sure the directory can be written now, creating its
 * two top folders without `recursive` (Node's recursive mkdir spins for ever on
 * paths such as `/proc/1/x`).
 */
export function openStore(flags: { store?: string; table?: string; region?: string }, options: { write?: boolean } = {}): Store {
  if (flags.store !== undefined && flags.store.trim() === '') throw new UsageError('--store: empty (give a directory, or leave it out for .elbscope)');
  if (flags.table !== undefined && flags.table.trim() === '') throw new UsageError('--table: empty');
  if (flags.store !== undefined && flags.table !== undefined) throw new UsageError('--table cannot be used with --store: give one store');
  if (flags.table) return new DynamoDbStore(new DynamoDBClient({ ...(flags.region ? { region: flags.region } : {}), requestHandler: requestHandlerWith() }), flags.table);
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
      const code = (err as NodeJS.ErrnoException).code;
      if (err instanceof UsageError) throw err;
      throw new UsageError(`${flag}: cannot write there (${code ?? String(err)}${code === 'EACCES' || code === 'EROFS' ? ': permission denied or read-only' : ''})`);
    }
  }
  return new LocalStore(dir);
}
