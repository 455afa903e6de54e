import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { requestHandlerWith } from '../shared/aws/deadlines';
import { DynamoDbStore } from '../shared/store/dynamodb';
import { LocalStore } from '../shared/store/local';
import type { Store } from '../shared/store/store';

/** The default local store: `.elbscope/` in the working directory. */
export const DEFAULT_STORE_DIR = '.elbscope';

/** The store a command reads and writes: a DynamoDB table when `--table` is given, else a local directory. */
export function openStore(flags: { store?: string; table?: string; region?: string }): Store {
  if (flags.table) return new DynamoDbStore(new DynamoDBClient({ ...(flags.region ? { region: flags.region } : {}), requestHandler: requestHandlerWith() }), flags.table);
  return new LocalStore(flags.store ?? DEFAULT_STORE_DIR);
}
